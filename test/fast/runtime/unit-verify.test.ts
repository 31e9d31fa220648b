import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderUnit, UNIT_NAME } from '../../../src/runtime/install.js';
import { runCombined } from '../../../src/util/process.js';

// systemd itself is the oracle for the boot unit rebootless install writes.
const analyze = await runCombined('systemd-analyze', ['--version']);

describe.skipIf(analyze.exitCode !== 0)('the boot unit', () => {
  it('passes systemd-analyze verify, with a path that needs quoting', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-unit-'));
    try {
      const script = path.join(dir, 'my cli', '100%$HOME', 'main.js');
      const unit = renderUnit([process.execPath, script, 'load-installed']);
      // systemd would expand %H... and $HOME even inside quotes
      expect(unit).toContain(`ExecStart=${process.execPath} "${script.replace('100%$HOME', () => '100%%$$HOME')}" load-installed`);
      writeFileSync(path.join(dir, UNIT_NAME), unit);
      const r = await runCombined('systemd-analyze', ['verify', '--man=no', path.join(dir, UNIT_NAME)]);
      expect(r.output).toBe('');
      expect(r.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
