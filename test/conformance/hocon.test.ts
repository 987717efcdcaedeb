import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { bridgeFiles, editJvbConf, effectiveShard } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { HoconSyntaxError, MAX_DEPTH } from '../../src/modules/hocon/parse-hocon.js';
import {
  ensureHoconReferences,
  hoconReferencesUnavailable,
  readWithRubyHocon,
  readWithTypesafe,
  type ReferenceReading,
} from '../support/hocon-reference.js';

await ensureHoconReferences();
const why = hoconReferencesUnavailable();
if (why && process.env.CI) throw new Error(`the HOCON conformance test cannot run in CI: ${why}`);

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/hocon/', import.meta.url));
const ENV = { JS_HOCON_SECRET: 'env-secret', JS_HOCON_HOME: '/home/jvb' };
const CONFIGS = ['videobridge', 'apis', 'xmpp-client', 'configs'];
/** What the bridge-config step sets (desiredShard), with a password full of HOCON's special characters. */
const WANT = {
  HOSTNAME: '10.0.0.10',
  PORT: '5280',
  DOMAIN: 'auth.meet.example.test',
  USERNAME: 'jvb',
  PASSWORD: 'p"a$s\\w{rd}#//é',
  MUC_JIDS: 'JvbBrewery@internal.auth.meet.example.test',
  MUC_NICKNAME: 'jvb-a',
  DISABLE_CERTIFICATE_VERIFICATION: 'true',
};
/** Nested deeper than our bound: Typesafe Config reads it, we refuse it by design (MAX_DEPTH). */
const BEYOND_OUR_BOUND = new Set(['deep-nesting.conf']);

type Flat = Map<string, string>;
const tally = { java: 0, javaAgreed: 0, ruby: 0, rubyAgreed: 0 };
/** Where ruby-hocon reads otherwise than Typesafe Config (we follow Typesafe Config, the bridge's). */
const rubyOwnWay: string[] = [];

/** path → "TYPE:value", numbers by their value (Java writes 0010 as 10, 1e3 as 1000). */
function flatRef(r: ReferenceReading): Flat {
  return new Map(
    r.leaves!.map(([p, type, text]) => [
      JSON.stringify(p),
      type === 'STRING'
        ? `S:${JSON.parse(text) as string}`
        : type === 'NUMBER'
          ? `N:${Number(text)}`
          : `${type[0]}:${text}`,
    ]),
  );
}

function flatOurs(d: HoconDoc): Flat {
  return new Map(
    d
      .leaves()
      .map((l) => [JSON.stringify(l.path), l.type === 'NUMBER' ? `N:${Number(l.value)}` : `${l.type[0]}:${l.value}`]),
  );
}

/** One check per path either side has: equal or not. */
function compare(ours: Flat, ref: Flat, who: 'java' | 'ruby', file: string, java?: Flat): string[] {
  const bad: string[] = [];
  for (const k of new Set([...ours.keys(), ...ref.keys()])) {
    tally[who]++;
    if (ours.get(k) === ref.get(k)) tally[`${who}Agreed`]++;
    else if (who === 'ruby' && java && java.get(k) === ours.get(k))
      rubyOwnWay.push(`${file} ${k}: ruby-hocon ${ref.get(k)}, Typesafe Config ${java.get(k)}`);
    else bad.push(`${file} ${k}: ours ${ours.get(k)}, ${who} ${ref.get(k)}`);
  }
  return bad;
}

function tryParse(text: string): HoconDoc | HoconSyntaxError {
  try {
    return new HoconDoc(text, { env: ENV });
  } catch (e) {
    if (e instanceof HoconSyntaxError) return e;
    throw e;
  }
}

