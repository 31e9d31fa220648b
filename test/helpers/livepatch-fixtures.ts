import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KERNEL_CFLAGS, elfWorkDir } from './elf-fixtures.js';
import { REPO } from './run-cli.js';

// Livepatch-like modules compiled at test time from test/fixtures/runtime/:
// the kernel's klp_patch/klp_object/klp_func layout and a .modinfo section,
// without a kernel tree. The runtime reads them as it reads a real .ko.

export const FIXTURES = path.join(REPO, 'test/fixtures/runtime');
/** The release the fixtures are built for unless told otherwise (the fake kernel runs it too). */
export const RELEASE = '6.1.0-57-cloud-amd64';

const compiled = new Map<string, string>();

function compile(source: string, out: string, defines: Record<string, string>): string {
  const cached = compiled.get(out);
  if (cached) return cached;
  const obj = `${out}.o`;
  const flags = Object.entries(defines).map(([k, v]) => `-D${k}=${v}`);
  execFileSync('gcc', ['-c', ...KERNEL_CFLAGS, ...flags, path.join(FIXTURES, source), '-o', obj], { stdio: 'pipe' });
  copyFileSync(obj, out);
  compiled.set(out, out);
  return out;
}

export interface LivepatchFixture {
  /** Module name (modinfo name=); default livepatch_a. */
  name?: string;
  release?: string;
  /** klp_patch.replace; default true. */
  replace?: boolean;
}

/** A livepatch .ko patching vmlinux (pipe_read, cmdline_proc_show sympos 2, meminfo_proc_show) and ext4 (ext4_file_write_iter). */
export function livepatchModule(o: LivepatchFixture = {}): string {
  const name = o.name ?? 'livepatch_a';
  const release = o.release ?? RELEASE;
  const replace = o.replace ?? true;
  const out = path.join(elfWorkDir(), `${name}-${release}-${replace ? 'r' : 's'}`, `${name}.ko`);
  mkdirSync(path.dirname(out), { recursive: true });
  return compile('livepatch.c', out, { NAME: JSON.stringify(name), RELEASE: JSON.stringify(release), REPLACE: replace ? '1' : '0' });
}

/** An ordinary module: .modinfo without livepatch=Y. */
export function plainModule(release = RELEASE): string {
  return compile('plain-module.c', path.join(elfWorkDir(), 'plain_module.ko'), { RELEASE: JSON.stringify(release) });
}

/** A copy of `file` with a module signature trailer appended (as scripts/sign-file leaves it). */
export function signedCopy(file: string): string {
  const out = file.replace(/\.ko$/, '.signed.ko');
  writeFileSync(out, Buffer.concat([readFileSync(file), Buffer.from('fake signature bytes'), Buffer.from('~Module signature appended~\n')]));
  return out;
}

/** A kpatch-built module: no klp tables in the file, only `.kpatch.funcs`. */
export function kpatchModule(): string {
  return compile('kpatch-module.c', path.join(elfWorkDir(), 'kpatch_fix.ko'), {});
}
