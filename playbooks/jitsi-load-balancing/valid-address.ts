import { BlockList, isIP } from 'node:net';

/**
 * Pure: may a bridge offer this address? The videobridge's health check counts an address when it
 * is not loopback, link-local or site-local in Java's sense (10/8, 172.16/12, 192.168/16, and
 * fec0::/10 for IPv6; unique-local fd00::/8 counts).
 */
export function isPublicAddress(address: string): boolean {
  const a = address
    .toLowerCase()
    .replace(/\/\d+$/, '')
    .replace(/%.*$/, '');
  if (a.includes(':')) return !(a === '::1' || /^fe[89ab]/.test(a) || /^fe[c-f]/.test(a));
  const [x = 0, y = 0] = a.split('.').map(Number);
  return !(
    x === 127 ||
    x === 10 ||
    (x === 172 && y >= 16 && y <= 31) ||
    (x === 192 && y === 168) ||
    (x === 169 && y === 254)
  );
}

/** Whether two textual addresses are one address (fd00:0:0::2 is fd00::2), as node:net's BlockList compares them. */
export function sameAddress(a: string, b: string): boolean {
  const family = isIP(a);
  if (family === 0 || isIP(b) !== family) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addAddress(a, type);
  return list.check(b, type);
}
