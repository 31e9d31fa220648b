import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConsoleScanner, scanConsole } from '../../../src/vm/console-scan.js';

const panic = readFileSync('test/fixtures/console/sysrq-panic.txt', 'utf8');
const warning = readFileSync('test/fixtures/console/warning.txt', 'utf8');

describe('console scanner', () => {
  it('finds a panic once, its Call Trace being part of it', () => {
    const t = scanConsole(panic);
    expect(t.map((x) => x.kind)).toEqual(['panic']);
    expect(t[0]?.text).toContain('sysrq triggered crash');
  });

  it('finds a WARNING', () => {
    const s = new ConsoleScanner();
    s.push(warning);
    s.end();
    expect(s.found.map((x) => x.kind)).toEqual(['warning']);
  });

  it('reports a Call Trace without a headline (a hung task, say) on its own', () => {
    expect(scanConsole('[ 1.0] something odd\n[ 1.1] Call Trace:\n[ 1.2]  foo+0x1/0x2\n').map((x) => x.kind)).toEqual(['call-trace']);
    expect(scanConsole('INFO: task cat:99 blocked for more than 120 seconds.\n').map((x) => x.kind)).toEqual(['hung-task']);
  });

  it.each([
    ['BUG: kernel NULL pointer dereference, address: 0000000000000000', 'bug'],
    ['Oops: 0002 [#1] PREEMPT SMP NOPTI', 'oops'],
    ['kernel BUG at mm/slub.c:400!', 'bug'],
    ['BUG: scheduling while atomic: insmod/99/0x00000002', 'bug'],
    ['livepatch: failed to enable patch \'livepatch_x\'', 'livepatch'],
    ['livepatch: livepatch_x: unable to resolve symbol', 'livepatch'],
  ])('classifies %s', (line, kind) => {
    expect(scanConsole(`[ 1.0] ${line}\n`).map((x) => x.kind)).toEqual([kind]);
  });

  it('ignores a clean boot', () => {
    expect(scanConsole('[ 0.1] Linux version 6.1.0\n[ 1.5] Unstable clock detected, switching default tracing clock to "global"\n[ 2.0] Run /init as init process\n')).toEqual([]);
  });

  it('works on chunks split anywhere and gives an excerpt around the first trouble', () => {
    const s = new ConsoleScanner();
    for (let i = 0; i < panic.length; i += 7) s.push(panic.slice(i, i + 7));
    s.end();
    expect(s.found.map((x) => x.kind)).toEqual(['panic']);
    const ex = s.excerpt(s.found, 1, 3);
    expect(ex.split('\n')).toHaveLength(4);
    expect(ex).toContain('sysrq: Trigger a crash');
  });
});
