import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../src/util/progress.js';

// Issue 14: the main job from nothing — `rebootless demo` as a process with
// an empty cache (fetch the default release, build the example patch, prove
// it in the VM, then the live steps), timed whole and by its report's steps.
// "Proven" is fetch + build + try. Figures only; nothing is asserted.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface DemoJson {
  ms: { fetch: number; build: number; try?: number; live?: number };
}

export async function benchDemo(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const cache = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-demo-'));
  try {
    const t = performance.now();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'demo', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REBOOTLESS_CACHE: cache },
      maxBuffer: 64 * 1024 * 1024,
    });
    const whole = performance.now() - t;
    if (r.status !== 0) throw new Error(`demo failed (${r.status}): ${r.stderr.slice(-2000)}`);
    const ms = (JSON.parse(r.stdout) as DemoJson).ms;
    const proven = ms.fetch + ms.build + (ms.try ?? 0);
    console.log(`demo from an empty cache: ${formatDuration(whole)} as a process; proven in the VM after ${formatDuration(proven)}  [goal ≤ 90s to proven]`);
    console.log(`  kernel fetch ${formatDuration(ms.fetch)}  [goal ≤ 45s]; build ${formatDuration(ms.build)} (the release's first); try ${formatDuration(ms.try ?? 0)}; live steps ${formatDuration(ms.live ?? 0)}`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
