import type { Change } from '../../contract/change.js';
import { HostError, lastLine, type Host } from '../../transport/host.js';
import { commandChange } from '../command-change.js';
import { planInstallPackages } from '../apt/install-packages.js';
import type { FirewallPlan } from './nftables.js';
import { shScript } from '../../transport/shell-quote.js';
import { fileChange } from '../file/edit-file.js';
import { splitSections } from '../probe-sections.js';
import { joinLines, splitLines } from '../text/line-endings.js';
import { describeRule, ruleId, sourcesByFamily, type PortRule } from './port-rule.js';
import { BOOT_STATE_FN, parseBootState, planBoot } from './boot.js';

/*
 * iptables: one chain of our own per rule (loopback accept, one accept per source, then drop),
 * jumped to from the first rule of INPUT. The live change is one iptables-restore --noflush
 * transaction, so the port is never open or half-configured in between. Persistence is the file
 * netfilter-persistent loads at boot, edited the same way.
 */

export interface IptablesPaths {
  rulesV4: string;
  rulesV6: string;
}

export const PERSISTENT_FILES: IptablesPaths = { rulesV4: '/etc/iptables/rules.v4', rulesV6: '/etc/iptables/rules.v6' };

type Family = 'v4' | 'v6';

/** The rules of our chain as `iptables -S` prints them. */
export function desiredChainRules(rule: PortRule, family: Family): string[] {
  const chain = ruleId(rule);
  if (rule.sources === 'any') return [`-A ${chain} -j ACCEPT`];
  const mask = family === 'v4' ? '/32' : '/128';
  const sources = sourcesByFamily(rule)[family];
  return [
    `-A ${chain} -i lo -j ACCEPT`,
    ...sources.map((s) => `-A ${chain} -s ${s.includes('/') ? s : s + mask} -j ACCEPT`),
    `-A ${chain} -j DROP`,
  ];
}

export function jumpRule(rule: PortRule): string {
  return `-A INPUT -p ${rule.proto} -m ${rule.proto} --dport ${rule.port} -j ${ruleId(rule)}`;
}

/** Pure: is the live ruleset (`iptables -S`) already as wanted? */
export function liveIsCurrent(rulesS: string, rule: PortRule, family: Family): boolean {
  const chain = ruleId(rule);
  const lines = rulesS.split('\n').map((l) => l.trim());
  const ours = lines.filter((l) => l.startsWith(`-A ${chain} `));
  const input = lines.filter((l) => l.startsWith('-A INPUT '));
  const jumps = input.filter((l) => l === jumpRule(rule));
  return (
    JSON.stringify(ours) === JSON.stringify(desiredChainRules(rule, family)) &&
    jumps.length === 1 &&
    input[0] === jumpRule(rule)
  );
}

