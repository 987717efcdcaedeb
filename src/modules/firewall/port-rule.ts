import { isIP } from 'node:net';

/** "Allow PROTO PORT from these sources only" (or from anywhere), the one rule shape this tool needs. */
export interface PortRule {
  proto: 'tcp' | 'udp';
  port: number;
  /** Addresses or CIDR ranges allowed; 'any' opens the port to everyone. Loopback is always allowed. */
  sources: readonly string[] | 'any';
}

/** Name used for our chain / table / comment, one per rule, so rules never step on each other. */
export function ruleId(rule: Pick<PortRule, 'proto' | 'port'>): string {
  return `jitsi-scale-${rule.proto}-${rule.port}`;
}

export function describeRule(rule: PortRule): string {
  const from =
    rule.sources === 'any' ? 'anywhere' : rule.sources.length ? rule.sources.join(', ') + ' only' : 'nowhere (closed)';
  return `allow ${rule.proto.toUpperCase()} ${rule.port} from ${from}`;
}

/** Splits sources by family; throws on anything that is not an IP address or CIDR range. */
export function sourcesByFamily(rule: PortRule): { v4: string[]; v6: string[] } {
  if (rule.sources === 'any') return { v4: [], v6: [] };
  const v4: string[] = [];
  const v6: string[] = [];
  for (const s of rule.sources) {
    const [addr = '', bits] = s.split('/');
    const family = isIP(addr);
    if (family === 0 || (bits !== undefined && !/^\d+$/.test(bits))) {
      throw new Error(`firewall source "${s}" is not an IP address or CIDR range`);
    }
    (family === 4 ? v4 : v6).push(s);
  }
  return { v4, v6 };
}
