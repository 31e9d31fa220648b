import { liveHost, type LiveHost } from '../runtime/host.js';

/**
 * The machine the live commands manage. REBOOTLESS_HOST_ROOT and
 * REBOOTLESS_HOST_RELEASE point them at a fake /sys, /proc, /run, /var and /etc
 * tree (tests only); unset, it is this machine.
 */
export function hostFromEnv(env: NodeJS.ProcessEnv = process.env): LiveHost {
  const h = liveHost();
  const root = env.REBOOTLESS_HOST_ROOT;
  const release = env.REBOOTLESS_HOST_RELEASE;
  return { ...h, ...(root ? { root } : {}), ...(release ? { release: () => release } : {}) };
}
