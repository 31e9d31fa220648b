import { readFile, writeFile } from 'node:fs/promises';
import { RebootlessError } from '../errors/index.js';
import { pathExists } from '../util/fs.js';
import { hostPath, subdirectories, type LiveHost } from './host.js';

// /sys/kernel/livepatch: one directory per registered patch.
//   <patch>/enabled (rw), transition (ro), force (wo)
//   <patch>/<object>/patched, <patch>/<object>/<function,sympos>/

export interface SysfsFunc {
  name: string;
  sympos: number;
}

export interface SysfsObject {
  /** 'vmlinux' or a module name. */
  name: string;
  /** False while the target module is not loaded. */
  patched: boolean;
  functions: SysfsFunc[];
}

export interface SysfsPatch {
  name: string;
  enabled: boolean;
  transition: boolean;
  objects: SysfsObject[];
}

export const livepatchDir = (h: LiveHost): string => hostPath(h, 'sys/kernel/livepatch');
const patchDir = (h: LiveHost, name: string): string => `${livepatchDir(h)}/${name}`;

export const livepatchSupported = (h: LiveHost): Promise<boolean> => pathExists(livepatchDir(h));

const readFlag = async (p: string): Promise<boolean> => (await readFile(p, 'utf8')).trim() === '1';

async function readObject(dir: string, name: string): Promise<SysfsObject> {
  const functions = (await subdirectories(`${dir}/${name}`)).map((f) => {
    const comma = f.lastIndexOf(',');
    return comma < 0 ? { name: f, sympos: 0 } : { name: f.slice(0, comma), sympos: Number(f.slice(comma + 1)) };
  });
  return { name, patched: await readFlag(`${dir}/${name}/patched`).catch(() => false), functions };
}

export interface PatchFlags {
  enabled: boolean;
  transition: boolean;
}

/** A patch's enabled and transition flags (what pollers need), or undefined when it is gone. */
export async function readPatchFlags(h: LiveHost, name: string): Promise<PatchFlags | undefined> {
  const dir = patchDir(h, name);
  try {
    const [enabled, transition] = await Promise.all([readFlag(`${dir}/enabled`), readFlag(`${dir}/transition`)]);
    return { enabled, transition };
  } catch (e) {
    // ENODEV: the kernfs node was removed between open and read (the patch was just freed)
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw e;
  }
}

/** One patch with its objects and functions, or undefined when it is gone (disabled patches vanish from sysfs). */
export async function readPatch(h: LiveHost, name: string): Promise<SysfsPatch | undefined> {
  const flags = await readPatchFlags(h, name);
  if (!flags) return undefined;
  const dir = patchDir(h, name);
  const objects = await Promise.all((await subdirectories(dir)).map((o) => readObject(dir, o)));
  return { name, ...flags, objects };
}

/** Every registered patch, by name (sysfs does not show the stacking order). */
export async function readPatches(h: LiveHost): Promise<SysfsPatch[]> {
  const names = await subdirectories(livepatchDir(h));
  return (await Promise.all(names.map((n) => readPatch(h, n)))).filter((p): p is SysfsPatch => p !== undefined);
}

/** The name of the patch whose transition is running, if any. */
export async function transitionPatch(h: LiveHost): Promise<string | undefined> {
  for (const name of await subdirectories(livepatchDir(h))) if ((await readPatchFlags(h, name))?.transition) return name;
  return undefined;
}

async function writeAttribute(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (e) {
    throw new RebootlessError('SYSFS_WRITE_FAILED', { path, value, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
}

export const writeEnabled = (h: LiveHost, name: string, enabled: boolean): Promise<void> =>
  writeAttribute(`${patchDir(h, name)}/enabled`, enabled ? '1' : '0');

export const writeForce = (h: LiveHost, name: string): Promise<void> => writeAttribute(`${patchDir(h, name)}/force`, '1');
