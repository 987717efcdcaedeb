import type { Change } from '../../engine/types.js';
import { HostError, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { commandChange } from '../command-change.js';
import { fileChange } from '../file/edit-file.js';
import { splitSections } from '../probe-sections.js';
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

const PROBE = `
echo '@@tables'; nft list tables 2>&1 || echo '@@error'
echo '@@end'`;

/** Where the rule's own file goes. */
export function nftRulePath(rule: Pick<PortRule, 'proto' | 'port'>, paths: NftPaths = NFT_PATHS): string {
  return `${paths.dir}/${ruleId(rule)}.nft`;
}

export async function planNftables(host: Host, rule: PortRule, paths: NftPaths = NFT_PATHS): Promise<Change[]> {
  const r = await host.exec(shScript(PROBE), { readOnly: true });
  const sections = splitSections(r.stdout);
  if (!sections.has('end') || sections.has('error')) {
    throw new HostError(host.name, `cannot list the nftables tables: ${(sections.get('tables') ?? []).join(' ') || r.stderr.trim()}`);
  }
  const file = nftRulePath(rule, paths);
  const wanted = nftRuleFile(rule);
  const changes: Change[] = [];
  const current = await host.readFile(file);
  const loaded = (sections.get('tables') ?? []).includes(`table inet ${tableName(rule)}`);
  if (current === null && (await host.stat(paths.dir)) === null) {
    changes.push(commandChange(`create ${paths.dir}`, ['mkdir', '-p', '-m', '0755', paths.dir]));
  }
  const fileEdit = fileChange({ path: file, description: `write ${file}: ${describeRule(rule)}`, transform: () => wanted }, current);
  if (fileEdit) changes.push(fileEdit);
  if (fileEdit || !loaded) {
    changes.push(commandChange(`load table inet ${tableName(rule)} into the running firewall`, ['nft', '-f', file]));
  }
  const mainEdit = fileChange(
    { path: paths.mainConf, description: `include ${file} from ${paths.mainConf} (loaded at boot)`, transform: (t) => includeInMainConf(t, file), write: { mode: 0o755 } },
    await host.readFile(paths.mainConf),
  );
  if (mainEdit) changes.push(mainEdit);
  return changes;
}
