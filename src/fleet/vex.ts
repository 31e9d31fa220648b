import { createHash } from 'node:crypto';
import { RebootlessError } from '../errors/index.js';
import { hostPath, readTextIfAny, type LiveHost } from '../runtime/host.js';
import { hostStatus, type HostStatus, type PatchStatus } from '../runtime/status.js';

// An OpenVEX document for the host (`rebootless status --vex`): the CVEs that
// live patches fix in the running kernel, for a vulnerability scanner to stop
// flagging them. Only what is true now is claimed: a patch enabled, its
// transition finished (every task on the new code), not forced, and the CVE
// recorded when rebootless applied it.

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0';

export interface VexProduct {
  '@id': string;
  identifiers: { purl: string };
}

export interface VexStatement {
  vulnerability: { name: string };
  products: VexProduct[];
  status: 'fixed';
  timestamp: string;
  status_notes: string;
}

export interface VexDocument {
  '@context': string;
  '@id': string;
  author: string;
  timestamp: string;
  version: number;
  tooling: string;
  statements: VexStatement[];
}

/** What the document says about the running kernel, besides the patches. */
export interface KernelIdentity {
  release: string;
  /** The Debian package version of the running image (from /proc/version), when the kernel says it. */
  packageVersion: string | null;
  /** VERSION_ID of /etc/os-release (12, 13), when Debian. */
  debianVersion: string | null;
  hostname: string;
}

/** A patch that is not claimed, and why. */
export interface VexSkip {
  name: string;
  reason: string;
}

/** Why a patch cannot back a `fixed` claim now, or null when it can. */
export function unclaimable(p: PatchStatus): string | null {
  if (p.transition.running) return p.enabled ? 'its transition is still running' : 'it is being reverted';
  if (p.state !== 'enabled') return `its state is ${p.state}`;
  if (p.forced) return 'its transition was forced (tasks may still run the old code)';
  if (p.cves.length === 0) return 'it records no CVE (rebootless apply records the module’s cve= entries)';
  return null;
}

/** `pkg:deb/debian/linux-image-RELEASE@VERSION?arch=amd64&distro=debian-12`. */
export function kernelPurl(k: KernelIdentity): string {
  const version = k.packageVersion ? `@${encodeURIComponent(k.packageVersion).replace(/%2B/g, '+')}` : '';
  const distro = k.debianVersion ? `&distro=debian-${k.debianVersion}` : '';
  return `pkg:deb/debian/linux-image-${k.release}${version}?arch=amd64${distro}`;
}

/** The Debian package version in /proc/version: `… #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-…)`, after the build number (the compiler's `(Debian 12.2.0-14)` comes before it). */
export function packageVersionOf(procVersion: string): string | null {
  return /#\d+\s.*\bDebian (\d[\w.+~-]*)/.exec(procVersion)?.[1] ?? null;
}

export function debianVersionOf(osRelease: string): string | null {
  if (!/^ID="?debian"?$/m.test(osRelease)) return null;
  return /^VERSION_ID="?([\d.]+)"?$/m.exec(osRelease)?.[1] ?? null;
}

/** The document (pure); throws VEX_NOTHING_TO_STATE when no patch backs a claim (OpenVEX needs at least one statement). */
export function buildVex(s: HostStatus, k: KernelIdentity, o: { now: Date; tooling: string }): { document: VexDocument; skipped: VexSkip[] } {
  const purl = kernelPurl(k);
  const product: VexProduct = { '@id': purl, identifiers: { purl } };
  const statements: VexStatement[] = [];
  const skipped: VexSkip[] = [];
  for (const p of s.patches) {
    const why = unclaimable(p);
    if (why) {
      skipped.push({ name: p.name, reason: why });
      continue;
    }
    const at = p.appliedAt ?? p.loadedAt;
    for (const cve of p.cves) {
      statements.push({
        vulnerability: { name: cve },
        products: [product],
        status: 'fixed',
        timestamp: at ?? o.now.toISOString(),
        status_notes: `fixed in the running kernel ${k.release} on ${k.hostname} by live patch ${p.name}${p.description ? ` (${p.description})` : ''}, ${at ? `applied at ${at}` : 'applied at an unknown time'}: enabled, every task switched to the patched code`,
      });
    }
  }
  if (statements.length === 0) throw new RebootlessError('VEX_NOTHING_TO_STATE', { release: k.release, skipped: skipped.map((x) => `${x.name}: ${x.reason}`) });
  const digest = createHash('sha256').update(JSON.stringify([k, statements])).digest('hex');
  const document: VexDocument = {
    '@context': OPENVEX_CONTEXT,
    '@id': `urn:uuid:${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`,
    author: `rebootless on ${k.hostname}`,
    timestamp: o.now.toISOString(),
    version: 1,
    tooling: o.tooling,
    statements,
  };
  return { document, skipped };
}

/** The running kernel's identity, from /proc and /etc of the host. */
export async function kernelIdentity(h: LiveHost): Promise<KernelIdentity> {
  const [version, osRelease, hostname] = await Promise.all([
    readTextIfAny(hostPath(h, 'proc/version')),
    readTextIfAny(hostPath(h, 'etc/os-release')),
    readTextIfAny(hostPath(h, 'proc/sys/kernel/hostname')),
  ]);
  return {
    release: h.release(),
    packageVersion: packageVersionOf(version ?? ''),
    debianVersion: debianVersionOf(osRelease ?? ''),
    hostname: hostname?.trim() || 'localhost',
  };
}

export async function hostVex(h: LiveHost, o: { now: Date; tooling: string }): Promise<{ document: VexDocument; skipped: VexSkip[] }> {
  const [s, k] = await Promise.all([hostStatus(h), kernelIdentity(h)]);
  return buildVex(s, k, o);
}