/** The iptables-restore --noflush input that puts the live ruleset in the wanted state atomically. */
export function restoreScript(rulesS: string, rule: PortRule, family: Family): string {
  const chain = ruleId(rule);
  const jump = jumpRule(rule);
  const existingJumps = rulesS.split('\n').filter((l) => l.trim() === jump).length;
  return [
    '*filter',
    `:${chain} - [0:0]`,
    ...desiredChainRules(rule, family),
    ...Array.from({ length: existingJumps }, () => jump.replace(/^-A /, '-D ')),
    jump.replace(/^-A INPUT /, '-I INPUT 1 '),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Pure: a saved ruleset (iptables-save format) with our chain and jump in place and nothing else
 * changed. A file with no *filter table gets one.
 */
export function persistRules(saved: string | null, rule: PortRule, family: Family): string {
  const chain = ruleId(rule);
  const { lines, eol } = splitLines(saved ?? '');
  const kept = lines.filter(
    (l) =>
      !l.startsWith(`-A ${chain} `) &&
      l !== `:${chain} - [0:0]` &&
      !new RegExp(`^:${chain} - \\[\\d+:\\d+\\]$`).test(l) &&
      l.trim() !== jumpRule(rule),
  );
  let start = kept.findIndex((l) => l.trim() === '*filter');
  if (start < 0) {
    kept.push('*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT');
    start = kept.length - 5;
  }
  let end = kept.findIndex((l, n) => n > start && l.trim() === 'COMMIT');
  // Chain declarations come first in a table section; our jump goes first among the INPUT rules.
  let lastDecl = start;
  for (let n = start + 1; n < end; n++) if (kept[n]!.startsWith(':')) lastDecl = n;
  kept.splice(lastDecl + 1, 0, `:${chain} - [0:0]`);
  end++;
  const firstInput = kept.findIndex((l, n) => n > start && n < end && l.startsWith('-A INPUT '));
  kept.splice(firstInput >= 0 ? firstInput : end, 0, jumpRule(rule));
  end++;
  kept.splice(end, 0, ...desiredChainRules(rule, family));
  return joinLines(kept, eol, true);
}

const PROBE = `${BOOT_STATE_FN}
# The filter table's rules as iptables-save prints them (the format of iptables -S): save only
# reads, where listing could create the table's empty chains in nftables on some versions.
rules() { out=$("$1" -t filter 2>&1) || { printf '%s\n' "$out"; echo '@@error'; return; }; printf '%s\n' "$out" | grep '^-A ' || true; }
echo '@@v4'; rules iptables-save
if command -v ip6tables-save >/dev/null 2>&1; then echo '@@v6'; rules ip6tables-save; fi
echo '@@persist'; if command -v netfilter-persistent >/dev/null 2>&1; then echo yes; fi
echo '@@boot'; boot_state netfilter-persistent.service netfilter-persistent
echo '@@end'`;

const PERSISTENT_PRESEED =
  'iptables-persistent iptables-persistent/autosave_v4 boolean false\niptables-persistent iptables-persistent/autosave_v6 boolean false\n';

export interface IptablesOptions {
  paths?: IptablesPaths;
  allowRemoval?: boolean;
  /** false: rules live only (tests on this machine). */
  installPersistence?: boolean;
  /** The inventory allows turning on a firewall that denies by default (jitsi_firewall_enable). */
  allowEnable?: boolean;
  /** The user loads the rules at boot themselves (jitsi_firewall_boot: manual). */
  manualBoot?: boolean;
}

/** Pure: does a saved ruleset deny by default (a DROP policy on INPUT)? */
export function savedDeniesByDefault(saved: string | null): boolean {
  return /^:INPUT (DROP|REJECT)\b/m.test(saved ?? '');
}

// eslint-disable-next-line complexity -- both families, their live and saved rules, persistence and boot: the order between them is the point
export async function planIptables(host: Host, rule: PortRule, opts: IptablesOptions = {}): Promise<FirewallPlan> {
  const paths = opts.paths ?? PERSISTENT_FILES;
  const r = await host.exec(shScript(PROBE), { readOnly: true });
  const sections = splitSections(r.stdout);
  if (!sections.has('end') || sections.has('error')) {
    throw new HostError(
      host.name,
      `cannot read the iptables rules: ${lastLine((r.stdout + r.stderr).replace(/@@\w+/g, ''))}`,
    );
  }
  const changes: Change[] = [];
  const installing = sections.get('persist')?.[0] !== 'yes' && opts.installPersistence !== false;
  if (installing) {
    changes.push(
      ...(await planInstallPackages(host, ['iptables-persistent'], {
        why: '(loads the saved rules at boot)',
        allowRemoval: !!opts.allowRemoval,
        preseed: PERSISTENT_PRESEED,
      })),
    );
  }
  for (const family of ['v4', 'v6'] as const) {
    const liveLines = sections.get(family);
    if (!liveLines) continue;
    const live = liveLines.join('\n');
    const tool = family === 'v4' ? 'iptables' : 'ip6tables';
    if (!liveIsCurrent(live, rule, family)) {
      const script = restoreScript(live, rule, family);
      changes.push({
        ...commandChange(`${tool}: ${describeRule(rule)} (chain ${ruleId(rule)})`, [`${tool}-restore`, '--noflush'], {
          stdin: script,
          what: `${tool}-restore`,
        }),
        diff: script,
      });
    }
    const path = family === 'v4' ? paths.rulesV4 : paths.rulesV6;
    const change = fileChange(
      {
        path,
        description: `save the ${tool} rule in ${path} (loaded at boot)`,
        transform: (t) => persistRules(t, rule, family),
        write: { mode: 0o640 },
      },
      await host.readFile(path),
    );
    if (change) changes.push(change);
  }
  const notes = shadowedOpenings(sections.get('v4') ?? [], rule);
  // The package enables its own service when it is installed; one installed before may be off.
  if (installing || opts.installPersistence === false) return { changes, notes };
  const boot = planBoot(parseBootState(sections.get('boot')?.[0]), {
    name: 'netfilter-persistent',
    keptIn: paths.rulesV4,
    service: { unit: 'netfilter-persistent.service', script: 'netfilter-persistent' },
    deniesByDefault: savedDeniesByDefault(await host.readFile(paths.rulesV4)),
    allowEnable: !!opts.allowEnable,
    manual: !!opts.manualBoot,
  });
  if (boot.change) changes.push(boot.change);
  if (boot.note) notes.push(boot.note);
  return { changes, notes, ...(boot.unprotected ? { unprotected: boot.unprotected } : {}) };
}

/**
 * Pure: the user's own rules that accept the port from anywhere. They stay where they are (they
 * are not ours to remove), but our chain comes first in INPUT, so they are no longer reached.
 */
export function shadowedOpenings(rulesS: readonly string[], rule: PortRule): string[] {
  if (rule.sources === 'any') return [];
  const open = rulesS.filter(
    (l) =>
      /^-A INPUT /.test(l) &&
      !l.includes(ruleId(rule)) &&
      !/ -s /.test(l) &&
      new RegExp(`--dports? (\\S+,)?${rule.port}\\b`).test(l) &&
      / -j ACCEPT$/.test(l),
  );
  return open.map(
    (l) =>
      `your rule "${l}" opens ${rule.port}/${rule.proto} to everyone; it is left in place, and no longer reached: the ${ruleId(rule)} chain comes first`,
  );
}
