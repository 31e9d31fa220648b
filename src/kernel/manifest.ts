import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { RebootlessError } from '../errors/index.js';
import { pathExists, writeFileAtomic } from '../util/fs.js';
import { TREE_MANIFEST_FILE } from './tree-manifest.js';

// The manifest of a fetched kernel workspace. Written last, so its presence
// means every stage finished. Paths are stored relative to the release
// directory (the cache can move) and handed out absolute.

export const MANIFEST_FILE = 'manifest.json';
/**
 * 3: no linux-headers tree (modules link against the prepared source tree, prepared for the release's name with its exact .config).
 * 4: the tree's content manifest (tree-manifest.ts) beside it; older trees have none and may have been written by builds.
 */
export const MANIFEST_SCHEMA = 4;

export const PATH_FIELDS = [
  'vmlinuz',
  'vmlinux',
  'systemMap',
  'config',
  'moduleSymvers',
  'sourceTree',
  'modulesDir',
] as const;
export type PathField = (typeof PATH_FIELDS)[number];

export interface KernelWorkspace extends Record<PathField, string> {
  release: string;
  debianVersion: string;
  flavor: string;
  /** The Debian suite family it was fetched from (kernel/suites.ts), e.g. `bookworm-backports`; absent in older manifests. */
  suite?: string;
  /** The build root whose compiler builds for it (build-root.ts), when the host has no exact one: absolute, stored relative to the cache root. */
  buildRoot?: string;
  /** The compiler the release was built with (CONFIG_CC_VERSION_TEXT). */
  compiler: string;
  /** The program kbuild must run as CC to reproduce it, e.g. `gcc-12`. */
  cc: string;
  packages: { name: string; version: string }[];
  fetchedAt: string;
  /** The content manifest of sourceTree (tree-manifest.ts): `<workspace>/tree-manifest`, set when the manifest is read, not stored. */
  treeManifest?: string;
}

/** A workspace lives at `<cache>/kernels/<release>`. */
export const cacheRootOfWorkspace = (dir: string): string => path.resolve(dir, '..', '..');

export function serializeManifest(ws: KernelWorkspace, dir: string): string {
  const stored: Record<string, unknown> = { schema: MANIFEST_SCHEMA, ...ws };
  delete stored.treeManifest;
  for (const f of PATH_FIELDS) stored[f] = path.relative(dir, ws[f]);
  if (ws.buildRoot) stored.buildRoot = path.relative(cacheRootOfWorkspace(dir), ws.buildRoot);
  return JSON.stringify(stored, null, 2) + '\n';
}

export function parseManifest(text: string, dir: string, file = path.join(dir, MANIFEST_FILE)): KernelWorkspace {
  const bad = (detail: string): RebootlessError => new RebootlessError('MANIFEST_INVALID', { path: file, detail }, { location: { file } });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not an object');
  const o = raw as Record<string, unknown>;
  if (o.schema !== MANIFEST_SCHEMA) throw bad(`schema ${String(o.schema)} is not ${MANIFEST_SCHEMA}`);
  const underCache = (rel: string): string => {
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw bad("path 'buildRoot' leaves the cache");
    return path.join(cacheRootOfWorkspace(dir), rel);
  };
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw bad(`field '${k}' missing or not a string`);
    return v;
  };
  const release = str('release');
  const debianVersion = str('debianVersion');
  const flavor = str('flavor');
  const compiler = str('compiler');
  const cc = str('cc');
  const fetchedAt = str('fetchedAt');
  const packages = o.packages;
  if (!Array.isArray(packages) || !packages.every((p) => typeof p?.name === 'string' && typeof p?.version === 'string')) {
    throw bad("field 'packages' missing or malformed");
  }
  const ws: KernelWorkspace = {
    release,
    debianVersion,
    flavor,
    compiler,
    cc,
    packages: (packages as { name: string; version: string }[]).map((p) => ({ name: p.name, version: p.version })),
    fetchedAt,
    ...(typeof o.suite === 'string' && o.suite !== '' ? { suite: o.suite } : {}),
    ...(typeof o.buildRoot === 'string' && o.buildRoot !== '' ? { buildRoot: underCache(o.buildRoot) } : {}),
    vmlinuz: '',
    vmlinux: '',
    systemMap: '',
    config: '',
    moduleSymvers: '',
    sourceTree: '',
    modulesDir: '',
    treeManifest: path.join(dir, TREE_MANIFEST_FILE),
  };
  for (const f of PATH_FIELDS) {
    const rel = str(f);
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw bad(`path '${f}' leaves the workspace`);
    ws[f] = path.join(dir, rel);
  }
  return ws;
}

export async function writeManifest(ws: KernelWorkspace, dir: string): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), serializeManifest(ws, dir));
}

/** Reads a manifest and checks that every path it names exists. */
export async function readManifest(dir: string): Promise<KernelWorkspace | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const ws = parseManifest(text, dir, file);
  for (const f of [...PATH_FIELDS, ...(ws.buildRoot ? (['buildRoot'] as const) : [])]) {
    if (!(await pathExists(ws[f] as string))) {
      throw new RebootlessError('MANIFEST_INVALID', { path: file, detail: `${f} ${ws[f]} does not exist` }, { location: { file } });
    }
  }
  return ws;
}

/** True when `dir` holds a workspace of an older manifest schema: prepared differently, to be fetched again from scratch. */
export async function isOutdatedWorkspace(dir: string): Promise<boolean> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as { schema?: unknown };
    return typeof raw.schema === 'number' && raw.schema < MANIFEST_SCHEMA;
  } catch {
    return false;
  }
}
