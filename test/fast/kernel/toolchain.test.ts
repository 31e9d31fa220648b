import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RebootlessError } from '../../../src/errors/index.js';
import {
  bindOrder,
  chooseToolchain,
  decideToolchain,
  probeCompilerComment,
  toolchainCommand,
  type Toolchain,
  type ToolchainFacts,
} from '../../../src/kernel/toolchain.js';

const TRIXIE_GCC = 'GCC: (Debian 14.2.0-19) 14.2.0';
const BOOKWORM_GCC = 'GCC: (Debian 12.2.0-14+deb12u1) 12.2.0';
const root: Toolchain = { kind: 'root', root: '/cache/roots/trixie/gcc-14_14.2.0-19/root', suite: 'trixie', binds: ['/tmp', '/cache'] };

// The root's shell script run by the host's sh with mount, mkdir and unshare
// replaced by programs that log their arguments: what would really be run,
// word for word, without needing root or a build root.
const fakes = mkdtempSync(path.join(os.tmpdir(), 'rebootless-toolchain-'));
afterAll(() => rmSync(fakes, { recursive: true, force: true }));
for (const tool of ['mount', 'mkdir', 'unshare']) {
  const f = path.join(fakes, tool);
  writeFileSync(f, `#!/bin/sh\nprintf '%s' ${tool} >> "$LOG"\nfor a; do printf '\\037%s' "$a" >> "$LOG"; done\nprintf '\\036' >> "$LOG"\n`);
  chmodSync(f, 0o755);
}

