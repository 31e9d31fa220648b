import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDuration } from '../src/util/progress.js';

// Issue 14: process start of the CLI for the light commands ≤ 150 ms. Each
// command runs ROUNDS times as a process of its own, as the installed command
// (dist/bin/rebootless.js, the bundle users run; `npm run build` first), the commands taking turns so that load on the machine
// falls on all alike; the figure is the median wall time from spawn to exit,
// with the mean CPU time beside it (less moved by other work on the machine).
// Node's own start (`node -e 0`) is printed as the floor. A second pass loads
// the same commands unbundled (dist/cli/main.js) with a module hook and counts
// what they load: the decoder,
// nano-spawn, kbuild and the pipeline must not be among them. Figures only.

const ROUNDS = 10;
const GOAL_MS = 150;
const BIN = path.resolve('dist/bin/rebootless.js');
const MAIN = path.resolve('dist/cli/main.js');

const COMMANDS: { label: string; args: string[] }[] = [
  { label: '--version', args: ['--version'] },
  { label: 'status --help', args: ['status', '--help'] },
  { label: 'diff --help', args: ['diff', '--help'] },
  { label: 'status --json', args: ['status', '--json'] },
  { label: 'list', args: ['list'] },
  { label: 'kernel list', args: ['kernel', 'list'] },
];
const FLOOR = { label: 'node -e 0 (floor)', args: ['-e', '0'] };

const HEAVY: [string, RegExp][] = [
  ['iced-x86', /node_modules\/iced-x86\//],
  ['nano-spawn', /node_modules\/nano-spawn\//],
  ['kbuild', /\/dist\/kbuild\//],
  ['pipeline', /\/dist\/pipeline\//],
  ['diff', /\/dist\/diff\//],
  ['vm', /\/dist\/vm\//],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const CLOCK_TICKS = 100; // USER_HZ, what /proc reports times in

/** CPU time (user + system) of the children waited for so far, in ms: /proc/self/stat's cutime and cstime (Linux). */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // after the name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

function timeOnce(args: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const cpu = childCpuMs();
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  const wall = performance.now() - t;
  if (r.error) throw r.error;
  return { wall, cpu: childCpuMs() - cpu };
}

interface Figures {
  /** median wall time */
  wall: number;
  /** mean CPU time (user + system): less moved by other load on the machine than the wall time */
  cpu: number;
}

/** Each command's figures over ROUNDS runs, in turns; one warm-up round first. */
function measureAll(env: NodeJS.ProcessEnv): Figures[] {
  const all = [FLOOR, ...COMMANDS.map((c) => ({ ...c, args: [BIN, ...c.args] }))];
  for (const c of all) timeOnce(c.args, env);
  const runs = all.map((): { wall: number; cpu: number }[] => []);
  for (let i = 0; i < ROUNDS; i++) all.forEach((c, k) => runs[k]!.push(timeOnce(c.args, env)));
  return runs.map((r) => ({ wall: median(r.map((x) => x.wall)), cpu: r.reduce((a, x) => a + x.cpu, 0) / r.length }));
}

// Runs in the hooks thread: reports every module file that is loaded.
const HOOKS = `export async function load(url, context, next) { if (url.startsWith('file:')) process._rawDebug('rebootless-bench-module ' + url); return next(url, context); }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

function modulesLoaded(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, ...args], { encoding: 'utf8' });
  return r.stderr.split('\n').flatMap((l) => (l.startsWith('rebootless-bench-module ') ? [l.slice('rebootless-bench-module '.length)] : []));
}

export async function benchCli(): Promise<void> {
  for (const f of [BIN, MAIN]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  const env = { ...process.env };
  const extraCa = env.NODE_EXTRA_CA_CERTS !== undefined;
  const withEnv = measureAll(env);
  const withoutCa = extraCa ? measureAll(Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'))) : undefined;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

  console.log(`process start of the installed command (dist/bin), ${ROUNDS} runs each: median wall time (CPU time, mean)  [goal ≤ ${GOAL_MS}ms]; load average ${load} on ${os.availableParallelism()} CPUs`);
  if (withoutCa) console.log(`  NODE_EXTRA_CA_CERTS is set: node reads that bundle at every start; the second pair of figures is without it`);
  const fig = (f: Figures): string => `${formatDuration(f.wall).padStart(6)} (${formatDuration(f.cpu).padStart(5)})`;
  [FLOOR, ...COMMANDS].forEach((c, k) => {
    const a = withEnv[k]!;
    const b = withoutCa?.[k];
    const verdict = c === FLOOR ? '' : `  ${(b ?? a).wall <= GOAL_MS ? 'meets' : 'over'} the goal`;
    console.log(`  ${c.label.padEnd(20)} ${fig(a)}${b ? `   ${fig(b)}` : ''}${verdict}`);
  });

  for (const c of COMMANDS) {
    const mods = modulesLoaded([MAIN, ...c.args]);
    const heavy = HEAVY.filter(([, re]) => mods.some((m) => re.test(m))).map(([n]) => n);
    console.log(`  ${c.label.padEnd(20)} ${String(mods.length).padStart(3)} modules loaded${heavy.length ? `, among them ${heavy.join(', ')}` : ''}`);
  }
}
