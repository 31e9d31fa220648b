import { RebootlessError, type RebootlessErrorJson } from '../errors/index.js';
import { applyPatch, type ApplyReport } from './apply.js';
import type { RuntimeOptions } from './events.js';
import type { LiveHost } from './host.js';
import { installedFile, readOrder } from './install.js';
import { readModuleFile } from './module-file.js';
import { moduleLoaded } from './modules.js';
import { requireRoot } from './preflight.js';

// What the systemd unit runs at boot: apply the patches installed for the
// running release, in stacking order. A replace patch supersedes everything
// installed before it, so loading starts at the last one.

export interface BootReport {
  release: string;
  applied: ApplyReport[];
  /** Already loaded, or superseded by a later replace patch. */
  skipped: { name: string; why: 'loaded' | 'superseded' }[];
  failed: { name: string; error: RebootlessErrorJson }[];
}

export async function loadInstalled(h: LiveHost, o: RuntimeOptions): Promise<BootReport> {
  requireRoot(h, 'loading installed live patches', 'rebootless load-installed');
  const release = h.release();
  const order = await readOrder(h, release);
  const replaces = await Promise.all(order.map(async (n) => (await readModuleFile(installedFile(h, release, n)).catch(() => undefined))?.replace === true));
  const start = Math.max(0, replaces.lastIndexOf(true));
  const out: BootReport = { release, applied: [], skipped: order.slice(0, start).map((name) => ({ name, why: 'superseded' })), failed: [] };
  for (const name of order.slice(start)) {
    if (await moduleLoaded(h, name)) {
      out.skipped.push({ name, why: 'loaded' });
      continue;
    }
    try {
      out.applied.push(await applyPatch(h, installedFile(h, release, name), { ...o, wait: true, force: false }));
    } catch (e) {
      if (!(e instanceof RebootlessError)) throw e;
      out.failed.push({ name, error: e.toJSON() });
    }
  }
  return out;
}
