import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLivepatch } from '../src/pipeline/index.js';
import { cacheRoot } from '../src/kernel/cache.js';
import { fetchRelease } from '../src/kernel/fetch.js';
import { runCommand } from '../src/util/process.js';
import { formatDuration, silentProgress } from '../src/util/progress.js';
import { Vm } from '../src/vm/session.js';

// Apply latency in the VM (issue 7): from insmod to every task switched, for
// pipe_read with the guest idle and with three `yes | cat` pipelines calling
// it in a loop. Software-emulated CPUs (TCG) make every figure slower than on
// hardware; compare runs with each other, not with a real host.

const RUNS = 5;

interface ApplyJson {
  loadMs: number;
  transitionMs: number;
}

const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${formatDuration(s[Math.floor(s.length / 2)]!)}, min ${formatDuration(s[0]!)}, max ${formatDuration(s.at(-1)!)}`;
};

async function measure(vm: Vm, label: string): Promise<void> {
  const latency: number[] = [];
  const command: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await vm.run('rebootless apply /root/pipe.ko --json 2>/dev/null', { timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`apply failed: ${r.output}`);
    const j = JSON.parse(r.output) as ApplyJson;
    latency.push(j.loadMs + j.transitionMs);
    command.push(r.ms);
    const back = await vm.run('rebootless revert livepatch_bench_pipe >/dev/null 2>&1', { timeoutMs: 120_000 });
    if (back.exitCode !== 0) throw new Error(`revert failed: ${back.output}`);
  }
  console.log(`apply latency, ${label} (load → transition complete, ${RUNS} runs): ${stats(latency)}`);
  console.log(`  whole 'rebootless apply' command incl. Node start-up in the guest: ${stats(command)}`);
}

export async function benchApply(): Promise<void> {
  await runCommand('npx', ['tsc', '-p', 'tsconfig.build.json']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-apply-'));
  try {
    const ws = (await fetchRelease({ cacheRoot: cacheRoot(), progress: silentProgress })).workspace;
    const ko = path.join(dir, 'pipe.ko');
    await buildLivepatch({ workspace: ws, patches: ['test/fixtures/build/pipe-read.patch'], name: 'bench_pipe', output: ko, replace: true, progress: silentProgress });
    const vm = await Vm.start({ workspace: ws, cacheRoot: cacheRoot(), withCli: true });
    try {
      await vm.copyIn(ko, '/root/pipe.ko');
      await measure(vm, 'idle');
      await vm.run('for i in 1 2 3; do (yes 2>/dev/null | cat >/dev/null 2>&1 &); done');
      await measure(vm, 'under load (3 × yes | cat)');
    } finally {
      await vm.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
