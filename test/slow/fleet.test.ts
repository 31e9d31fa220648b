import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelWorkspace } from '../../src/kernel/manifest.js';
import { patchPackageName } from '../../src/fleet/deb-text.js';
import { Vm } from '../../src/vm/session.js';
import { patchBuilder } from '../helpers/build-and-try.js';
import { REPO, runCliProcess } from '../helpers/run-cli.js';
import { defaultWorkspace, sharedCache } from '../helpers/workspace.js';

// Rolling a patch out to many hosts, on three real Debian guests of the release
// (systemd, apt, SSH): the patch and rebootless itself as Debian packages in a
// signed reprepro repository served from the host, the Ansible role rolling it
// out canary first, a reboot applying it again at boot, `apt remove` reverting
// it, and a broken package stopped on the canary with the others untouched.

const PATCH = 'livepatch_cmdline';
const BROKEN = 'livepatch_broken';
const SUITE = 'bookworm';
const CVE = 'CVE-2099-0042';
const env = (): NodeJS.ProcessEnv => ({ REBOOTLESS_CACHE: sharedCache() });

let ws: KernelWorkspace;
const { out, build } = patchBuilder('rb-fleet-', () => ws.release);
const work = mkdtempSync(path.join(os.tmpdir(), 'rb-fleet-work-'));
const guests: Vm[] = [];
let server: http.Server | undefined;
let port = 0;
let sourcesLine = '';
let keyring = '';
const pkg = patchPackageName;

/** A static file server over the repository (the guests reach the host's loopback as 10.0.2.2). */
function serve(root: string): Promise<number> {
  server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server?.listen(0, '127.0.0.1', () => resolve((server?.address() as { port: number }).port)));
}

