import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliProcess } from './run-cli.js';
import { sharedCache } from './workspace.js';

// The slow tests' two moves: build a patch with the real CLI, and prove a
// module in the VM with `try --json`.

export const buildFixture = (name: string): string => path.resolve('test/fixtures/build', name);

const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: sharedCache() });

export interface Built {
  code: number | null;
  ko: string;
  stdout: string;
  stderr: string;
}

/** A builder writing its modules into a fresh temporary directory (`out`, for the caller to remove). */
export function patchBuilder(prefix: string, release: () => string): { out: string; build: (patch: string, name: string, extra?: string[]) => Promise<Built> } {
  const out = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    out,
    build: async (patch, name, extra = []) => {
      const ko = path.join(out, `${name}.ko`);
      const r = await runCliProcess(['build', patch, '--kernel', release(), '--name', name, '-o', ko, ...extra], env());
      return { code: r.code, ko, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

export interface TryJson {
  ok: boolean;
  steps: { name: string; ok: boolean; output: string }[];
  trouble: unknown[];
}

export interface Tried {
  code: number | null;
  report: TryJson;
  /** The trimmed output of one step (`check-before`, `check-patched`, `check-after` ...). */
  step: (name: string) => string;
}

/** `rebootless try KO --check CHECK --json [extra]` in a VM of the release. */
export async function tryModule(release: string, ko: string, check: string, extra: string[] = []): Promise<Tried> {
  const r = await runCliProcess(['try', ko, '--kernel', release, '--check', check, '--json', ...extra], env());
  const report = JSON.parse(r.stdout) as TryJson;
  // an error before the report (a VM that did not boot or was killed): say what it was, console lines included
  if (!Array.isArray(report.steps)) throw new Error(`try exited ${r.code} without a report:\n${r.stdout}\n${r.stderr}`);
  return { code: r.code, report, step: (n) => report.steps.find((s) => s.name === n)?.output.trim() ?? '' };
}
