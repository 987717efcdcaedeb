import type { VarSpec } from './inventory/types.js';

const BEGIN = "<!-- variables: made from the playbooks' declaration by `npm run docs`; do not edit by hand -->";
const END = '<!-- variables: end -->';

/** A declared default as help and the README show it ('' as ''), or null when it is found at run time. */
export function defaultText(v: Pick<VarSpec, 'default'>): string | null {
  if (v.default === undefined) return null;
  return v.default === '' ? "''" : String(v.default);
}

/** Pure: the README's table of inventory variables, from the one declaration the inventory checks. */
export function variablesTable(variables: Readonly<Record<string, VarSpec>>): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = Object.entries(variables).map(([name, v]) => {
    const type = v.type.kind === 'enum' ? v.type.values.map((x) => `\`${x}\``).join(', ') : v.type.kind;
    const d = defaultText(v);
    const dflt = d === null ? '' : `\`${d}\``;
    return `| \`${name}\` | ${cell(type)} | ${cell(dflt)} | ${cell(v.doc)} |`;
  });
  return [BEGIN, '', '| variable | type | default | meaning |', '| --- | --- | --- | --- |', ...rows, '', END].join(
    '\n',
  );
}

/** The README with its variables table replaced; null when the README has no table markers. */
export function withVariablesTable(readme: string, table: string): string | null {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) return null;
  return readme.slice(0, a) + table + readme.slice(b + END.length);
}
