/*
 * `node dist/bench/hocon-parse.js`: what reading and editing a large jvb.conf costs, as discovery
 * and the bridge-config step do it (parse once, list the shard blocks, read their keys, set one
 * block and turn websockets off). Two shapes: 800 shard blocks, and a 2 MiB file of plain keys.
 * Prints the median of 5 runs of each stage, and the heap the parsed document holds.
 */
import {
  bridgeFiles,
  editJvbConf,
  effectiveShard,
  hoconShards,
  layoutOf,
} from '../playbooks/jitsi-load-balancing/bridge-files.js';
import { HoconDoc } from '../src/modules/hocon/hocon-doc.js';

function shardBlocks(n: number): string {
  const blocks = Array.from(
    { length: n },
    (_, i) =>
      `        shard${i} {\n            HOSTNAME = "10.0.${i >> 8}.${i & 255}"\n            DOMAIN = "auth.meet.example.test"\n            USERNAME = jvb\n            PASSWORD = "secret-${i}"\n            MUC_JIDS = "JvbBrewery@internal.auth.meet.example.test"\n            MUC_NICKNAME = nick-${i}\n        }\n`,
  );
  return `videobridge {\n    websockets {\n        enabled = true\n    }\n    apis.xmpp-client.configs {\n${blocks.join('')}    }\n}\n`;
}

function plainKeys(bytes: number): string {
  const lines: string[] = ['videobridge {'];
  let size = 14;
  for (let i = 0; size < bytes; i++) {
    const line = `    key${i} = "value ${i} with some text" # a comment`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n    websockets.enabled = true\n}\n`;
}

function median(f: () => void): number {
  const times: number[] = [];
  for (let n = 0; n < 5; n++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

const WANT = {
  HOSTNAME: '10.0.0.10',
  PASSWORD: 'new',
  MUC_NICKNAME: 'jvb-a',
  DISABLE_CERTIFICATE_VERIFICATION: 'true',
};

function bench(label: string, text: string): void {
  const doc = new HoconDoc(text);
  const heapBefore = process.memoryUsage().heapUsed;
  const held = [new HoconDoc(text), new HoconDoc(text), new HoconDoc(text), new HoconDoc(text)];
  const heapPerDoc = (process.memoryUsage().heapUsed - heapBefore) / held.length;
  const rows: [string, number][] = [
    ['parse (HoconDoc)', median(() => new HoconDoc(text))],
    ['read every shard block', median(() => hoconShards(doc))],
    ['edit: shard block + websockets off', median(() => editJvbConf(doc, 'shard0', WANT, { websocketsOff: true }))],
    [
      'discovery + plan, as a run does it',
      median(() => {
        const files = bridgeFiles('jvb1', text, null);
        layoutOf(files);
        effectiveShard(files);
        editJvbConf(files.jvb, effectiveShard(files)?.id ?? 'shard', WANT, { websocketsOff: true });
      }),
    ],
  ];
  console.log(
    `${label}: ${(text.length / 1024).toFixed(0)} KiB, ${doc.fields.length} fields, ~${(heapPerDoc / 2 ** 20).toFixed(1)} MiB heap per parsed document`,
  );
  for (const [what, ms] of rows) console.log(`  ${what.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms`);
  held.length = 0;
}

bench('800 shard blocks', shardBlocks(800));
bench('2 MiB of plain keys', plainKeys(2 * 2 ** 20));
