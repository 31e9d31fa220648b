import { moduleName } from '../util/module-name.js';

// Which final object a compiled translation unit ends up in: vmlinux, or a
// module (kbuild compiles module code with -DMODULE and names the module in
// KBUILD_MODNAME). Read from the compile command kbuild records for the object.

export type ObjectOwner = { kind: 'vmlinux' } | { kind: 'module'; name: string };

/** The owner of the object a compile command (argv, quotes removed) writes. */
export function ownerOfCommand(argv: readonly string[]): ObjectOwner | undefined {
  if (!argv.includes('-DMODULE')) return { kind: 'vmlinux' };
  const m = /^-DKBUILD_MODNAME='?"?([\w-]+)"?'?$/.exec(argv.find((w) => w.startsWith('-DKBUILD_MODNAME=')) ?? '');
  return m ? { kind: 'module', name: moduleName(m[1] as string) } : undefined;
}
