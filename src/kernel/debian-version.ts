// Debian version ordering (deb-version(7)): [epoch:]upstream[-revision],
// compared part by part, with '~' sorting before everything, even the end.

interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export function parseDebianVersion(v: string): DebVersion {
  let rest = v.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash > 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: '' };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

// dpkg's order: '~' < end-of-part or digit < letters < other characters.
function charOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = charOrder(a[i]) - charOrder(b[j]);
      if (d !== 0) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    let na = '';
    let nb = '';
    while (isDigit(a[i])) na += a[i++];
    while (isDigit(b[j])) nb += b[j++];
    const da = BigInt(na || '0');
    const db = BigInt(nb || '0');
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}

/** Negative when a < b, positive when a > b, 0 when equal, as dpkg orders them. */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  return comparePart(va.upstream, vb.upstream) || comparePart(va.revision, vb.revision);
}
