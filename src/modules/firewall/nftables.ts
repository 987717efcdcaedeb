import type { Change } from '../../contract/change.js';
import { HostError, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { commandChange } from '../command-change.js';
import { fileChange, sha256 } from '../file/edit-file.js';
import { splitSections } from '../probe-sections.js';
import { planInstallPackages } from '../apt/install-packages.js';
import { BOOT_STATE_FN, parseBootState, planBoot } from './boot.js';
import { describeRule, ruleId, sourcesByFamily, type PortRule } from './port-rule.js';

/*
 * nftables: a table of our own per rule, kept in a file that /etc/nftables.conf includes (so it is
 * loaded at boot) and loaded live with `nft -f`, whose "delete table; table { … }" replaces the
 * table in one transaction. Other tables are never touched.
 */

export interface NftPaths {
  /** Our rule files go here. */
  dir: string;
  /** The file the nftables service loads at boot. */
  mainConf: string;
}

export const NFT_PATHS: NftPaths = { dir: '/etc/nftables.d', mainConf: '/etc/nftables.conf' };

export function tableName(rule: PortRule): string {
  return ruleId(rule).replace(/-/g, '_');
}

/** Pure: the rule file's text. */
export function nftRuleFile(rule: PortRule): string {
  const t = tableName(rule);
  const match = `${rule.proto} dport ${rule.port}`;
  const body: string[] = [];
  if (rule.sources === 'any') body.push(`\t\t${match} accept`);
  else {
    const { v4, v6 } = sourcesByFamily(rule);
    body.push(`\t\tiif "lo" ${match} accept`);
    if (v4.length) body.push(`\t\tip saddr { ${v4.join(', ')} } ${match} accept`);
    if (v6.length) body.push(`\t\tip6 saddr { ${v6.join(', ')} } ${match} accept`);
    body.push(`\t\t${match} drop`);
  }
  return [
    `# Managed by jitsi-scale: ${describeRule(rule)}. Edits here are replaced on the next run.`,
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    '\tchain input {',
    '\t\ttype filter hook input priority filter - 5; policy accept;',
    ...body,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Pure: the main config with an include of our file appended once. */
export function includeInMainConf(conf: string | null, file: string): string {
  const line = `include "${file}"`;
  const text = conf ?? '#!/usr/sbin/nft -f\n';
  if (text.split(/\r?\n/).some((l) => l.trim() === line)) return text;
  return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${line}\n`;
}

const PROBE = `${BOOT_STATE_FN}
echo '@@nft'; command -v nft || true
echo '@@tables'; if command -v nft >/dev/null 2>&1; then nft list tables 2>&1 || echo '@@error'; fi
echo '@@boot'; boot_state nftables.service nftables
echo '@@end'`;

/** Pure: does an nftables config deny by default (a base chain with a drop policy)? */
export function deniesByDefault(conf: string | null): boolean {
  return /policy\s+drop\s*;/.test((conf ?? '').replace(/#.*$/gm, ''));
}

export interface NftOptions {
  paths?: NftPaths;
  /** The inventory allows turning on a firewall that denies by default (jitsi_firewall_enable). */
  allowEnable?: boolean;
  /** The inventory allows an install to remove packages (jitsi_allow_package_removal). */
  allowRemoval?: boolean;
  /** false leaves boot alone: the rule is not made to survive a reboot (tests on this machine). */
  manageBoot?: boolean;
  /** The user loads the rules at boot themselves (jitsi_firewall_boot: manual). */
  manualBoot?: boolean;
}

/** What a firewall's plan does: its changes, and what the user should know about it. */
export interface FirewallPlan {
  changes: Change[];
  notes: string[];
  /**
   * Set when, even with these changes made, the port is not kept to its sources for good (the
   * rules are not loaded at boot, a family is not filtered): why. Prosody is then not opened wider.
   */
  unprotected?: string;
}

/**
 * The include, when the package that writes the main config is installed by the same plan: the
 * file is read when the change runs, after the install, and written atomically like any edit.
 */
function includeAfterInstall(mainConf: string, file: string): Change {
  return {
    description: `include ${file} from ${mainConf} (as the nftables package writes it; loaded at boot)`,
    diff: `--- ${mainConf}\n+++ ${mainConf}\n@@ at the end @@\n+include "${file}"\n`,
    async apply(h) {
      const now = await h.readFile(mainConf);
      const next = includeInMainConf(now, file);
      if (next === now) return {};
      const r = await h.writeFile(mainConf, next, { mode: 0o755, expectSha256: now === null ? 'absent' : sha256(now) });
      return { backup: r.backup };
    },
  };
}

/** Where the rule's own file goes. */
export function nftRulePath(rule: Pick<PortRule, 'proto' | 'port'>, paths: NftPaths = NFT_PATHS): string {
  return `${paths.dir}/${ruleId(rule)}.nft`;
}

// eslint-disable-next-line complexity -- the nftables cases in one place: install, include, table, boot, drop policy; split, the order between them is lost
export async function planNftables(host: Host, rule: PortRule, opts: NftOptions = {}): Promise<FirewallPlan> {
  const paths = opts.paths ?? NFT_PATHS;
  const r = await host.exec(shScript(PROBE), { readOnly: true });
  const sections = splitSections(r.stdout);
  if (!sections.has('end') || sections.has('error')) {
    throw new HostError(
      host.name,
      `cannot list the nftables tables: ${(sections.get('tables') ?? []).join(' ') || r.stderr.trim()}`,
    );
  }
  const changes: Change[] = [];
  const notes: string[] = [];
  if (!sections.get('nft')?.length) {
    changes.push(
      ...(await planInstallPackages(host, ['nftables'], {
        why: "(Debian's firewall tool; its table here filters this one port and nothing else)",
        allowRemoval: !!opts.allowRemoval,
      })),
    );
  }
  const file = nftRulePath(rule, paths);
  const wanted = nftRuleFile(rule);
  const current = await host.readFile(file);
  const loaded = (sections.get('tables') ?? []).includes(`table inet ${tableName(rule)}`);
  if (current === null && (await host.stat(paths.dir)) === null) {
    changes.push(commandChange(`create ${paths.dir}`, ['mkdir', '-p', '-m', '0755', paths.dir]));
  }
  const fileEdit = fileChange(
    { path: file, description: `write ${file}: ${describeRule(rule)}`, transform: () => wanted },
    current,
  );
  if (fileEdit) changes.push(fileEdit);
  if (fileEdit || !loaded) {
    changes.push(commandChange(`load table inet ${tableName(rule)} into the running firewall`, ['nft', '-f', file]));
  }
  const installing = !sections.get('nft')?.length;
  const mainConf = installing ? null : await host.readFile(paths.mainConf);
  const mainEdit = installing
    ? includeAfterInstall(paths.mainConf, file)
    : fileChange(
        {
          path: paths.mainConf,
          description: `include ${file} from ${paths.mainConf} (loaded at boot)`,
          transform: (t) => includeInMainConf(t, file),
          write: { mode: 0o755 },
        },
        mainConf,
      );
  if (mainEdit) changes.push(mainEdit);
  if (opts.manageBoot === false) return { changes, notes };
  const boot = planBoot(parseBootState(sections.get('boot')?.[0]), {
    name: 'nftables',
    keptIn: paths.mainConf,
    service: { unit: 'nftables.service', script: 'nftables' },
    deniesByDefault: deniesByDefault(mainConf),
    allowEnable: !!opts.allowEnable,
    manual: !!opts.manualBoot,
  });
  if (boot.change) changes.push(boot.change);
  if (boot.note) notes.push(boot.note);
  if (boot.unprotected) return { changes, notes, unprotected: boot.unprotected };
  return { changes, notes };
}
