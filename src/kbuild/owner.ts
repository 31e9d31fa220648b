import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { moduleName } from '../util/module-name.js';

// Which final object a compiled translation unit ends up in: vmlinux, or a
// module (kbuild compiles module code with -DMODULE and names the module in
// KBUILD_MODNAME). Read from the command kbuild recorded for the object.

export type ObjectOwner = { kind: 'vmlinux' } | { kind: 'module'; name: string };

/** Parses the command line of a `.<name>.o.cmd` file. */
export function parseOwner(cmdFile: string): ObjectOwner | undefined {
  const first = cmdFile.split('\n').find((l) => l.startsWith('cmd_'));
  if (!first) return undefined;
  const words = first.split(/\s+/);
  if (!words.includes('-DMODULE')) return { kind: 'vmlinux' };
  const m = /^-DKBUILD_MODNAME='?"?([\w-]+)"?'?$/.exec(words.find((w) => w.startsWith('-DKBUILD_MODNAME=')) ?? '');
  return m ? { kind: 'module', name: moduleName(m[1] as string) } : undefined;
}

/** Owner of an object compiled in `tree` (after compileObject). */
export async function readOwner(tree: string, objRel: string): Promise<ObjectOwner | undefined> {
  const cmd = path.join(tree, path.dirname(objRel), `.${path.basename(objRel)}.cmd`);
  return parseOwner(await fsp.readFile(cmd, 'utf8').catch(() => ''));
}
