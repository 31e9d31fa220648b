import type { ElfFile } from './model.js';

// The `.comment` section: NUL-separated strings naming the tools that made
// the file (`GCC: (Debian 12.2.0-14+deb12u1) 12.2.0`, linker versions).

/** The NUL-separated strings of a `.comment` section. */
export function commentStrings(file: ElfFile): string[] {
  const sec = file.sections.find((s) => s.name === '.comment');
  return sec ? Buffer.from(sec.data).toString('latin1').split('\0').filter(Boolean) : [];
}

/** The compiler string (`GCC: ...`) a file's .comment records. */
export const compilerOf = (file: ElfFile): string | undefined => commentStrings(file).find((c) => c.startsWith('GCC:'));
