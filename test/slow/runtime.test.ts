import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInstructions } from '../../src/arch/x86_64/instructions.js';
import { parseElf } from '../../src/elf/index.js';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { Vm } from '../../src/vm/session.js';
import { runCliProcess } from '../helpers/run-cli.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// apply / revert / predict / status / install on a real kernel: the patches
// are built by `rebootless build`, and rebootless itself runs inside the VM.

const out = mkdtempSync(path.join(os.tmpdir(), 'rb-runtime-'));
const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: sharedCache() });
let ws: KernelWorkspace;
const ko: Record<'cmdline' | 'pipe', string> = { cmdline: '', pipe: '' };

async function build(patch: string, name: string): Promise<string> {
  const file = path.join(out, `${name}.ko`);
  const r = await runCliProcess(['build', patch, '--kernel', ws.release, '--name', name, '--cve', 'CVE-2099-0001', '-o', file], env());
  expect(r.code, r.stderr).toBe(0);
  return file;
}

beforeAll(async () => {
  ws = await defaultWorkspace();
  ko.cmdline = await build('examples/cmdline.patch', 'rt_cmdline');
  ko.pipe = await build('test/fixtures/build/pipe-read.patch', 'rt_pipe');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A VM with rebootless inside and both modules in /root. */
async function withVm(body: (vm: Vm, sh: (cmd: string) => Promise<{ code: number; out: string }>) => Promise<void>): Promise<void> {
  const vm = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), withCli: true });
  try {
    await vm.copyIn(ko.cmdline, '/root/cmdline.ko');
    await vm.copyIn(ko.pipe, '/root/pipe.ko');
    await body(vm, async (cmd) => {
      const r = await vm.run(`cd /root; ${cmd}`, { timeoutMs: 180_000 });
      return { code: r.exitCode, out: r.output };
    });
  } finally {
    const report = await vm.stop();
    expect(report.trouble).toEqual([]);
  }
}

/** An instruction boundary of the function past its ftrace call and outside every place the kernel rewrites: where a kprobe's int3 goes. */
function probeOffset(koFile: string, fn: string): number {
  const file = parseElf(readFileSync(koFile), { file: koFile });
  const doc = JSON.parse(new TextDecoder().decode(file.sections.find((x) => x.name === '.rebootless.live_code')?.data)) as { functions: { name: string; bytes: string; rewritten: [number, number][]; relocated: [number, number][] }[] };
  const e = doc.functions.find((f) => f.name === fn);
  if (!e) throw new Error(`${fn} is not in the module's live code`);
  const busy = [...e.rewritten, ...e.relocated];
  const insn = decodeInstructions(Buffer.from(e.bytes, 'hex'), { text: false }).find((i) => i.offset >= 5 && !busy.some(([a, n]) => i.offset < a + n && a < i.offset + i.length));
  if (!insn) throw new Error(`no place for a probe in ${fn}`);
  return insn.offset;
}

/** JSON on stdout; stderr (the live view) kept in /tmp/err for the caller. */
const jsonOf = <T>(r: { out: string }): T => JSON.parse(r.out) as T;
const livepatches = 'ls /sys/kernel/livepatch | tr "\\n" " "; grep -c "^livepatch_" /proc/modules';

interface StatusJson {
  schema: string;
  release: string;
  taint: { flags: { letter: string }[] };
  patches: { name: string; state: string; enabled: boolean; cves: string[]; liveCode: string | null; description: string; objects: { name: string; functions: { name: string }[] }[] }[];
}

