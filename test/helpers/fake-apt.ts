import { tempDir } from './tmp.js';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// A directory of stand-ins for apt-cache and apt-get that answer from the
// recorded output of each suite family (test/fixtures/apt/madison-FAMILY.txt,
// picked by the family directory APT_CONFIG points into), so fetch logic runs
// without the network. `apt-get update` succeeds unless `update` says
// otherwise; every other apt-get call runs `aptGetScript`. Each call is
// logged to DIR/calls.log as `APT_CONFIG argv…`.

export function fakeAptDir(aptGetScript: string, update = 'exit 0'): string {
  const dir = tempDir('rb-fakeapt-');
  const fixtures = path.resolve('test/fixtures/apt');
  const log = path.join(dir, 'calls.log');
  writeFileSync(
    path.join(dir, 'apt-cache'),
    `#!/bin/sh
echo "$APT_CONFIG apt-cache $*" >> "${log}"
case "$APT_CONFIG" in
  */apt/bookworm-backports/*) madison="${fixtures}/madison-bookworm-backports.txt" ;;
  */apt/trixie/*) madison="${fixtures}/madison-trixie.txt" ;;
  *) madison="${fixtures}/madison-bookworm.txt" ;;
esac
case "$1" in
  pkgnames) cut -d'|' -f1 "$madison" | tr -d ' ' | sort -u | grep "^$2" ;;
  madison) cat "$madison" ;;
  show)
    pkg="\${2%%=*}"; ver="\${2#*=}"
    printf 'Package: %s\\nVersion: %s\\nSize: 1000\\nInstalled-Size: 4\\nFilename: pool/main/l/x/%s_%s_amd64.deb\\n' "$pkg" "$ver" "$pkg" "$ver"
    case "$pkg" in linux-headers-*-cloud-amd64) echo "Depends: linux-kbuild-6.1 (>= $ver)";; esac ;;
esac
`,
  );
  writeFileSync(
    path.join(dir, 'apt-get'),
    `#!/bin/sh
echo "$APT_CONFIG apt-get $*" >> "${log}"
case "$1" in update) ${update} ;; esac
${aptGetScript}
`,
  );
  chmodSync(path.join(dir, 'apt-cache'), 0o755);
  chmodSync(path.join(dir, 'apt-get'), 0o755);
  return dir;
}
