import { diffObjects } from '../diff/index.js';
import { RebootlessError } from '../errors/index.js';
import type { ChangedObject, CompiledObject } from './types.js';

// Stage 5, diff: what changed in each object, and whether a livepatch can
// carry it. Any refusal stops the build (exit 2); a diff that changes no
// function anywhere is BUILD_NO_CHANGE (exit 3). Objects without a change
// drop out.

export function diff(compiled: readonly CompiledObject[]): ChangedObject[] {
  const out = compiled.map((c) => ({ ...c, diff: diffObjects(c.orig, c.patched, { module: c.owner.kind === 'module', ...(c.created ? { created: true } : {}) }) }));
  const refused = out.find((x) => x.diff.verdict === 'unpatchable');
  if (refused) {
    throw new RebootlessError('BUILD_UNPATCHABLE', {
      object: refused.object,
      reasons: refused.diff.refusals.map((r) => `${r.symbol}: ${r.reason} [${r.code}]; hint: ${r.hint}`),
    });
  }
  // a new file alone changes nothing the kernel runs: some patched function must call it
  if (out.every((x) => x.diff.verdict === 'no-change' || x.created)) throw new RebootlessError('BUILD_NO_CHANGE', { objects: out.map((x) => x.object) });
  return out.filter((x) => x.diff.verdict === 'patchable');
}