describe('live management in the VM', () => {
  it('apply → status shows it → behaviour changed → revert → behaviour back, sysfs entry and module gone', async () => {
    await withVm(async (_vm, sh) => {
      const before = (await sh('cat /proc/cmdline')).out;
      const apply = await sh('rebootless apply cmdline.ko --json 2>/tmp/err');
      expect(apply.code, apply.out).toBe(0);
      expect(jsonOf<{ outcome: string; name: string }>(apply)).toMatchObject({ outcome: 'applied', name: 'livepatch_rt_cmdline' });
      // the running cmdline_proc_show was read from /proc/kcore and found to be the release's (ftrace's call site rewritten at boot)
      const live = jsonOf<{ liveCode: { available: boolean; functions: { function: string; result: string; rewritten: string[] }[] } }>(apply).liveCode;
      expect(live.available).toBe(true);
      expect(live.functions).toEqual([{ object: 'vmlinux', function: 'cmdline_proc_show', result: 'matches', rewritten: expect.arrayContaining([expect.stringMatching(/^\+0x0 ftrace call$/)]) as unknown }]);

      const status = jsonOf<StatusJson>(await sh('rebootless status livepatch_rt_cmdline --json'));
      expect(status.schema).toBe('rebootless.status/1');
      expect(status.release).toBe(ws.release);
      expect(status.taint.flags.map((f) => f.letter)).toContain('K');
      expect(status.patches).toHaveLength(1);
      expect(status.patches[0]).toMatchObject({ name: 'livepatch_rt_cmdline', state: 'enabled', enabled: true, cves: ['CVE-2099-0001'], liveCode: 'checked' });
      expect(status.patches[0]!.objects).toEqual([{ name: 'vmlinux', patched: true, functions: [{ name: 'cmdline_proc_show', sympos: 1 }] }]);
      expect((await sh('rebootless list')).out).toMatch(/livepatch_rt_cmdline\s+enabled\s+1\s+CVE-2099-0001/);
      expect((await sh('cat /proc/cmdline')).out).toBe(`rebootless-patched ${before}`);

      const again = await sh('rebootless apply cmdline.ko');
      expect(again.code).toBe(1);
      expect(again.out).toMatch(/module livepatch_rt_cmdline is already loaded/);

      const revert = await sh('rebootless revert livepatch_rt_cmdline --json 2>/tmp/err');
      expect(revert.code, revert.out).toBe(0);
      expect(jsonOf<{ outcome: string }>(revert).outcome).toBe('reverted');
      expect((await sh('cat /proc/cmdline')).out).toBe(before);
      expect((await sh(livepatches)).out).toBe('0\n');
      expect(jsonOf<StatusJson>(await sh('rebootless list --json')).patches).toEqual([]);
      const gone = await sh('rebootless revert livepatch_rt_cmdline');
      expect(gone.code).toBe(1);
      expect(gone.out).toMatch(/no live patch or livepatch module named livepatch_rt_cmdline/);
    });
  });

  it('a reader asleep in pipe_read: predict names it, a short timeout reverses the apply, a woken reader lets it complete', async () => {
    await withVm(async (_vm, sh) => {
      // cat sleeps in read() on a FIFO whose writer (sleep) never writes
      await sh('mkfifo /tmp/f; (sleep 100000 > /tmp/f 2>/dev/null &); (cat /tmp/f > /dev/null 2>&1 & echo $! > /tmp/cat.pid)');
      const catPid = Number((await sh('cat /tmp/cat.pid')).out.trim());
      // Under emulation the FIFO's open can take a while: wait until cat really sleeps in the function.
      const asleepIn = async (fn: string): Promise<void> =>
        expect((await sh(`for i in $(seq 100); do grep -q "^\\[<0>\\] ${fn}+" /proc/${catPid}/stack && break; sleep 0.1; done; head -1 /proc/${catPid}/stack`)).out).toMatch(new RegExp(`\\] ${fn}\\+`));
      await asleepIn('pipe_read');

      const predict = await sh('rebootless predict pipe.ko --json');
      expect(predict.code, predict.out).toBe(0);
      const p = jsonOf<{ verdict: string; functions: string[]; blockers: { pid: number; comm: string; frames: string[] }[] }>(predict);
      expect(p.functions).toEqual(['pipe_read']);
      expect(p.verdict).toBe('likely-delayed');
      expect(p.blockers).toEqual([expect.objectContaining({ pid: catPid, comm: 'cat', frames: [expect.stringMatching(/^pipe_read\+0x/)] })]);

      const short = await sh('rebootless apply pipe.ko --timeout 5s');
      expect(short.code, short.out).toBe(75);
      expect(short.out).toMatch(new RegExp(`${catPid} cat \\(sleeping\\)\\n\\s+pipe_read\\+0x[0-9a-f]+/0x[0-9a-f]+  <- patched function\\n\\s+vfs_read`));
      expect(short.out).toMatch(/time is up: reversing the transition of livepatch_rt_pipe/);
      expect(short.out).toMatch(/the kernel is unchanged/);
      expect((await sh(livepatches)).out).toBe('0\n');

      // The same apply without a short bound. The livepatch core wakes blockers with a fake signal 15 s into a
      // transition, and a rebootless process starts in seconds under emulation: so the status is read by the
      // library (the function `status --json` prints) in a node process started and loaded beforehand, told to
      // read the moment apply shows the blocker.
      const reader = [
        "const lib = await import('/opt/rebootless/dist/index.js'); const fs = await import('node:fs');",
        "fs.writeFileSync('/tmp/reader.ready', '');",
        "while (!fs.existsSync('/tmp/go')) await new Promise((r) => setTimeout(r, 20));",
        "fs.writeFileSync('/tmp/status.json', JSON.stringify(await lib.hostStatus(lib.liveHost())));",
      ].join(' ');
      await sh(`(node --input-type=module -e "${reader}" > /tmp/reader.out 2>&1 &); for i in $(seq 600); do [ -e /tmp/reader.ready ] && break; sleep 0.1; done`);
      await sh('(rebootless apply pipe.ko --json > /tmp/apply.json 2> /tmp/apply.err; echo $? > /tmp/apply.rc) &');
      const shown = await sh(
        'for i in $(seq 300); do grep -q "<- patched function" /tmp/apply.err 2>/dev/null && break; sleep 0.1; done; touch /tmp/go; ' +
          'cat /sys/kernel/livepatch/livepatch_rt_pipe/transition; for i in $(seq 100); do [ -s /tmp/status.json ] && break; sleep 0.1; done; cat /tmp/status.json || cat /tmp/reader.out',
      );
      expect(shown.out.split('\n')[0]).toBe('1');
      const during = JSON.parse(shown.out.slice(shown.out.indexOf('\n') + 1)) as {
        patches: { name: string; state: string; transition: { running: boolean; blockers: { pid: number; comm: string; frames: string[] }[] } }[];
      };
      expect(during.patches.find((p) => p.name === 'livepatch_rt_pipe')).toMatchObject({
        state: 'patching',
        transition: { running: true, blockers: [{ pid: catPid, comm: 'cat', frames: [expect.stringMatching(/^pipe_read\+0x/)] }] },
      });
      const done = await sh('echo wake > /tmp/f; while [ ! -e /tmp/apply.rc ]; do sleep 0.2; done; cat /tmp/apply.rc /tmp/apply.json');
      expect(done.out.split('\n')[0]).toBe('0');
      const applied = JSON.parse(done.out.slice(done.out.indexOf('\n') + 1)) as { outcome: string; blockers: { pid: number; functions: string[] }[] };
      expect(applied.outcome).toBe('applied');
      expect(applied.blockers).toEqual([{ pid: catPid, comm: 'cat', functions: ['pipe_read'] }]);
      expect((await sh('cat /sys/kernel/livepatch/livepatch_rt_pipe/enabled /sys/kernel/livepatch/livepatch_rt_pipe/transition')).out).toBe('1\n0\n');

      // cat went back to sleep, now in the new pipe_read: reverting is held up the other way round.
      await asleepIn('__rebootless_new_pipe_read');
      const stuck = await sh('rebootless revert livepatch_rt_pipe --timeout 5s');
      expect(stuck.code, stuck.out).toBe(75);
      expect(stuck.out).toMatch(/__rebootless_new_pipe_read\+0x[0-9a-f]+\/0x[0-9a-f]+ \[livepatch_rt_pipe\] {2}<- patched function/);
      expect((await sh('cat /sys/kernel/livepatch/livepatch_rt_pipe/enabled /sys/kernel/livepatch/livepatch_rt_pipe/transition')).out).toBe('1\n0\n');
      const revert = await sh(`kill ${catPid}; rebootless revert --all --json 2>/tmp/err`);
      expect(revert.code, revert.out).toBe(0);
      expect(jsonOf<{ reverted: { name: string; outcome: string }[] }>(revert).reverted).toEqual([expect.objectContaining({ name: 'livepatch_rt_pipe', outcome: 'reverted' })]);
      expect((await sh(livepatches)).out).toBe('0\n');
    });
  });

  it('under load (readers and writers hammering pipe_read) apply and revert complete and the console stays clean', async () => {
    await withVm(async (_vm, sh) => {
      await sh('for i in 1 2 3; do (yes 2>/dev/null | cat > /dev/null 2>&1 &); done; sleep 1');
      expect(Number((await sh('pidof yes | wc -w')).out.trim())).toBe(3);
      const apply = await sh('rebootless apply pipe.ko --json 2>/tmp/err');
      expect(apply.code, apply.out).toBe(0);
      expect(jsonOf<{ outcome: string }>(apply).outcome).toBe('applied');
      const revert = await sh('rebootless revert livepatch_rt_pipe --json 2>/tmp/err');
      expect(revert.code, revert.out).toBe(0);
      await sh('kill $(pidof yes) 2>/dev/null; true');
      expect((await sh(livepatches)).out).toBe('0\n');
    });
  });

  it('a kprobe inside the replaced function: the running code is not the release\'s, predict says so and apply refuses; without it apply succeeds', async () => {
    const at = probeOffset(ko.cmdline, 'cmdline_proc_show');
    await withVm(async (_vm, sh) => {
      const before = (await sh('cat /proc/cmdline')).out;
      const probe = await sh(`echo 'p:rbl/probe cmdline_proc_show+${at}' > /sys/kernel/tracing/kprobe_events && echo 1 > /sys/kernel/tracing/events/rbl/probe/enable && cat /proc/cmdline >/dev/null && grep -c cmdline_proc_show /sys/kernel/debug/kprobes/list`);
      expect(probe.code, probe.out).toBe(0);
      const predicted = jsonOf<{ liveCode: { verdict: string; note: string } }>(await sh('rebootless predict cmdline.ko --json'));
      expect(predicted.liveCode.verdict).toBe('differs');
      const refused = await sh('rebootless apply cmdline.ko 2>&1');
      expect(refused.code, refused.out).toBe(2);
      expect(refused.out).toContain(`vmlinux:cmdline_proc_show+0x${at.toString(16)}: this machine runs other code than the release`);
      expect((await sh(`${livepatches}; cat /proc/cmdline`)).out).toBe(`0\n${before}`);

      await sh('echo 0 > /sys/kernel/tracing/events/rbl/probe/enable; echo > /sys/kernel/tracing/kprobe_events');
      const apply = await sh('rebootless apply cmdline.ko --json 2>/tmp/err');
      expect(apply.code, apply.out).toBe(0);
      expect((await sh('cat /proc/cmdline')).out).toBe(`rebootless-patched ${before}`);
      expect((await sh('rebootless revert livepatch_rt_cmdline')).code).toBe(0);
    });
  });

  it('install writes a boot unit whose command loads the patch; uninstall removes it', async () => {
    await withVm(async (_vm, sh) => {
      const before = (await sh('cat /proc/cmdline')).out;
      const install = await sh('rebootless install cmdline.ko --json');
      expect(install.code, install.out).toBe(0);
      const r = jsonOf<{ file: string; release: string; order: string[] }>(install);
      expect(r.file).toBe(`/var/lib/rebootless/${ws.release}/livepatch_rt_cmdline.ko`);
      expect(r.order).toEqual(['livepatch_rt_cmdline']);
      expect((await sh(`cmp cmdline.ko ${r.file} && readlink /etc/systemd/system/multi-user.target.wants/rebootless.service`)).out).toBe('/etc/systemd/system/rebootless.service\n');
      const unit = (await sh('cat /etc/systemd/system/rebootless.service')).out;
      expect(unit).toMatch(/^ConditionPathIsDirectory=\/var\/lib\/rebootless\/%v$/m);
      const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
      expect(exec).toMatch(/ load-installed$/);
      expect((await sh('cat /proc/cmdline')).out).toBe(before); // installing does not load

      const boot = await sh(`${exec} 2>&1`);
      expect(boot.code, boot.out).toBe(0);
      expect((await sh('cat /proc/cmdline')).out).toBe(`rebootless-patched ${before}`);
      expect(jsonOf<StatusJson>(await sh('rebootless status --json')).patches[0]).toMatchObject({ name: 'livepatch_rt_cmdline', state: 'enabled', installed: true });
      // a second boot run finds it loaded and leaves it
      expect((await sh(`${exec} 2>&1`)).out).toMatch(/livepatch_rt_cmdline: skipped \(already loaded\)/);

      const un = await sh('rebootless uninstall livepatch_rt_cmdline');
      expect(un.code, un.out).toBe(0);
      expect((await sh('ls /etc/systemd/system/rebootless.service /var/lib/rebootless 2>&1; cat /proc/cmdline')).out).toMatch(/No such file or directory[\s\S]*rebootless-patched/);
      expect((await sh('rebootless revert livepatch_rt_cmdline && cat /proc/cmdline')).out).toMatch(new RegExp(`${before.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    });
  });
});
