// The files kbuild reads for an external module: the Kbuild makefile naming
// its parts, and for each prebuilt part the record kbuild would have written
// had it compiled it (`.<obj>.cmd`: modpost reads every object's record to
// compute the module's srcversion).

/** Suffix kbuild's `cmd_shipped` rule copies from: `patch0.o_shipped` → `patch0.o`. */
export const SHIPPED_SUFFIX = '_shipped';

/** `obj-m := <module>.o` made of `parts` (object file names, in link order). */
export function renderKbuild(moduleName: string, parts: readonly string[]): string {
  return `obj-m := ${moduleName}.o\n${moduleName}-y := ${parts.join(' ')}\n`;
}

/** The `.cmd` record of a part that is copied, not compiled: its file name and text. */
export function shippedRecord(object: string): { file: string; text: string } {
  const source = `${object}${SHIPPED_SUFFIX}`;
  return {
    file: `.${object}.cmd`,
    text: `cmd_${object} := cat ${source} > ${object}\n\nsource_${object} := ${source}\n\ndeps_${object} := \n`,
  };
}
