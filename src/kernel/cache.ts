import os from 'node:os';
import path from 'node:path';

/** `$REBOOTLESS_CACHE`, else `$XDG_CACHE_HOME/rebootless`, else `~/.cache/rebootless`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  if (env.REBOOTLESS_CACHE) return path.resolve(env.REBOOTLESS_CACHE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'rebootless');
  return path.join(home, '.cache', 'rebootless');
}

export function kernelsDir(root: string): string {
  return path.join(root, 'kernels');
}

export function releaseDir(root: string, release: string): string {
  return path.join(kernelsDir(root), release);
}
