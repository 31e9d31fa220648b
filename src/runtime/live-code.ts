import { readFile } from 'node:fs/promises';
import { parseElf } from '../elf/index.js';
import { RebootlessError } from '../errors/index.js';
import { hostPath, readTextIfAny, type LiveHost } from './host.js';
import { openKernelMemory, type KernelMemory } from './kcore.js';
import type { LivepatchModuleInfo } from './module-file.js';

// Before a patch is loaded: is the code it replaces the code this machine
// runs? Each replaced function is read from /proc/kcore at its /proc/kallsyms
// address and compared with the release's bytes that `build` stored in the
// module (section .rebootless.live_code, read here with this file's own
// reader). Tolerated, exactly: the places the kernel rewrites (listed by the
// module: ftrace's call, alternatives, paravirt, static branches and calls,
// retpolines, return thunks, lock prefixes, sealed ENDBRs), relocated fields
// moved by exactly the KASLR displacement (vmlinux), and the fields the
// module loader fills (modules). Anything else differing means the machine runs
// other code than the release says: the apply is refused.

const SECTION = '.rebootless.live_code';

interface Expected {
  object: string;
  name: string;
  sympos: number;
  address?: string;
  bytes: string;
  relocated: [number, number][];
  rewritten: [number, number, string][];
}

export interface LiveCodeCheck {
  object: string;
  function: string;
  /** matches: the running text is the release's; not-loaded: its module is not loaded (checked by the kernel when it is). */
  result: 'matches' | 'not-loaded';
  /** Places the kernel has rewritten, as the module allows. */
  rewritten: string[];
}

export interface LiveCodeReport {
  /** false: the module carries nothing to compare with (not built by rebootless). */
  available: boolean;
  functions: LiveCodeCheck[];
}

function expectationsOf(bytes: Uint8Array, file: string): Expected[] | undefined {
  const sec = parseElf(bytes, { file }).sections.find((s) => s.name === SECTION);
  if (!sec) return undefined;
  try {
    const doc = JSON.parse(new TextDecoder().decode(sec.data)) as { version: number; functions: Expected[] };
    if (doc.version !== 1 || !Array.isArray(doc.functions)) throw new Error(`version ${String(doc.version)}`);
    return doc.functions;
  } catch (e) {
    throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: `${file} (${SECTION})`, reason: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * The addresses of the symbols named `name` in `object`, in kallsyms order (the order livepatch's
 * sympos counts in). Found by searching the text for the name (kallsyms has a line per symbol of
 * every object: parsing them all would cost more than the check itself).
 */
function kallsymsAddresses(text: string, object: string, name: string): bigint[] {
  const out: bigint[] = [];
  const needle = ` ${name}`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    const end = at + needle.length;
    const next = text[end];
    // the whole name: a line ends after it, or its module follows
    if (next !== '\n' && next !== '\t' && next !== ' ' && next !== undefined) continue;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const lineEnd = text.indexOf('\n', end);
    const [addr, type, sym, mod] = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).split(/\s+/);
    if (!addr || !type || sym !== name) continue;
    if ((mod?.replace(/^\[|\]$/g, '') || 'vmlinux') === object) out.push(BigInt(`0x${addr}`));
  }
  return out;
}

/** Whether kallsyms lists any symbol of a module (a loaded module has a `[name]` tag). */
const moduleListed = (text: string, object: string): boolean => object === 'vmlinux' || text.includes(`\t[${object}]`);

const littleEndian = (b: Uint8Array, at: number, width: number): bigint => {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
};

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex').replace(/(..)(?=.)/g, '$1 ');