describe('HOCON conformance: Typesafe Config and ruby-hocon are the oracles', { skip: why ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'js-hocon-'));
  const originals = [
    ...readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.conf'))
      .map((f) => join(FIXTURES, f)),
    ...readdirSync(join(FIXTURES, 'malformed')).map((f) => join(FIXTURES, 'malformed', f)),
    fileURLToPath(new URL('../../../test/fixtures/jitsi/jvb.conf', import.meta.url)),
  ];
  /** original → the file our editor wrote from it, and the block id it edited. */
  const edited = new Map<string, { path: string; id: string; notes: string[] }>();
  let java: Map<string, ReferenceReading>;
  let ruby: Map<string, ReferenceReading>;

  before(async () => {
    for (const file of originals) {
      const text = readFileSync(file, 'utf8');
      const doc = tryParse(text);
      if (doc instanceof HoconSyntaxError) continue;
      // The bridge-config step's edits: the shard block set (the block it has, or "shard"), websockets off.
      const id = effectiveShard(bridgeFiles('jvb1', text, null))?.id ?? 'shard';
      const r = editJvbConf(new HoconDoc(text), id, WANT, { websocketsOff: true });
      const path = join(dir, `${basename(file, '.conf')}.edited.conf`);
      writeFileSync(path, r.text);
      edited.set(file, { path, id, notes: r.notes });
    }
    const all = [...originals, ...[...edited.values()].map((e) => e.path)];
    [java, ruby] = await Promise.all([readWithTypesafe(all, ENV), readWithRubyHocon(all, ENV)]);
  });

  after(() => {
    console.log(
      `hocon: ${tally.javaAgreed} of ${tally.java} checks agree with Typesafe Config, ${tally.rubyAgreed} of ${tally.ruby} with ruby-hocon` +
        (rubyOwnWay.length
          ? ` (ruby-hocon reads ${rubyOwnWay.length} otherwise than Typesafe Config, which we follow: ${rubyOwnWay.join('; ')})`
          : ''),
    );
  });

  test('every fixture: what we read (path → value of every scalar) is what both read; what they refuse, we refuse', () => {
    const bad: string[] = [];
    for (const file of originals) {
      const name = basename(file);
      const ours = tryParse(readFileSync(file, 'utf8'));
      const j = java.get(file)!;
      const r = ruby.get(file)!;
      if (BEYOND_OUR_BOUND.has(name)) {
        assert.ok(j.ok && ours instanceof HoconSyntaxError && /deeper than 256/.test(ours.reason), name);
        continue;
      }
      tally.java++;
      tally.ruby++;
      if (!j.ok || ours instanceof HoconSyntaxError) {
        if (!j.ok === ours instanceof HoconSyntaxError) tally.javaAgreed++;
        else
          bad.push(
            `${name}: Typesafe Config ${j.ok ? 'reads it' : `refuses it (${j.error})`}, we ${ours instanceof HoconSyntaxError ? `refuse it (${ours.message})` : 'read it'}`,
          );
        if (!r.ok === ours instanceof HoconSyntaxError) tally.rubyAgreed++;
        else bad.push(`${name}: ruby-hocon ${r.ok ? 'reads it' : 'refuses it'}, we do not`);
        continue;
      }
      tally.javaAgreed++;
      if (r.ok) tally.rubyAgreed++;
      else bad.push(`${name}: ruby-hocon refuses it: ${r.error}`);
      const javaFlat = flatRef(j);
      bad.push(...compare(flatOurs(ours), javaFlat, 'java', name));
      if (r.ok) bad.push(...compare(flatOurs(ours), flatRef(r), 'ruby', name, javaFlat));
    }
    assert.deepEqual(bad, []);
    assert.ok(originals.filter((f) => !java.get(f)!.ok).length >= 15, 'the malformed fixtures are refused');
  });

  test('every file our editor writes reads, through both, as the values we meant and the rest as before', () => {
    const bad: string[] = [];
    for (const [file, { path, id }] of edited) {
      const name = basename(path);
      const before = java.get(file)!;
      const j = java.get(path)!;
      const r = ruby.get(path)!;
      tally.java++;
      tally.ruby++;
      if (j.ok) tally.javaAgreed++;
      else bad.push(`${name}: Typesafe Config refuses what we wrote: ${j.error}`);
      if (r.ok) tally.rubyAgreed++;
      else bad.push(`${name}: ruby-hocon refuses what we wrote: ${r.error}`);
      if (!j.ok || !r.ok) continue;
      // The values we meant, as the bridge itself turns the block into its settings.
      const settings = j.bridge?.[id] ?? {};
      for (const [k, v] of Object.entries(WANT)) {
        tally.java++;
        if (settings[k] === v) tally.javaAgreed++;
        else bad.push(`${name}: the bridge would read ${k} = ${settings[k]}, not ${v}`);
      }
      // And every other scalar as it was, through both readers.
      const mine = flatOurs(new HoconDoc(readFileSync(path, 'utf8'), { env: ENV }));
      const touched = (k: string) => {
        const p = JSON.parse(k) as (string | number)[];
        const inBlock = CONFIGS.every((s, n) => p[n] === s) && p[CONFIGS.length] === id;
        return (
          (inBlock && p.length === CONFIGS.length + 2 && String(p.at(-1)).toUpperCase() in WANT) ||
          k === JSON.stringify(['videobridge', 'websockets', 'enabled']) ||
          // substitutions.conf: copy = ${videobridge.websockets} follows websockets off
          k === JSON.stringify(['videobridge', 'copy', 'enabled'])
        );
      };
      const javaAfter = flatRef(j);
      for (const [k, v] of flatRef(before)) {
        if (touched(k)) continue;
        tally.java++;
        if (javaAfter.get(k) === v) tally.javaAgreed++;
        else bad.push(`${name} ${k}: was ${v}, now ${javaAfter.get(k)}`);
      }
      if (javaAfter.has(JSON.stringify(['videobridge', 'websockets', 'enabled'])))
        assert.equal(javaAfter.get(JSON.stringify(['videobridge', 'websockets', 'enabled'])), 'B:false', name);
      bad.push(...compare(mine, javaAfter, 'java', name));
      bad.push(...compare(mine, flatRef(r), 'ruby', name, javaAfter));
    }
    assert.deepEqual(bad, []);
    assert.ok(edited.size >= 13, `${edited.size} files edited`);
  });

  test('a key spelled two ways: the bridge does not take the last one in the file, so the editor sets both and says so', () => {
    const file = join(FIXTURES, 'case-variants.conf');
    const picked = java.get(file)!.bridge!.shard!;
    const doc = new HoconDoc(readFileSync(file, 'utf8'));
    const base = [...CONFIGS, 'shard'];
    // For at least one key, what the bridge reads is not the spelling defined last (our get, file order).
    const notLast = ['HOSTNAME', 'MUC_NICKNAME'].filter(
      (k) => picked[k] !== doc.get([...base, k], { ignoreCase: true }),
    );
    console.log(
      `case-variants.conf: the bridge reads HOSTNAME = ${picked.HOSTNAME}, MUC_NICKNAME = ${picked.MUC_NICKNAME}`,
    );
    assert.ok(notLast.length > 0, 'the bridge took the last spelling every time: file order would do');
    const notes = edited.get(file)!.notes;
    assert.ok(
      notes.some((n) => /HOSTNAME is spelled 2 ways, HOSTNAME \(line 4\) and hostname \(line 5\)/.test(n)),
      notes.join('\n'),
    );
    assert.ok(
      notes.some((n) => /MUC_NICKNAME is spelled 2 ways/.test(n)),
      notes.join('\n'),
    );
    assert.equal(MAX_DEPTH, 256);
  });
});
