import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { editJvbConf } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { HoconSyntaxError } from '../../src/modules/hocon/parse-hocon.js';
import { HoconEditError } from '../../src/modules/hocon/set-hocon.js';
import { fixture } from '../support/fixtures.js';

/** A small seeded generator (mulberry32): the same mutations on every run, so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// What HOCON gives meaning to, and what breaks strings: the characters a mutation inserts.
const ALPHABET = [
  ...'{}[]"=:,+$?#/\\.\n\t \r`^!@*&()',
  '"""',
  '${',
  '${?',
  '//',
  '+=',
  '\\u',
  '\\q',
  '\u0000',
  '\u001b',
  '\u00a0',
  '\ufeff',
  '\u2028',
  'include ',
  'true',
  'null',
  '10.0',
  '-',
  '\ud800',
];

const corpus = [
  fixture('jitsi/jvb.conf'),
  ...readdirSync(new URL('../../../test/fixtures/hocon/', import.meta.url))
    .filter((f) => f.endsWith('.conf'))
    .map((f) => fixture(`hocon/${f}`)),
];

function mutate(text: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (text.length + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  switch (Math.floor(rnd() * 7)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 8));
    case 1:
      return text.slice(0, at) + pick(ALPHABET) + text.slice(at);
    case 2: {
      const from = Math.floor(rnd() * text.length);
      return text.slice(0, at) + text.slice(from, from + Math.floor(rnd() * 40)) + text.slice(at);
    }
    case 3:
      return text.slice(0, at);
    case 4: {
      const n = Math.floor(rnd() * 600);
      const [o, c] = pick([
        ['{', '}'],
        ['[', ']'],
        ['a = {', '}'],
        ['[{b = ', '}]'],
        ['${', '}'],
      ] as const);
      return text.slice(0, at) + o.repeat(n) + (rnd() < 0.5 ? c.repeat(n) : '') + text.slice(at);
    }
    case 5:
      return text.slice(0, at) + pick(ALPHABET).repeat(1 + Math.floor(rnd() * 5000)) + text.slice(at);
    default:
      return text.replace(/\n/g, () => (rnd() < 0.1 ? pick(['\n\n', '', '\r\n', ' ', '\n=\n']) : '\n'));
  }
}

const WANT = {
  HOSTNAME: '10.0.0.10',
  DOMAIN: 'auth.meet.example.test',
  USERNAME: 'jvb',
  PASSWORD: 'p"a$s\\w{rd}#',
  MUC_JIDS: 'JvbBrewery@internal.auth.meet.example.test',
  MUC_NICKNAME: 'jvb-a',
  DISABLE_CERTIFICATE_VERIFICATION: 'true',
};

describe('HOCON fuzzing: mutations of real jvb.conf files', () => {
  test('every mutation parses or throws a HoconSyntaxError with a position; edits of what parses read back', () => {
    const rnd = random(23);
    const outcomes = { parsed: 0, refused: 0, edited: 0, editRefused: 0 };
    let slowest = 0;
    for (let n = 0; n < 4000; n++) {
      let text = corpus[n % corpus.length]!;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) text = mutate(text, rnd);
      const started = performance.now();
      let doc: HoconDoc | null = null;
      try {
        doc = new HoconDoc(text);
        outcomes.parsed++;
      } catch (e) {
        if (!(e instanceof HoconSyntaxError)) assert.fail(`mutation ${n}: ${String(e)}\n${JSON.stringify(text)}`);
        assert.ok(e.line >= 1 && e.col >= 1 && e.reason.length > 0, e.message);
        outcomes.refused++;
      }
      if (doc) {
        try {
          const out = editJvbConf(doc, 'shard', WANT, { websocketsOff: true }).text;
          assert.equal(
            new HoconDoc(out).get(['videobridge', 'apis', 'xmpp-client', 'configs', 'shard', 'PASSWORD'], {
              ignoreCase: true,
            }),
            WANT.PASSWORD,
          );
          outcomes.edited++;
        } catch (e) {
          // A mutation may leave a later definition that overrides the block: refused, not written.
          if (!(e instanceof HoconEditError))
            assert.fail(`edit of mutation ${n}: ${String(e)}\n${JSON.stringify(text)}`);
          outcomes.editRefused++;
        }
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    console.log(`hocon fuzz: ${JSON.stringify(outcomes)}, slowest ${slowest.toFixed(0)} ms`);
    assert.ok(outcomes.parsed > 200 && outcomes.refused > 200, JSON.stringify(outcomes));
    assert.ok(slowest < 2000, `a mutation took ${slowest} ms`);
  });
});
