import { promises as fsp } from 'node:fs';

/** The value of one option in a kernel .config text (quotes removed), or undefined. */
export function parseConfigValue(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
  if (!m) return undefined;
  const raw = (m[1] as string).trim();
  return raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\"/g, '"') : raw;
}

export async function readConfigValue(file: string, key: string): Promise<string | undefined> {
  return parseConfigValue(await fsp.readFile(file, 'utf8'), key);
}

/** Every option a .config sets or leaves unset (`# CONFIG_X is not set` → 'n'), by name. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) out.set(set[1] as string, set[2] as string);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) out.set(unset[1] as string, 'n');
  }
  return out;
}

/** How a prepared tree's .config differs from the release's: `CONFIG_X: y → (absent)`, in name order. */
export function configDifferences(release: string, prepared: string): string[] {
  const a = parseConfig(release);
  const b = parseConfig(prepared);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const show = (v: string | undefined): string => v ?? '(absent)';
  return names.filter((n) => (a.get(n) ?? 'n') !== (b.get(n) ?? 'n')).map((n) => `${n}: ${show(a.get(n))} → ${show(b.get(n))}`);
}