function runScript(args: string[]): string[][] {
  expect(args.slice(-3, -1)).toEqual(['sh', '-c']);
  const log = path.join(fakes, `log-${Math.random()}`);
  const r = spawnSync('sh', ['-c', args[args.length - 1] as string], { env: { PATH: `${fakes}:/usr/bin:/bin`, LOG: log }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8')
    .split('\x1e')
    .filter(Boolean)
    .map((line) => line.split('\x1f'));
}

describe('toolchainCommand', () => {
  it('runs a host command as it is', () => {
    expect(toolchainCommand({ kind: 'host' }, 'make', ['-C', '/t', 'fs/proc/cmdline.o'], { cwd: '/t' })).toEqual({ file: 'make', args: ['-C', '/t', 'fs/proc/cmdline.o'], cwd: '/t' });
  });

  it('runs a root command in a private mount namespace, chrooted, with /dev, /proc and the binds at their own paths', () => {
    const c = toolchainCommand(root, 'make', ['-C', '/cache/kernels/r/source', 'CC=x86_64-linux-gnu-gcc-14'], { cwd: '/cache/kernels/r/source', userNamespace: false });
    expect(c.file).toBe('unshare');
    expect(c.args.slice(0, 3)).toEqual(['--mount', '--', 'sh']);
    expect(c.cwd).toBe('/cache/kernels/r/source');
    const R = root.kind === 'root' ? root.root : '';
    expect(runScript(c.args)).toEqual([
      ['mount', '--rbind', '/dev', `${R}/dev`],
      ['mount', '--rbind', '/proc', `${R}/proc`],
      ['mkdir', '-p', `${R}/cache`],
      ['mount', '--bind', '/cache', `${R}/cache`],
      ['mkdir', '-p', `${R}/tmp`],
      ['mount', '--bind', '/tmp', `${R}/tmp`],
      ['unshare', `--root=${R}`, '--wd=/cache/kernels/r/source', '--', 'make', '-C', '/cache/kernels/r/source', 'CC=x86_64-linux-gnu-gcc-14'],
    ]);
  });

  it('passes every argument through the shell word for word', () => {
    const nasty = ["it's", 'two words', '$(echo no)', '`x`', 'KCFLAGS=-ffunction-sections -fdata-sections', 'new\nline', '', '*', '\\'];
    const c = toolchainCommand(root, 'A=B', nasty, { cwd: "/tmp/it's here", userNamespace: false });
    const exec = runScript(c.args).at(-1);
    expect(exec).toEqual(['unshare', `--root=${root.kind === 'root' ? root.root : ''}`, "--wd=/tmp/it's here", '--', 'A=B', ...nasty]);
  });

  it('maps the caller to root in a user namespace when asked (a caller that is not root)', () => {
    expect(toolchainCommand(root, 'true', [], { cwd: '/tmp', userNamespace: true }).args.slice(0, 2)).toEqual(['--map-root-user', '--mount']);
  });

  it('refuses a working directory the root cannot see, and a bind of /', () => {
    expect(() => toolchainCommand(root, 'make', [], { cwd: '/home/me/tree' })).toThrow(/not under a directory bound into the build root/);
    expect(() => toolchainCommand(root, 'make', [], { cwd: '/tmpfoo' })).toThrow(/not under/);
    expect(() => toolchainCommand({ ...root, binds: ['/'] } as Toolchain, 'make', [], { cwd: '/tmp' })).toThrow(/would hide the build root/);
  });

  it('mounts parents before children, each once', () => {
    expect(bindOrder(['/var/cache/rebootless/kernels', '/tmp', '/var/cache/rebootless', '/tmp/'])).toEqual(['/tmp', '/var/cache/rebootless', '/var/cache/rebootless/kernels']);
    expect(() => bindOrder(['relative'])).toThrow(/not an absolute path/);
  });
});

describe('which toolchain', () => {
  it('takes the host when its compiler writes exactly what vmlinux records', () => {
    expect(decideToolchain(BOOKWORM_GCC, 'bookworm', BOOKWORM_GCC)).toEqual({ kind: 'host' });
    expect(decideToolchain('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0', 'bookworm-backports', BOOKWORM_GCC)).toEqual({ kind: 'host' });
  });

  it("takes a root of the kernel's suite when the host lacks the compiler or has another build of it", () => {
    expect(decideToolchain(TRIXIE_GCC, 'trixie', null)).toMatchObject({ kind: 'root', suite: 'trixie', compiler: { packageName: 'gcc-14', debianVersion: '14.2.0-19' } });
    // same major version, another Debian build: still not exact
    expect(decideToolchain(BOOKWORM_GCC, 'bookworm', 'GCC: (Debian 12.2.0-14) 12.2.0')).toMatchObject({ kind: 'root', suite: 'bookworm' });
  });

  it('refuses when no root can have the compiler', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof RebootlessError ? e.code : String(e);
      }
      return undefined;
    };
    expect(codeOf(() => decideToolchain('GCC: (GNU) 13.2.1 20230801', 'trixie', null))).toBe('TOOLCHAIN_UNAVAILABLE');
    expect(codeOf(() => decideToolchain(TRIXIE_GCC, undefined, BOOKWORM_GCC))).toBe('TOOLCHAIN_UNAVAILABLE');
  });

  it('leaves a compiler that is not gcc to the build, whose check is exact', () => {
    expect(decideToolchain('Debian clang version 16.0.6 (15)', 'trixie', null)).toEqual({ kind: 'host' });
  });

  function facts(hostComment: string | null): ToolchainFacts & { asked: string[]; roots: string[][] } {
    const asked: string[] = [];
    const roots: string[][] = [];
    return {
      asked,
      roots,
      hostComment: (cc) => (asked.push(cc), Promise.resolve(hostComment)),
      buildRoot: (suite, compiler) => (roots.push([suite, compiler]), Promise.resolve({ root: `/c/roots/${suite}/root`, suite })),
    };
  }

  it("probes the host's gcc of the kernel's major version and makes a root only when it differs", async () => {
    const onHost = facts(BOOKWORM_GCC);
    expect(await chooseToolchain({ compiler: BOOKWORM_GCC, suite: 'bookworm', binds: ['/c', '/tmp'] }, onHost)).toEqual({ kind: 'host' });
    expect(onHost).toMatchObject({ asked: ['gcc-12'], roots: [] });

    const inRoot = facts(null);
    const tc = await chooseToolchain({ compiler: 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0', suite: 'trixie', binds: ['/c', '/tmp'] }, inRoot);
    expect(tc).toEqual({ kind: 'root', root: '/c/roots/trixie/root', suite: 'trixie', binds: ['/c', '/tmp'] });
    expect(inRoot).toMatchObject({ asked: ['gcc-14'], roots: [['trixie', TRIXIE_GCC]] });
  });
});

describe("the host compiler's .comment", () => {
  it('is what gcc writes into an object, and null for a compiler the host does not have', async () => {
    expect(await probeCompilerComment({ kind: 'host' }, 'gcc')).toMatch(/^GCC: \(.+\) \d+\.\d+\.\d+/);
    expect(await probeCompilerComment({ kind: 'host' }, 'gcc-99')).toBeNull();
  });
});
