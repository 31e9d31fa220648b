import { tempDir } from '../helpers/tmp.js';
import { execFileSync } from 'node:child_process';
import { kbuildVariables } from '../../src/kernel/kbuild-vars.js';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { writeCpio } from '../../src/vm/cpio.js';
import { commandOfWords } from '../../src/vm/run.js';
import { Vm } from '../../src/vm/session.js';
import { finish, runCliProcess, spawnCli } from '../helpers/run-cli.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

let ws: KernelWorkspace;
const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: sharedCache() });
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const qemuPids = (): string[] => {
  try {
    return execFileSync('pgrep', ['-f', 'qemu-system-x86_64']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

beforeAll(async () => {
  ws = await defaultWorkspace();
});

describe('vm run (CLI)', () => {
  it('boots the release and reads /proc/version', async () => {
    const r = await runCliProcess(['vm', 'run', '--kernel', ws.release, '--', 'cat /proc/version'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Linux version ${ws.release}`);
    expect(r.stdout).toContain(ws.debianVersion);
  });

  it("propagates the command's exit status", async () => {
    const r = await runCliProcess(['vm', 'run', '--', 'echo out; echo err >&2; exit 7'], env());
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out\nerr\n');
  });

  it('reports a kernel crash with a console excerpt', async () => {
    const r = await runCliProcess(['vm', 'run', '--json', '--', 'echo c > /proc/sysrq-trigger'], env());
    expect(r.code).toBe(90);
    const err = (JSON.parse(r.stdout) as { error: { code: string; data: { kinds: string[]; excerpt: string } } }).error;
    expect(err.code).toBe('VM_KERNEL_TROUBLE');
    expect(err.data.kinds).toContain('panic');
    expect(err.data.excerpt).toContain('sysrq triggered crash');
    const text = await runCliProcess(['vm', 'run', '--', 'echo c > /proc/sysrq-trigger'], env());
    expect(text.code).toBe(90);
    expect(text.stderr).toMatch(/guest kernel reported trouble \(panic\)[\s\S]*Kernel panic - not syncing/);
  });

  it('fails a run whose kernel warned even though the command succeeded, unless --allow-warn', async () => {
    // an out-of-tree module, built against the release's prepared tree, that warns when loaded
    const dir = tempDir('rb-warn-');
    writeFileSync(path.join(dir, 'warnme.c'), '#include <linux/module.h>\nstatic int __init warnme_init(void) { WARN_ON(1); return 0; }\nmodule_init(warnme_init);\nMODULE_LICENSE("GPL");\n');
    writeFileSync(path.join(dir, 'Kbuild'), 'obj-m := warnme.o\n');
    execFileSync('make', ['-C', ws.sourceTree, `M=${dir}`, ...kbuildVariables(ws), 'modules'], { stdio: 'pipe' });
    const ko = `${dir}/warnme.ko`;
    const r = await runCliProcess(['vm', 'run', '--json', '--file', ko, '--', 'insmod /root/warnme.ko && echo loaded'], env());
    const out = JSON.parse(r.stdout) as { exitCode: number; output: string; trouble: { kind: string }[]; error?: { code: string; data: { excerpt: string } } };
    expect(out.exitCode).toBe(0);
    expect(out.output).toBe('loaded\n');
    expect(out.trouble.map((t) => t.kind)).toContain('warning');
    expect(out.error?.code).toBe('VM_KERNEL_TROUBLE');
    expect(out.error?.data.excerpt).toContain('warnme_init');
    expect(r.code).toBe(90);
    const allowed = await runCliProcess(['vm', 'run', '--allow-warn', '--file', ko, '--', 'insmod /root/warnme.ko && echo loaded'], env());
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe('loaded\n');
  });

  it('kills a hanging command at its timeout and leaves no QEMU behind', async () => {
    const before = qemuPids();
    const r = await runCliProcess(['vm', 'run', '--timeout', '3', '--', 'echo started; sleep 1000'], env());
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('started\n');
    expect(r.stderr).toContain('did not finish within 3s');
    // no QEMU started by this test remains (others, of parallel work, may come and go)
    expect(qemuPids().filter((p) => !before.includes(p))).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)('leaves no QEMU and no work directory behind when the CLI gets %s', async (sig) => {
    const before = qemuPids();
    const workDirs = (pid: number | undefined): string[] =>
      execFileSync('sh', ['-c', `ls -d ${os.tmpdir()}/rebootless-vm-${String(pid)}-* 2>/dev/null || true`]).toString().split('\n').filter(Boolean);
    const child = spawnCli(['vm', 'run', '--', 'echo up; sleep 1000'], env());
    let sent = false;
    let seen = '';
    child.stdout?.on('data', (c: Buffer) => {
      seen += c.toString(); // serial output arrives in small pieces
      if (!sent && seen.includes('up\n')) {
        sent = true;
        child.kill(sig);
      }
    });
    const done = await finish(child);
    expect(sent).toBe(true);
    if (sig !== 'SIGKILL') expect(done.code).toBe(130);
    // the parent-death signal reaches QEMU even when the CLI is killed outright
    for (let i = 0; i < 20 && qemuPids().some((p) => !before.includes(p)); i++) await new Promise((r) => setTimeout(r, 100));
    // no QEMU started by this test remains (others, of parallel work, may come and go)
    expect(qemuPids().filter((p) => !before.includes(p))).toEqual([]);
    // a killed CLI cannot clean up: the next VM start sweeps its directory
    if (sig === 'SIGKILL') await (await Vm.start({ workspace: ws, cacheRoot: sharedCache() })).stop();
    expect(workDirs(child.pid)).toEqual([]);
  });

  it('ships a module with its dependencies so modprobe works', async () => {
    const r = await runCliProcess(['vm', 'run', '--module', 'binfmt_misc', '--', 'modprobe binfmt_misc && grep -c binfmt_misc /proc/modules'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('1');
    const bad = await runCliProcess(['vm', 'run', '--module', 'binfmt_mics', '--', 'true'], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('close names: binfmt_misc');
  });

  it('copies --file into the guest and refuses two files on one guest path', async () => {
    const dir = tempDir('rb-vmfile-');
    writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
    writeFileSync(path.join(dir, 'b.txt'), 'beta\n');
    const r = await runCliProcess(['vm', 'run', '--file', `${dir}/a.txt`, '--file', `${dir}/b.txt:/etc/b`, '--', 'cat /root/a.txt /etc/b'], env());
    expect(r.stdout).toBe('alpha\nbeta\n');
    const clash = await runCliProcess(['vm', 'run', '--file', `${dir}/a.txt:/x`, '--file', `${dir}/b.txt:/x`, '--', 'true'], env());
    expect(clash.code).toBe(64);
    expect(clash.stderr).toContain('two things want guest path /x');
    const init = await runCliProcess(['vm', 'run', '--file', `${dir}/a.txt:/init`, '--', 'true'], env());
    expect(init.code).toBe(64);
  });

  it('runs rebootless itself in the guest with --with-cli', async () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const r = await runCliProcess(['vm', 'run', '--with-cli', '--', 'rebootless --version'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('says to fetch a release that is not in the cache', async () => {
    const r = await runCliProcess(['vm', 'run', '--kernel', '6.1.0-1-cloud-amd64', '--', 'true'], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("rebootless kernel fetch 6.1.0-1-cloud-amd64");
  });
});

describe('vm library API', () => {
  it('keeps state across commands of one session, copies files in, reads dmesg, and stops', async () => {
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    try {
      expect((await vm.run('echo 42 > /tmp/state; sleep 600 & echo $! > /tmp/bg')).exitCode).toBe(0);
      const r = await vm.run('cat /tmp/state; kill -0 $(cat /tmp/bg) && echo bg-alive');
      expect(r.output).toBe('42\nbg-alive\n');
      // `vm run -- sh -c 'exit 7'` and `vm run -- echo "it's"`: several words are an argv, run exactly
      expect((await vm.run(commandOfWords(['sh', '-c', 'exit 7']))).exitCode).toBe(7);
      expect((await vm.run(commandOfWords(['echo', "it's"]))).output).toBe("it's\n");
      const host = path.join(tempDir('rb-copy-'), 'blob');
      const blob = Buffer.alloc(300_000);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) & 0xff;
      writeFileSync(host, blob);
      await vm.copyIn(host, '/tmp/sub/blob', 0o600);
      const sum = execFileSync('md5sum', [host]).toString().split(' ')[0];
      expect((await vm.run('md5sum /tmp/sub/blob; stat -c %a /tmp/sub/blob')).output).toBe(`${sum}  /tmp/sub/blob\n600\n`);
      expect(await vm.dmesg()).toContain('Linux version');
      const streamed: string[] = [];
      await vm.run('for i in 1 2 3; do echo line$i; done', { onOutput: (c) => streamed.push(c) });
      expect(streamed.join('')).toBe('line1\nline2\nline3\n');
    } finally {
      const report = await vm.stop();
      expect(report.trouble).toEqual([]);
    }
    expect(alive(vm.pid)).toBe(false);
    await expect(vm.run('true')).rejects.toMatchObject({ code: 'VM_STOPPED' });
  });

  it('runs two VMs at once', async () => {
    const [a, b] = await Promise.all([Vm.start({ workspace: ws, cacheRoot: sharedCache() }), Vm.start({ workspace: ws, cacheRoot: sharedCache() })]);
    try {
      const [ra, rb] = await Promise.all([a.run('echo a > /tmp/who; cat /tmp/who'), b.run('echo b > /tmp/who; cat /tmp/who')]);
      expect(ra.output).toBe('a\n');
      expect(rb.output).toBe('b\n');
      expect(a.pid).not.toBe(b.pid);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a command timeout kills that QEMU process', async () => {
    const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache() });
    expect(alive(vm.pid)).toBe(true);
    await expect(vm.run('sleep 1000', { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'VM_COMMAND_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(vm.pid)).toBe(false);
  });
});

describe('initramfs', () => {
  it('writes archives that cpio lists back', async () => {
    const dir = tempDir('rb-cpio-');
    const src = path.join(dir, 'src.txt');
    writeFileSync(src, 'hello');
    const out = path.join(dir, 'x.cpio');
    await writeCpio(out, [
      { kind: 'dir', path: '/etc' },
      { kind: 'file', path: '/etc/a', mode: 0o644, data: Buffer.from('abc') },
      { kind: 'hostfile', path: '/etc/b', mode: 0o600, source: src, size: 5 },
      { kind: 'symlink', path: '/etc/c', target: '/etc/a' },
    ]);
    const listing = execFileSync('cpio', ['-itv', '--quiet', '-F', out]).toString();
    expect(listing).toMatch(/drwxr-xr-x.* etc\n/);
    expect(listing).toMatch(/-rw-r--r--.* 3 .* etc\/a\n/);
    expect(listing).toMatch(/-rw-------.* 5 .* etc\/b\n/);
    expect(listing).toMatch(/lrwxrwxrwx.* etc\/c -> \/etc\/a\n/);
  });
});
