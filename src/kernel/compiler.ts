// A kernel's compiler as Debian names it. Two spellings of one fact reach us:
// CONFIG_CC_VERSION_TEXT (`x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0`,
// what `--version` prints first) and the `.comment` string gcc writes into
// every object (`GCC: (Debian 14.2.0-19) 14.2.0`). The Debian version in the
// parentheses is the gcc-N package's version, so it names exactly what to
// install.

export interface GccCompiler {
  /** `Debian 14.2.0-19`: what gcc prints in parentheses. */
  vendor: string;
  /** Upstream version, `14.2.0`. */
  version: string;
  /** What follows the parentheses: the version, with the date some builds add (`13.2.1 20230801`). */
  versionText: string;
  major: number;
  /** The gcc-N package's version when Debian built it (`14.2.0-19`), else undefined. */
  debianVersion: string | undefined;
  /** The Debian package (and program) of this major version: `gcc-14`. */
  packageName: string;
}

// a date may follow the version (`GCC: (GNU) 13.2.1 20230801`)
const PARENS = /\(([^()]+)\) ((\d+)\.(\d+)\.(\d+)(?: \d{8})?)\s*$/;

/** Parses either spelling; undefined for a compiler that is not gcc (clang) or text that is not a version. */
export function parseGccCompiler(text: string): GccCompiler | undefined {
  const t = text.trim();
  if (!/^GCC: \(/.test(t) && !/^[\w.+-]*gcc(-\d+)? \(/.test(t)) return undefined;
  const m = PARENS.exec(t);
  if (!m) return undefined;
  const vendor = m[1] as string;
  const major = Number(m[3]);
  const debian = /^Debian (\S+)$/.exec(vendor);
  return { vendor, version: `${m[3]}.${m[4]}.${m[5]}`, versionText: m[2] as string, major, debianVersion: debian?.[1], packageName: `gcc-${major}` };
}

/** The `.comment` string this compiler writes into an object. */
export function gccComment(c: GccCompiler): string {
  return `GCC: (${c.vendor}) ${c.versionText}`;
}
