// The variables every `make` in a release's tree gets, so that what it
// builds is what Debian built: the release's compiler as CC, and the
// release's name as KERNELRELEASE (Debian builds with it set; without it the
// tree calls itself by its upstream version, e.g. 6.1.190, and regenerates
// UTS_RELEASE and every module's vermagic with that).

export interface KbuildTarget {
  /** e.g. gcc-12 */
  cc: string;
  /** e.g. 6.1.0-54-cloud-amd64 */
  release: string;
}

export const kbuildVariables = (t: KbuildTarget): string[] => [`CC=${t.cc}`, `KERNELRELEASE=${t.release}`];
