/**
 * Plain scalars as Ansible reads them. Ansible loads inventories with PyYAML, which follows
 * YAML 1.1 with its own patterns: `yes/no/on/off` are booleans but `y/n` are strings, `0644` is
 * octal, `1_000` and `1:30` (base 60) are integers, a float needs a dot (`1e3` is a string), and
 * a date stays text for us (Ansible prints it back as the same text).
 */
import type { ScalarTag, Tags } from 'yaml';

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Base 60: "1:30" is 90, "1:30.5" is 90.5. */
function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function signed(text: string): { sign: number; body: string } {
  const t = text.replace(/_/g, '');
  if (t.startsWith('-')) return { sign: -1, body: t.slice(1) };
  return { sign: 1, body: t.startsWith('+') ? t.slice(1) : t };
}

export function pyInt(text: string): number {
  const { sign, body } = signed(text);
  if (body === '0') return 0;
  if (body.startsWith('0b')) return sign * parseInt(body.slice(2), 2);
  if (body.startsWith('0x')) return sign * parseInt(body.slice(2), 16);
  if (body.startsWith('0')) return sign * parseInt(body, 8);
  if (body.includes(':')) return sign * sexagesimal(body);
  return sign * parseInt(body, 10);
}

export function pyFloat(text: string): number {
  const { sign, body } = signed(text.toLowerCase());
  if (body === '.inf') return sign * Infinity;
  if (body === '.nan') return NaN;
  if (body.includes(':')) return sign * sexagesimal(body);
  return sign * Number(body.endsWith('.') ? body.slice(0, -1) : body);
}

const plain = (tag: string, test: RegExp, resolve: (s: string) => string | number | boolean): ScalarTag => ({
  tag,
  test,
  default: true,
  resolve: (s: string) => resolve(s),
});

const PY_TAGS: ScalarTag[] = [
  plain('tag:yaml.org,2002:bool', BOOL, (s) => /^(?:yes|true|on)$/i.test(s)),
  plain('tag:yaml.org,2002:int', INT, pyInt),
  plain('tag:yaml.org,2002:float', FLOAT, pyFloat),
];

/** The yaml package's YAML 1.1 tags with booleans, numbers and dates read as PyYAML reads them. */
export function pyyamlTags(tags: Tags): Tags {
  const replaced = new Set(['tag:yaml.org,2002:bool', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);
  const kept = tags.filter((t) => {
    const tag = typeof t === 'string' ? t : t.tag;
    return !replaced.has(tag) && tag !== 'tag:yaml.org,2002:timestamp';
  });
  return [...PY_TAGS, ...kept];
}