async function cli(args: string[]): Promise<string> {
  const r = await runCliProcess(args, env());
  if (r.code !== 0) throw new Error(`rebootless ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** The patch packages, rebootless's own package and the signed repository holding them. */
async function makeRepository(): Promise<void> {
  const good = await build('examples/cmdline.patch', PATCH, ['--cve', CVE]);
  expect(good.code, good.stderr).toBe(0);
  const broken = await build('examples/cmdline.patch', BROKEN);
  expect(broken.code, broken.stderr).toBe(0);
  const debs = path.join(work, 'debs');
  mkdirSync(debs);
  await cli(['package', good.ko, '--version', '1.0', '--out', debs]);
  await cli(['package', '--self', '--out', debs]);
  // a deliberately broken package: a real one whose module is cut short (its postinst cannot install it)
  const bdir = path.join(work, 'broken-deb');
  await cli(['package', broken.ko, '--version', '1.0', '--out', bdir]);
  const bdeb = path.join(bdir, readdirSync(bdir).find((n) => n.endsWith('.deb')) ?? '');
  const unpacked = path.join(work, 'broken-unpacked');
  execFileSync('dpkg-deb', ['-R', bdeb, unpacked]);
  const ko = execFileSync('find', [unpacked, '-name', '*.ko'], { encoding: 'utf8' }).trim();
  writeFileSync(ko, readFileSync(ko).subarray(0, 4096));
  execFileSync('dpkg-deb', ['--root-owner-group', '-b', unpacked, path.join(debs, 'broken.deb')]);

  const gnupg = path.join(work, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  execFileSync('gpg', ['--homedir', gnupg, '--batch', '--passphrase', '', '--quick-gen-key', 'rebootless fleet test <fleet@example.invalid>', 'ed25519', 'sign', 'never'], { stdio: 'ignore' });
  const keyId = /^fpr:+([0-9A-F]+):/m.exec(execFileSync('gpg', ['--homedir', gnupg, '--with-colons', '--list-secret-keys'], { encoding: 'utf8' }))?.[1] ?? '';
  const repo = path.join(work, 'repo');
  const debFiles = readdirSync(debs).map((n) => path.join(debs, n));
  await cli(['repo', 'add', repo, ...debFiles, '--sign-key', keyId, '--gnupg-home', gnupg, '--suite', SUITE]);
  keyring = path.join(repo, 'rebootless-archive.gpg');
  port = await serve(repo);
  sourcesLine = `deb [signed-by=/usr/share/keyrings/rebootless-archive.gpg] http://10.0.2.2:${port}/ ${SUITE} main`;
}

function inventory(): string {
  const line = (vm: Vm, i: number): string =>
    `guest${i + 1} ansible_host=127.0.0.1 ansible_port=${vm.ssh?.port} ansible_user=root ansible_ssh_private_key_file=${vm.ssh?.keyFile}`;
  const file = path.join(work, 'inventory.ini');
  writeFileSync(
    file,
    [
      '[canary]',
      line(guests[0] as Vm, 0),
      '[rest]',
      ...guests.slice(1).map((vm, i) => line(vm, i + 1)),
      '[all:vars]',
      'ansible_python_interpreter=/usr/bin/python3',
      "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes'",
      '',
    ].join('\n'),
  );
  return file;
}

/** ansible-playbook on the roll-out, with the test's repository. */
async function rollout(name: string, extra: string[] = []): Promise<{ code: number; output: string }> {
  const args = [
    '-v',
    '-i',
    inventory(),
    path.join(REPO, 'deploy/ansible/rollout.yml'),
    '-e',
    `rebootless_package=${pkg(name)}`,
    '-e',
    `rebootless_patch=${name}`,
    '-e',
    `rebootless_repo_line='${sourcesLine}'`,
    '-e',
    `rebootless_repo_keyring=${keyring}`,
    ...extra,
  ];
  return run('ansible-playbook', args, { ANSIBLE_ROLES_PATH: path.join(REPO, 'deploy/ansible/roles'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORKS: '3' });
}

/** A host program's exit code and output, whatever it exits with. */
function run(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...extraEnv }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}`, stdout });
    });
  });
}

/** The recap line of a host: ok/changed/failed counts. */
function recap(output: string, host: string): Record<string, number> {
  const line = output.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok=')) ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

const sh = async (vm: Vm, command: string): Promise<string> => {
  const r = await vm.run(command, { timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new Error(`guest: ${command} exited ${r.exitCode}:\n${r.output}`);
  return r.output.trim();
};
const cmdline = (vm: Vm): Promise<string> => sh(vm, 'cut -d" " -f1 /proc/cmdline');
const installedVersion = async (vm: Vm, name: string): Promise<string> => (await vm.run(`dpkg-query -W -f='\${db:Status-Abbrev}' ${pkg(name)} 2>/dev/null`)).output.trim();

beforeAll(async () => {
  ws = await defaultWorkspace();
  // the image first (made once per release), then three guests at once while the packages are made
  const first = await Vm.start({ workspace: ws, cacheRoot: sharedCache(), debian: true, bootTimeoutMs: 600_000 });
  guests.push(first);
  const rest = Promise.all([1, 2].map(() => Vm.start({ workspace: ws, cacheRoot: sharedCache(), debian: true, bootTimeoutMs: 600_000 })));
  await makeRepository();
  guests.push(...(await rest));
}, 1_200_000);

afterAll(async () => {
  await Promise.all(guests.map((vm) => vm.stop()));
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  rmSync(out, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('rolling a live patch out to Debian hosts', () => {
  it('each guest is a Debian system of the release, reachable over SSH, unpatched', async () => {
    for (const vm of guests) {
      expect(await sh(vm, 'uname -r')).toBe(ws.release);
      expect(await sh(vm, '. /etc/os-release; echo $VERSION_CODENAME')).toBe(SUITE);
      expect(await cmdline(vm)).not.toBe('rebootless-patched');
      const r = await run('ssh', vm.sshArgs(`systemctl is-system-running --wait; dpkg-query -W -f='\${Version}\\n' linux-image-${ws.release}`));
      expect(r.stdout.trim()).toMatch(/^(running|degraded)\n\S+$/);
    }
  }, 600_000);

  it('--check reports the change on every host and changes nothing', async () => {
    const r = await rollout(PATCH, ['--check']);
    expect(r.code, r.output).toBe(0);
    for (const h of ['guest1', 'guest2', 'guest3']) expect(recap(r.output, h).changed, r.output).toBeGreaterThan(0);
    expect(r.output).toContain('would be installed');
    for (const vm of guests) {
      expect(await installedVersion(vm, PATCH)).not.toMatch(/^ii/);
      expect(await cmdline(vm)).not.toBe('rebootless-patched');
    }
  }, 600_000);

  it('rolls out to the canary, checks it, then the other two: the patch is live on all three', async () => {
    const r = await rollout(PATCH);
    expect(r.code, r.output).toBe(0);
    // the canary's play ran, and finished, before the others started
    const canaryPlay = r.output.indexOf('PLAY [Canaries]');
    const restPlay = r.output.indexOf('PLAY [The rest, in batches]');
    expect(canaryPlay).toBeGreaterThanOrEqual(0);
    expect(restPlay).toBeGreaterThan(canaryPlay);
    expect(r.output.slice(canaryPlay, restPlay)).toMatch(/guest1/);
    expect(r.output.slice(canaryPlay, restPlay)).not.toMatch(/guest[23]/);
    expect(r.output).toContain(`${PATCH} is live on guest1`);
    for (const h of ['guest1', 'guest2', 'guest3']) expect(recap(r.output, h).failed, r.output).toBe(0);
    for (const vm of guests) {
      expect(await cmdline(vm)).toBe('rebootless-patched');
      expect(await sh(vm, `cat /sys/kernel/livepatch/${PATCH}/enabled /sys/kernel/livepatch/${PATCH}/transition`)).toBe('1\n0');
      expect(await installedVersion(vm, PATCH)).toMatch(/^ii/);
      expect(await sh(vm, 'rebootless installed')).toContain(PATCH);
    }
  }, 900_000);

  it('status --vex on a patched host states the CVE fixed in its running kernel package (OpenVEX schema); an unpatched host states nothing', async () => {
    const raw = await (guests[0] as Vm).run('rebootless status --vex');
    expect(raw.exitCode, raw.output).toBe(0);
    const doc = JSON.parse(await sh(guests[0] as Vm, 'rebootless status --vex 2>/dev/null')) as { statements: { vulnerability: { name: string }; status: string; products: { '@id': string }[]; status_notes: string }[] };
    const ajv = new Ajv2020({ strict: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/openvex/openvex_json_schema.json'), 'utf8')) as object);
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    const version = await sh(guests[0] as Vm, `dpkg-query -W -f='\${Version}' linux-image-${ws.release}`);
    expect(doc.statements.map((x) => [x.vulnerability.name, x.status, x.products[0]?.['@id']])).toEqual([
      [CVE, 'fixed', `pkg:deb/debian/linux-image-${ws.release}@${version}?arch=amd64&distro=debian-12`],
    ]);
    expect(doc.statements[0]?.status_notes).toContain(`live patch ${PATCH}`);
  }, 600_000);

  it('a reboot applies the patch again at boot', async () => {
    const vm = guests[1] as Vm;
    await vm.reboot(600_000);
    await sh(vm, 'systemctl is-system-running --wait >/dev/null || true');
    expect(await sh(vm, 'systemctl is-active rebootless.service')).toBe('active');
    expect(await cmdline(vm)).toBe('rebootless-patched');
    expect(await sh(vm, `cat /sys/kernel/livepatch/${PATCH}/enabled`)).toBe('1');
  }, 900_000);

  it('apt remove reverts it on one host and leaves the others patched', async () => {
    const vm = guests[2] as Vm;
    await sh(vm, `DEBIAN_FRONTEND=noninteractive apt-get remove -y ${pkg(PATCH)}`);
    expect(await cmdline(vm)).not.toBe('rebootless-patched');
    expect(await sh(vm, `test -e /sys/kernel/livepatch/${PATCH} && echo live || echo gone`)).toBe('gone');
    expect(await sh(vm, 'rebootless installed')).not.toContain(PATCH);
    for (const other of guests.slice(0, 2)) expect(await cmdline(other)).toBe('rebootless-patched');
    // nothing live: nothing to claim
    const vex = await vm.run('rebootless status --vex');
    expect(vex.exitCode).toBe(3);
    expect(vex.output).toContain('no live patch');
  }, 600_000);

  it('a broken package fails on the canary, is removed there, and the other hosts are not touched', async () => {
    const r = await rollout(BROKEN);
    expect(r.code, r.output).not.toBe(0);
    expect(recap(r.output, 'guest1').failed, r.output).toBeGreaterThan(0);
    expect(r.output).toContain(`${pkg(BROKEN)} failed on guest1 and was removed there`);
    expect(r.output).not.toContain('PLAY [The rest, in batches]');
    const [canary, ...rest] = guests as [Vm, Vm, Vm];
    expect(await installedVersion(canary, BROKEN)).not.toMatch(/^i/);
    expect(await sh(canary, `test -e /sys/kernel/livepatch/${BROKEN} && echo live || echo gone`)).toBe('gone');
    // the good patch it had is still live, the kernel clean
    expect(await cmdline(canary)).toBe('rebootless-patched');
    const status = JSON.parse(await sh(canary, 'rebootless status --json')) as { taint: { flags: { letter: string }[] }; patches: { name: string }[] };
    expect(status.taint.flags.map((f) => f.letter).filter((l) => 'DWLBM'.includes(l))).toEqual([]);
    expect(status.patches.map((p) => p.name)).toEqual([PATCH]);
    for (const vm of rest) {
      expect(await installedVersion(vm, BROKEN)).toBe('');
      expect(await sh(vm, 'test -e /etc/apt/sources.list.d/rebootless.list && echo has-source || echo none')).toBe('has-source');
    }
    for (const vm of guests) expect(vm.trouble().filter((t) => t.kind !== 'livepatch')).toEqual([]);
  }, 900_000);
});
