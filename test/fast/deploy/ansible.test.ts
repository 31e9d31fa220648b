import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/run-cli.js';
import { tempDir } from '../../helpers/tmp.js';

// The roll-out role parses, and its playbook keeps the order the operator relies on:
// the canary group alone first and fatal on any failure, then the rest in batches.
// (The roll-out itself runs on three Debian guests: test/slow/fleet.test.ts.)

const playbook = path.join(REPO, 'deploy/ansible/rollout.yml');
const env = { ...process.env, ANSIBLE_ROLES_PATH: path.join(REPO, 'deploy/ansible/roles'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False' };

describe('deploy/ansible', () => {
  it('the playbook and its role pass ansible-playbook --syntax-check', () => {
    const out = execFileSync('ansible-playbook', ['--syntax-check', '-i', 'localhost,', playbook], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('playbook: ');
  });

  it('lists the canary group first, then every other host, with the same hosts in each play as the inventory says', () => {
    const inv = 'canary1 ansible_connection=local\nweb1 ansible_connection=local\nweb2 ansible_connection=local\n[canary]\ncanary1\n';
    const file = path.join(tempDir('rbl-ansible-'), 'inventory.ini');
    writeFileSync(file, inv);
    const out = execFileSync('ansible-playbook', ['--list-hosts', '-i', file, playbook], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const plays = out.split(/\n\s*play #\d+/).slice(1);
    expect(plays[0]).toMatch(/Canaries/);
    expect(plays[0]).toMatch(/hosts \(1\):\s+canary1/);
    expect(plays[1]).toMatch(/The rest/);
    expect(plays[1]).toMatch(/hosts \(2\)/);
    expect(plays[1]).not.toContain('canary1');
  });

  it('a failing canary stops the roll-out: both plays are fatal on any error', () => {
    const text = readFileSync(playbook, 'utf8');
    expect(text.match(/any_errors_fatal: true/g)).toHaveLength(2);
    expect(text.match(/max_fail_percentage: 0/g)).toHaveLength(2);
  });
});
