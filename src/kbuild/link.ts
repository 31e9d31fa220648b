import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../util/process.js';

// Linking the livepatch module with kbuild against the release's headers.
// modpost is told to only warn about the symbols the post-link step turns
// into livepatch relocations.

export interface LinkInput {
  headersDir: string;
  dir: string;
  moduleName: string;
  files: Record<string, string | Uint8Array>;
  signal?: AbortSignal;
}

export async function linkModule(i: LinkInput): Promise<string> {
  await fsp.mkdir(i.dir, { recursive: true });
  for (const [name, content] of Object.entries(i.files)) await fsp.writeFile(path.join(i.dir, name), content);
  await runCommand('make', ['-C', i.headersDir, `M=${i.dir}`, 'KBUILD_MODPOST_WARN=1', 'modules'], { ...(i.signal ? { signal: i.signal } : {}) });
  return path.join(i.dir, `${i.moduleName}.ko`);
}
