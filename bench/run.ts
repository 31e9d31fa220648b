// `npm run bench`: prints figures; nothing here is asserted.
import { benchKernelFetch } from './kernel-fetch.js';
import { benchVm } from './vm.js';
import { benchBuild } from './build.js';
import { benchDemo } from './demo.js';
import { benchCli } from './cli.js';
import { benchDiff, benchKpatchUnits } from './diff.js';
import { benchElf, benchElfFuzz, benchStringTable } from './elf.js';
import { benchApply } from './apply.js';
import { benchKernels } from './kernels.js';
import { benchRunPre } from './run-pre.js';
import { benchHeaders } from './headers.js';

const benches: [string, () => Promise<void>][] = [
  ['kernel fetch', benchKernelFetch],
  ['vm', benchVm],
  ['elf', benchElf],
  ['elf strings', benchStringTable],
  ['elf fuzz', benchElfFuzz],
  ['cli', benchCli],
  ['diff', benchDiff],
  ['diff kpatch-units', benchKpatchUnits],
  ['build', benchBuild],
  ['run-pre', benchRunPre],
  ['headers', benchHeaders],
  ['demo', benchDemo],
  ['apply', benchApply],
  ['kernels', benchKernels],
];
const only = process.argv.slice(2);
for (const [name, run] of benches) {
  if (only.length && !only.some((o) => name.includes(o))) continue;
  console.log(`== ${name}`);
  await run();
}
