/**
 * Ansible host ranges: "jvb[1:3].example.org" → jvb1…jvb3; "[01:10]" keeps the zero padding,
 * "[a:c]" counts letters, "[1:9:2]" steps. Several ranges in one name multiply out.
 */
export function expandHostPattern(name: string): { hosts: string[] } | { error: string } {
  const m = /^(.*?)\[([^\]:]+):([^\]:]+)(?::(\d+))?\](.*)$/.exec(name);
  if (!m) return { hosts: [name] };
  const [, head = '', from = '', to = '', stepText, tail = ''] = m;
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1) return { error: `host range "${name}" has a step below 1` };
  const values: string[] = [];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const a = Number(from);
    const b = Number(to);
    if (a > b) return { error: `host range "${name}" counts down (${from} > ${to})` };
    const width = from.startsWith('0') ? from.length : 0;
    for (let i = a; i <= b; i += step) values.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/.test(from) && /^[a-z]$/.test(to)) {
    const a = from.charCodeAt(0);
    const b = to.charCodeAt(0);
    if (a > b) return { error: `host range "${name}" counts down (${from} > ${to})` };
    for (let i = a; i <= b; i += step) values.push(String.fromCharCode(i));
  } else {
    return { error: `host range "${name}" must count numbers ([1:3]) or single letters ([a:c])` };
  }
  const hosts: string[] = [];
  for (const v of values) {
    const rest = expandHostPattern(v + tail);
    if ('error' in rest) return rest;
    hosts.push(...rest.hosts.map((h) => head + h));
  }
  return { hosts };
}
