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
export async function signatureCheck(h: LiveHost, m: LivepatchModuleInfo): Promise<{ refuse: string[]; notes: string[]; signer?: string }> {
  const enforce = (await readOr(hostPath(h, 'sys/module/module/parameters/sig_enforce'), 'N')) === 'Y';
  const lockdown = await lockdownMode(h);
  if (m.signed) return signerCheck(h, m, enforce || lockdown !== 'none');
  const refuse: string[] = [];
  if (enforce) refuse.push('the kernel enforces module signatures (module.sig_enforce=1)');
  if (lockdown !== 'none') refuse.push(`the kernel is locked down (${lockdown}, typically because of UEFI Secure Boot), which requires signed modules`);
  return { refuse, notes: refuse.length ? [] : ['the module is unsigned: loading it taints the kernel (E) and logs a notice; it works the same'] };
}

/** An asymmetric key the kernel holds, as /proc/keys lists it: `CN: KEYID`. */
export interface KernelKey {
  description: string;
  /** The key id at the end of the description (hex, lowercase), when there is one. */
  keyId: string | null;
}

/** The asymmetric keys in /proc/keys (root sees the system keyrings' keys). */
export function parseProcKeys(text: string): KernelKey[] {
  const out: KernelKey[] = [];
  for (const line of text.split('\n')) {
    const m = /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\d+\s+\d+\s+asymmetri\s+(.*?)(?::\s+X509\..*)?$/.exec(line);
    if (!m?.[1]) continue;
    out.push({ description: m[1], keyId: /:\s*([0-9a-f]{8,})$/i.exec(m[1])?.[1]?.toLowerCase() ?? null });
  }
  return out;
}

/**
 * A signed module where signatures are required: is its signer a key the kernel holds? Refused up
 * front when /proc/keys lists the kernel's keys and the signer is not among them (the kernel would
 * answer 'Key was rejected by service'); a note otherwise.
 */
async function signerCheck(h: LiveHost, m: LivepatchModuleInfo, required: boolean): Promise<{ refuse: string[]; notes: string[]; signer?: string }> {
  const signer = m.signer?.text ?? 'a signature rebootless cannot read';
  const keyId = m.signer?.keyId ?? null;
  if (!required) return { refuse: [], notes: [`the module is signed by ${signer}`] };
  const keys = parseProcKeys((await readTextIfAny(hostPath(h, 'proc/keys'))) ?? '');
  const trusted = keyId ? keys.find((k) => k.keyId === keyId) : undefined;
  if (trusted) return { refuse: [], notes: [`the module is signed by ${signer}, a key the kernel holds (${trusted.description})`] };
  if (keys.length === 0 || !keyId) return { refuse: [], notes: [`the module is signed by ${signer}; the kernel loads it only if it trusts that key (/proc/keys does not tell here)`] };
  return { refuse: [], notes: [], signer: `${signer}, which is not among the kernel's keys (${keys.map((k) => k.description).join('; ')})` };
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
  if ('signer' in sig && sig.signer) throw new RebootlessError('MODULE_SIGNER_UNTRUSTED', { file: m.file, signer: sig.signer });
  // the part of verify a live host can do: every name the patch asks the livepatch core for exists here
  const ks = await checkKallsyms(h, m.file, m.objects);
  if (ks?.violations.length) throw new RebootlessError('VERIFY_FAILED', { module: m.name, against: `the running kernel (${h.release()})`, violations: ks.violations });
  return { notes: [...sig.notes, ...(ks?.notes ?? [])] };
}
