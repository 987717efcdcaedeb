import type { Playbook, Report, RunHost } from '../../src/engine/playbook.js';
import { SHARD_PACKAGES, upstreamVersion } from '../jitsi-load-balancing/packages.js';
import { JITSI_VARIABLES } from '../jitsi-load-balancing/variables.js';
import { jitsiLinkPolicy } from '../jitsi-load-balancing/settings.js';

/** One host as the facts stage read it. */
export interface HostFacts {
  host: string;
  role: string;
  /** The address the connection reached. */
  address: string;
  os: string;
  osId: string;
  osVersion: string;
  init: string;
  firewall: string;
  ufw: string;
  user: string;
  packages: Record<string, string>;
}

export interface FactsFound {
  hosts: HostFacts[];
  /** Hosts that could not be read, with why (from the connect or facts stage). */
  unread: string[];
}

function factsOf(h: RunHost): HostFacts {
  const f = h.facts;
  return {
    host: h.spec.name,
    role: h.spec.role,
    address: h.address,
    os: f.os.pretty,
    osId: f.os.id,
    osVersion: f.os.versionId,
    init: f.init,
    firewall: f.firewall,
    ufw: f.ufw,
    user: f.user,
    packages: f.packages,
  };
}

/** Pure: the table and the document for what was read. */
export function factsReport(found: FactsFound): Report {
  // The upstream version: no epoch, no Debian revision.
  const short = (v: string | undefined) => (v ? upstreamVersion(v) : '-');
  return {
    columns: ['HOST', 'ROLE', 'ADDRESS', 'OS', 'INIT', 'FIREWALL', 'PROSODY', 'JICOFO', 'JVB'],
    rows: found.hosts.map((h) => [
      h.host,
      h.role,
      h.address,
      h.os,
      h.init,
      h.firewall + (h.ufw === 'inactive' ? ' (ufw off)' : ''),
      short(h.packages.prosody),
      short(h.packages.jicofo),
      short(h.packages['jitsi-videobridge2']),
    ]),
    data: { hosts: found.hosts, unread: found.unread },
  };
}

/**
 * `jitsi-scale facts`: what the tool reads on every host, and nothing else. A playbook with no
 * steps and no handlers: its discovery gathers what the engine read, its report shows it.
 */
export const facts: Playbook<FactsFound> = {
  name: 'facts',
  roles: [
    { name: 'meet', count: 'any', what: 'the Jitsi Meet server', label: ['meet server', 'meet servers'] },
    { name: 'jvb', count: 'any', what: 'the videobridge hosts', label: ['bridge', 'bridges'] },
  ],
  variables: JITSI_VARIABLES,
  watchPackages: SHARD_PACKAGES,
  linkPolicy: jitsiLinkPolicy,
  discover: async (ctx) => {
    const hosts = ctx.inventory.hosts.flatMap((spec) => {
      const h = ctx.hosts.get(spec.name);
      return h ? [factsOf(h)] : [];
    });
    return { hosts, unread: ctx.inventory.hosts.filter((s) => !ctx.hosts.has(s.name)).map((s) => s.name) };
  },
  report: factsReport,
  steps: [],
  handlers: [],
};
