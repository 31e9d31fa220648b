import { checkRequirements, installCommand, installPackages } from '../../src/kernel/requirements.js';
import { runCommand } from '../../src/util/process.js';

// The slow tier needs real host tools (kbuild, QEMU). As root, install what is
// missing, as `rebootless doctor --install` would; otherwise say what to run.
export default async function setup(): Promise<void> {
  // `vm run --with-cli` ships dist/: make sure it is built from this source.
  await runCommand('npm', ['run', '--silent', 'build']);
  const report = await checkRequirements();
  if (report.missingPackages.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`slow tests need: ${report.missingPackages.join(' ')}; run as root: ${installCommand(report.missingPackages)}`);
  }
  await installPackages(report.missingPackages, true);
}
