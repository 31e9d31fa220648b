import { checkRequirements, installCommand, installPackages } from '../../src/kernel/requirements.js';

// The slow tier needs real host tools (kbuild, QEMU). As root, install what is
// missing, as `rebootless doctor --install` would; otherwise say what to run.
export default async function setup(): Promise<void> {
  const report = await checkRequirements();
  if (report.missingPackages.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`slow tests need: ${report.missingPackages.join(' ')}; run as root: ${installCommand(report.missingPackages)}`);
  }
  await installPackages(report.missingPackages, true);
}