async function compare(e: Expected, live: Uint8Array, address: bigint, module: string): Promise<string[]> {
  const want = Buffer.from(e.bytes, 'hex');
  const skip = new Uint8Array(want.length);
  for (const [at, len] of e.rewritten) skip.fill(1, at, at + len);
  const fields = new Map(e.relocated.map(([at, width]) => [at, width]));
  const delta = e.address ? address - BigInt(e.address) : 0n;
  const mismatch = (at: number, why: string): never => {
    throw new RebootlessError('LIVE_CODE_MISMATCH', {
      module,
      object: e.object,
      function: e.name,
      offset: at,
      expected: hex(want.subarray(at, at + 8)),
      running: hex(live.subarray(at, at + 8)),
      why,
    });
  };
  for (let at = 0; at < want.length; ) {
    const width = fields.get(at);
    if (width !== undefined) {
      if (e.object === 'vmlinux' && !skip[at]) {
        const file = littleEndian(want, at, width);
        const running = littleEndian(live, at, width);
        // KASLR moves an absolute address by the kernel's displacement and a PC-relative reach into
        // per-CPU space (zero-based, not moved) by its negation; other fields stay as they are
        const moved = [file, BigInt.asUintN(8 * width, file + delta), BigInt.asUintN(8 * width, file - delta)];
        if (!moved.includes(running)) mismatch(at, `a relocated field holds 0x${running.toString(16)}, the release's 0x${file.toString(16)} (KASLR displacement 0x${BigInt.asUintN(64, delta).toString(16)})`);
      }
      at += width;
      continue;
    }
    if (!skip[at] && want[at] !== live[at]) mismatch(at, 'the bytes differ where the kernel rewrites nothing');
    at++;
  }
  return e.rewritten.filter(([at, len]) => !want.subarray(at, at + len).equals(live.subarray(at, at + len))).map(([at, , why]) => `+0x${at.toString(16)} ${why}`);
}

/** Checks the running text of every function the module replaces; throws LIVE_CODE_MISMATCH. */
export async function checkLiveCode(h: LiveHost, file: string, module: string): Promise<LiveCodeReport> {
  const expected = expectationsOf(await readFile(file), file);
  if (!expected) return { available: false, functions: [] };
  const kallsyms = (await readTextIfAny(hostPath(h, 'proc/kallsyms'))) ?? '';
  let memory: KernelMemory | undefined;
  const functions: LiveCodeCheck[] = [];
  try {
    for (const e of expected) {
      if (!moduleListed(kallsyms, e.object)) {
        functions.push({ object: e.object, function: e.name, result: 'not-loaded', rewritten: [] });
        continue;
      }
      const all = kallsymsAddresses(kallsyms, e.object, e.name);
      const address = e.sympos === 0 ? (all.length === 1 ? all[0] : undefined) : all[e.sympos - 1];
      if (address === undefined) throw new RebootlessError('LIVE_CODE_MISMATCH', { module, object: e.object, function: e.name, offset: 0, expected: `${e.name},${e.sympos}`, running: `${all.length} symbol(s) of that name`, why: 'the running kernel has no such function at that position' });
      if (address === 0n) throw new RebootlessError('LIVE_CODE_UNREADABLE', { path: hostPath(h, 'proc/kallsyms'), reason: 'addresses are hidden (kptr_restrict): run as root' });
      memory ??= await openKernelMemory(hostPath(h, 'proc/kcore'));
      const live = await memory.read(address, e.bytes.length / 2);
      functions.push({ object: e.object, function: e.name, result: 'matches', rewritten: await compare(e, live, address, module) });
    }
  } finally {
    await memory?.close();
  }
  return { available: true, functions };
}

/** The check before loading, and the note that says what it found. */
export async function runPreLive(h: LiveHost, m: LivepatchModuleInfo, skip: boolean): Promise<{ report: LiveCodeReport | null; note: string }> {
  if (skip) return { report: null, note: 'run-pre skipped (--skip-run-pre): the running code was not compared with the release the patch was built for' };
  const report = await checkLiveCode(h, m.file, m.name);
  if (!report.available) return { report, note: 'the module carries no release code to compare with (not built by rebootless): the running code was not checked' };
  const matched = report.functions.filter((f) => f.result === 'matches');
  const rewritten = matched.reduce((n, f) => n + f.rewritten.length, 0);
  const absent = report.functions.length - matched.length;
  return {
    report,
    note:
      `running code checked: ${matched.length} function${matched.length === 1 ? ' is' : 's are'} the release's` +
      (rewritten ? ` (${rewritten} place${rewritten === 1 ? '' : 's'} rewritten by the kernel, as it does)` : '') +
      (absent ? `; ${absent} in modules not loaded (the kernel patches them when they load)` : ''),
  };
}
