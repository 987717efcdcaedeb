import type { Host } from '../transport/host.js';
import { HostError, whyFailed } from '../transport/host.js';
import { shScript } from '../transport/shell-quote.js';
import { READ_MANY_LOOP, parseReadMany, readArgs, type ReadAnswer } from '../transport/read-many.js';
import { splitSections } from '../modules/probe-sections.js';
import { STATE_DIR, parsePendingMarks, pendingProbe, type PendingMark } from './pending.js';
import {
  detectFirewall,
  ufwState,
  type FirewallKind,
  type FirewallProbe,
} from '../modules/firewall/detect-firewall.js';

/** What every step may rely on about a host, read in one round trip at the start of the run. */
export interface BaseFacts {
  os: { id: string; versionId: string; pretty: string };
  init: 'systemd' | 'sysv';
  /** The firewall in charge, or 'none' when no firewall tool is installed. */
  firewall: FirewallKind;
  /** ufw's state: an installed but inactive ufw rules out iptables-persistent (it Breaks ufw). */
  ufw: 'active' | 'inactive' | 'absent';
  /** Installed versions of the packages the playbook watches (absent: not installed). */
  packages: Record<string, string>;
  /**
   * What dpkg records each installed watched package as needing: its Pre-Depends and Depends,
   * joined as one relation list ("a (= 1), b | c"); absent for a package that names none.
   */
  depends?: Record<string, string>;
  user: string;
  /** Restarts left pending on the host by an earlier run (see pending.ts). */
  pending: PendingMark[];
}

/*
 * Sections are separated by marker lines so that one script answers everything; each probe is
 * allowed to fail without failing the others. $1 is the package names (space-separated), $2 the
 * tool's state directory; the other arguments are the files the playbook will read (readArgs), read here in the same round trip.
 */
const FACTS_SCRIPT = `
pk=$1 state=$2; shift 2
echo '@@os'; cat /etc/os-release 2>/dev/null
echo '@@init'; if [ -d /run/systemd/system ]; then echo systemd; else echo sysv; fi
echo '@@user'; id -un
echo '@@packages'; dpkg-query -W -f '\${Package} \${db:Status-Abbrev} \${Version}\\t\${Pre-Depends}\\t\${Depends}\\n' $pk 2>/dev/null
echo '@@tools'; for t in ufw firewall-cmd nft iptables ip6tables; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done
echo '@@ufw'; if command -v ufw >/dev/null 2>&1; then ufw status 2>/dev/null | head -n 1; fi
echo '@@firewalld'; if command -v firewall-cmd >/dev/null 2>&1; then firewall-cmd --state 2>/dev/null; fi
echo '@@iptables-version'; if command -v iptables >/dev/null 2>&1; then iptables -V 2>/dev/null; fi
echo '@@iptables'; if command -v iptables-save >/dev/null 2>&1; then iptables-save -t filter 2>/dev/null | grep '^-A '; fi
echo '@@nft'; if command -v nft >/dev/null 2>&1; then nft list tables 2>/dev/null; fi
echo '@@pending'; ${pendingProbe('"$state"')}
echo '@@files';${READ_MANY_LOOP}
echo '@@end'`;

/** Pure: the facts from the script's output. */
// eslint-disable-next-line complexity -- one field per probe section, each with its fallback (the ?? count as branches)
export function parseBaseFacts(text: string): BaseFacts {
  const s = splitSections(text);
  const osRelease: Record<string, string> = {};
  for (const line of s.get('os') ?? []) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) osRelease[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  const packages: Record<string, string> = {};
  const depends: Record<string, string> = {};
  for (const line of s.get('packages') ?? []) {
    const [head = '', ...relations] = line.split('\t');
    const [name, status, version] = head.split(/\s+/);
    if (!name || !status?.startsWith('ii') || !version) continue;
    packages[name] = version;
    const needs = relations.map((r) => r.trim()).filter(Boolean);
    if (needs.length) depends[name] = needs.join(', ');
  }
  const probe: FirewallProbe = {
    tools: new Set(s.get('tools') ?? []),
    ufwStatus: (s.get('ufw') ?? []).join('\n'),
    firewalldState: (s.get('firewalld') ?? []).join('\n'),
    iptablesVersion: (s.get('iptables-version') ?? []).join('\n'),
    iptablesRules: (s.get('iptables') ?? []).join('\n'),
    nftTables: (s.get('nft') ?? []).join('\n'),
  };
  return {
    os: {
      id: osRelease.ID ?? 'unknown',
      versionId: osRelease.VERSION_ID ?? '',
      pretty: osRelease.PRETTY_NAME ?? 'unknown OS',
    },
    init: (s.get('init')?.[0] ?? 'sysv') === 'systemd' ? 'systemd' : 'sysv',
    firewall: detectFirewall(probe),
    ufw: ufwState(probe),
    packages,
    depends,
    user: s.get('user')?.[0] ?? '',
    pending: parsePendingMarks(s.get('pending') ?? []),
  };
}

/** The host's facts, and the files asked for (null: missing, or why one is refused), in one round trip. */
export async function gatherBaseFacts(
  host: Host,
  packages: readonly string[],
  files: readonly string[] = [],
  stateDir = STATE_DIR,
): Promise<{ facts: BaseFacts; files: Map<string, ReadAnswer> }> {
  const r = await host.exec(shScript(FACTS_SCRIPT, packages.join(' '), stateDir, ...readArgs(files, host.linkPolicy)), {
    readOnly: true,
    what: "reading the host's facts",
  });
  const lines = splitSections(r.stdout).get('files') ?? [];
  const read = r.stdout.includes('@@end') ? parseReadMany(files, lines, host.linkPolicy) : null;
  if (!read) {
    throw new HostError(host.name, `cannot read the host's facts: ${whyFailed(r)}`);
  }
  return { facts: parseBaseFacts(r.stdout), files: read };
}
