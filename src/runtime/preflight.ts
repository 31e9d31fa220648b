import { RebootlessError } from '../errors/index.js';
import { hostPath, readTextIfAny, type LiveHost } from './host.js';
import { checkKallsyms } from './kallsyms.js';
import type { LivepatchModuleInfo } from './module-file.js';
import { moduleLoaded } from './modules.js';
import { livepatchSupported, readPatch } from './sysfs.js';

// Checks before anything touches the kernel. Each refusal says why and what to do.

const readOr = async (p: string, fallback: string): Promise<string> => (await readTextIfAny(p))?.trim() ?? fallback;

export function requireRoot(h: LiveHost, action: string, command: string): void {
  if (!h.isRoot()) throw new RebootlessError('NOT_ROOT', { action, command: `sudo ${command}` });
}

export async function requireLivepatch(h: LiveHost): Promise<void> {
  if (!(await livepatchSupported(h))) throw new RebootlessError('LIVEPATCH_UNSUPPORTED', { release: h.release(), path: '/sys/kernel/livepatch' });
}

/** The active lockdown mode: 'none', 'integrity' or 'confidentiality' ('none' when securityfs does not say). */
export async function lockdownMode(h: LiveHost): Promise<string> {
  const text = await readOr(hostPath(h, 'sys/kernel/security/lockdown'), '[none]');
  return /\[(\w+)\]/.exec(text)?.[1] ?? 'none';
}

/**
 * Why the kernel would refuse this module's signature, if it would; notes
 * for what it will accept but remember (taint).
 */
export async function signatureCheck(h: LiveHost, m: LivepatchModuleInfo): Promise<{ refuse: string[]; notes: string[] }> {
  const enforce = (await readOr(hostPath(h, 'sys/module/module/parameters/sig_enforce'), 'N')) === 'Y';
  const lockdown = await lockdownMode(h);
  if (m.signed) return { refuse: [], notes: enforce || lockdown !== 'none' ? ['the module is signed; the kernel loads it only if it trusts the key'] : [] };
  const refuse: string[] = [];
  if (enforce) refuse.push('the kernel enforces module signatures (module.sig_enforce=1)');
  if (lockdown !== 'none') refuse.push(`the kernel is locked down (${lockdown}, typically because of UEFI Secure Boot), which requires signed modules`);
  return { refuse, notes: refuse.length ? [] : ['the module is unsigned: loading it taints the kernel (E) and logs a notice; it works the same'] };
}

export interface PreflightResult {
  notes: string[];
}

/** Everything `apply` checks before loading; throws the first refusal. */
export async function preflightApply(h: LiveHost, m: LivepatchModuleInfo): Promise<PreflightResult> {
  requireRoot(h, 'applying a live patch', `rebootless apply ${m.file}`);
  await requireLivepatch(h);
  if (m.release !== h.release()) throw new RebootlessError('WRONG_RELEASE', { file: m.file, moduleRelease: m.release || '(no vermagic)', running: h.release() });
  const sysfs = await readPatch(h, m.name);
  if (sysfs || (await moduleLoaded(h, m.name))) throw new RebootlessError('MODULE_ALREADY_LOADED', { name: m.name, livepatch: sysfs !== undefined });
  const sig = await signatureCheck(h, m);
  if (sig.refuse.length) throw new RebootlessError('MODULE_SIGNATURE_REQUIRED', { file: m.file, reasons: sig.refuse });
  // the part of verify a live host can do: every name the patch asks the livepatch core for exists here
  const ks = await checkKallsyms(h, m.file, m.objects);
  if (ks?.violations.length) throw new RebootlessError('VERIFY_FAILED', { module: m.name, against: `the running kernel (${h.release()})`, violations: ks.violations });
  return { notes: [...sig.notes, ...(ks?.notes ?? [])] };
}
