import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// A directory of stand-ins for apt-cache and apt-get that answer from the
// recorded bookworm output, so fetch logic runs without the network.

export function fakeAptDir(aptGetScript: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-fakeapt-'));
  const madison = path.resolve('test/fixtures/apt/madison-bookworm.txt');
  writeFileSync(
    path.join(dir, 'apt-cache'),
    `#!/bin/sh
case "$1" in
  pkgnames) cut -d'|' -f1 "${madison}" | tr -d ' ' | sort -u | grep "^$2" ;;
  madison) cat "${madison}" ;;
  show)
    pkg="\${2%%=*}"; ver="\${2#*=}"
    printf 'Package: %s\\nVersion: %s\\nSize: 1000\\nInstalled-Size: 4\\nFilename: pool/main/l/x/%s_%s_amd64.deb\\n' "$pkg" "$ver" "$pkg" "$ver"
    case "$pkg" in linux-headers-*-cloud-amd64) echo "Depends: linux-kbuild-6.1 (>= $ver)";; esac ;;
esac
`,
  );
  writeFileSync(path.join(dir, 'apt-get'), `#!/bin/sh\n${aptGetScript}\n`);
  chmodSync(path.join(dir, 'apt-cache'), 0o755);
  chmodSync(path.join(dir, 'apt-get'), 0o755);
  return dir;
}
