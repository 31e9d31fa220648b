import { ElfDiagnostics } from './diagnostics.js';
import type { ElfFile } from './model.js';
import { decodeName, encodeName } from './strtab.js';

// `.modinfo`: NUL-terminated "key=value" strings (license, vermagic, depends,
// livepatch=Y, alias ...), possibly separated by padding NULs. A key may repeat.

export interface ModinfoEntry {
  key: string;
  value: string;
}

export function parseModinfo(data: Uint8Array, file = '<memory>'): ModinfoEntry[] {
  const out: ModinfoEntry[] = [];
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) {
      at++;
      continue;
    }
    const end = data.indexOf(0, at);
    if (end < 0) throw new ElfDiagnostics(file).malformed(`.modinfo entry at offset ${at} is not NUL-terminated`, '.modinfo', at);
    const text = decodeName(data, at, end);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new ElfDiagnostics(file).malformed(`.modinfo entry at offset ${at} is not key=value: ${JSON.stringify(text.slice(0, 60))}`, '.modinfo', at);
    out.push({ key: text.slice(0, eq), value: text.slice(eq + 1) });
    at = end + 1;
  }
  return out;
}

export function serializeModinfo(entries: readonly ModinfoEntry[]): Uint8Array {
  const parts = entries.map((e) => encodeName(`${e.key}=${e.value}`));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

/** The entries of a file's `.modinfo` section, or undefined when it has none. */
export function modinfoOf(file: ElfFile): ModinfoEntry[] | undefined {
  const s = file.sections.find((x) => x.name === '.modinfo');
  return s ? parseModinfo(s.data, file.file) : undefined;
}

export function modinfoValue(entries: readonly ModinfoEntry[], key: string): string | undefined {
  return entries.find((e) => e.key === key)?.value;
}
