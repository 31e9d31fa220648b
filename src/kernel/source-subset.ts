// What `kernel fetch` leaves out of the release's source tree: files an x86
// build never reads. Writing the tree is most of the fetch (file creation,
// not bytes: 80,000 files), and these are a third of them: the documentation's
// text and the other architectures' code. Their Kconfig files and Makefiles stay
// (crypto/Kconfig sources every architecture's), so Kconfig sees the tree it
// always sees; fetch checks the .config it makes against the release's anyway.

/** Architectures other than x86 that any 4.x–6.x kernel has had. */
const OTHER_ARCHES = [
  'alpha', 'arc', 'arm', 'arm64', 'c6x', 'csky', 'h8300', 'hexagon', 'ia64', 'loongarch', 'm68k', 'microblaze', 'mips', 'nds32',
  'nios2', 'openrisc', 'parisc', 'powerpc', 'riscv', 's390', 'sh', 'sparc', 'um', 'unicore32', 'xtensa',
];
/** Code and device trees under another architecture. */
const ARCH_KINDS = ['*.c', '*.h', '*.S', '*.dts', '*.dtsi', '*_defconfig'];
/** The documentation's text (its Kconfig and Makefile stay). */
const DOC_KINDS = ['*.rst', '*.txt', '*.yaml', '*.svg'];

/** Tar patterns, anchored at the archive's top folder (`linux-source-6.1`), for what is left out. */
export function sourceExcludes(top: string): string[] {
  return [
    ...OTHER_ARCHES.flatMap((a) => ARCH_KINDS.map((k) => `${top}/arch/${a}/${k}`)),
    ...DOC_KINDS.map((k) => `${top}/Documentation/${k}`),
  ];
}

const KIND = (globs: string[]): RegExp => new RegExp(`(?:${globs.map((g) => g.replace('.', '\\.').replace('*', '.*')).join('|')})$`);
const ARCH_FILE = new RegExp(`^arch/(${OTHER_ARCHES.join('|')})/`);
const ARCH_KIND = KIND(ARCH_KINDS);

/** The architecture of a tree path that a fetched tree leaves out (another than x86), else undefined. */
export function otherArchitecture(rel: string): string | undefined {
  const m = ARCH_FILE.exec(rel);
  return m && ARCH_KIND.test(rel) ? m[1] : undefined;
}
