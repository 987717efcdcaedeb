import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editJvbConf, editLegacyProperties } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import type { Command } from '../../src/commands.js';
import type { Change, Playbook } from '../../src/engine/playbook.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import type { Inventory } from '../../src/inventory/types.js';
import { planFileEdit } from '../../src/modules/file/edit-file.js';
import { escapeValue } from '../../src/modules/properties/properties.js';
import { quoteShellValue, setShellVars } from '../../src/modules/shell-vars/shell-vars.js';
import { HostError } from '../../src/transport/host.js';
import { quoteWord } from '../../src/transport/shell-quote.js';
import { oracleForms } from './secret-oracle.js';
import { TEST_ROLES, TEST_SCHEMA } from './test-playbook.js';

/** The password a bridge has (nobody told the redactor of it) and the one it is to get (registered). */
export interface SecretPair {
  old: string;
  new: string;
}

/** One bridge's files, each holding the old password the way that syntax spells it; and how each becomes the new one. */
function secretFiles(pair: SecretPair): { name: string; old: string; edit: (t: string | null) => string }[] {
  const { old, new: next } = pair;
  return [
    {
      name: 'jvb.conf',
      old: [
        'videobridge {',
        '  apis.xmpp-client.configs {',
        '    shard {',
        '      HOSTNAME = "10.0.0.1"',
        '      USERNAME = jvb',
        // Another case than the tool writes: HOCON keys here are case-insensitive to the bridge.
        `      password = ${JSON.stringify(old)}`,
        '      MUC_NICKNAME = nick-jvb1',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
      edit: (t) =>
        editJvbConf(t === null ? null : new HoconDoc(t), 'shard', { PASSWORD: next }, { websocketsOff: false }).text,
    },
    {
      name: 'sip-communicator.properties',
      old: `org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=10.0.0.1\norg.jitsi.videobridge.xmpp.user.shard.PASSWORD=${escapeValue(old)}\n`,
      edit: (t) => editLegacyProperties(t, 'shard', { PASSWORD: next }),
    },
    {
      name: 'config',
      old: `JVB_HOSTNAME=meet.example.org\nJVB_SECRET=${quoteWord(old)}\nJAVA_SYS_PROPS="-Dconfig.file=/etc/jitsi/videobridge/jvb.conf"\n`,
      edit: (t) => setShellVars(t, { JVB_SECRET: next }),
    },
    {
      name: 'secrets.env',
      old: `TURN_PASSWORD=${quoteWord(old)}\nexport API_SECRET=${quoteShellValue(old)}\nSIGNING_KEY=${quoteWord(old)}\njicofo_auth_password=${quoteWord(old)}\n`,
      edit: (t) =>
        setShellVars(t, { TURN_PASSWORD: next, API_SECRET: next, SIGNING_KEY: next, jicofo_auth_password: next }),
    },
    {
      name: 'selections',
      old: `jitsi-videobridge2 jitsi-videobridge/jvb-hostname string meet.example.org\njitsi-videobridge2 jitsi-videobridge/jvbsecret password ${old}\n`,
      edit: () =>
        `jitsi-videobridge2 jitsi-videobridge/jvb-hostname string meet.example.org\njitsi-videobridge2 jitsi-videobridge/jvbsecret password ${next}\n`,
    },
    {
      name: 'passwords.dat',
      old: `Name: jitsi-videobridge/jvbsecret\nTemplate: jitsi-videobridge/jvbsecret\nValue: ${old}\nOwners: jitsi-videobridge2\nFlags: seen\n\n`,
      edit: () =>
        `Name: jitsi-videobridge/jvbsecret\nTemplate: jitsi-videobridge/jvbsecret\nValue: ${next}\nOwners: jitsi-videobridge2\nFlags: seen\n\n`,
    },
    {
      name: 'account.json',
      old: `{\n  "user": "jvb",\n  "password": ${JSON.stringify(old)}\n}\n`,
      edit: () => `{\n  "user": "jvb",\n  "password": ${JSON.stringify(next)}\n}\n`,
    },
  ];
}

/** The bridges: jvb1 has its files replaced (and prints every form of the new secret), jvb2 fails quoting both. */
export const SECRET_BRIDGES = ['jvb1', 'jvb2'];

/** A fleet of local directories, jvb1's holding the old password in every file; and its inventory on disk. */
export async function secretFleet(
  pair: SecretPair,
): Promise<{ inventory: Inventory; inventoryFile: string; root: string; dirOf: (h: string) => string }> {
  const root = await mkdtemp(join(tmpdir(), 'js-secrets-'));
  for (const h of ['meet', ...SECRET_BRIDGES]) await mkdir(join(root, h), { recursive: true });
  for (const f of secretFiles(pair)) await writeFile(join(root, 'jvb1', f.name), f.old);
  const text = [
    'all:',
    '  vars: { ansible_connection: local, ansible_user: root }',
    '  children:',
    '    meet: { hosts: { meet: { private_address: 10.0.0.1 } } }',
    '    jvb:',
    '      hosts:',
    ...SECRET_BRIDGES.map((b, i) => `        ${b}: { private_address: 10.0.0.${i + 11} }`),
    '',
  ].join('\n');
  const inventoryFile = join(root, 'inventory.yaml');
  await writeFile(inventoryFile, text);
  return {
    inventory: parseInventory(text, inventoryFile, TEST_SCHEMA),
    inventoryFile,
    root,
    dirOf: (h) => join(root, h),
  };
}

/** The lines jvb1's command prints: every form of the new secret, as a value and inside words; the old one after its key. */
export function echoedLines(pair: SecretPair): string[] {
  return [
    ...oracleForms(pair.new).flatMap(({ form }) => [
      `form=${form}`,
      `"${form}"`,
      form,
      ...(form.length >= 4 ? [`x${form}y`] : []),
    ]),
    `PASSWORD=${pair.old}`,
    `jvb password: ${pair.old}`,
  ];
}

/** jvb2's change: it fails, its error quoting the old password after its key and the new one in quotes. */
function failingLogin(pair: SecretPair): Change {
  return {
    description: `log in as jvb with "${pair.new}"`,
    async apply(h) {
      throw new HostError(h.name, `login refused: password=${pair.old} (the shard's is "${pair.new}")`);
    },
  };
}

/**
 * A playbook whose one step replaces a bridge's files holding the old password by the new one,
 * runs a command on it that prints the new one in every form, and fails on the other bridge with
 * both in its error. Discovery registers the new secret only, as a real run knows only its own.
 */
export function secretPlaybook(root: string, pair: SecretPair): Playbook<{ secret: string }> {
  return {
    name: 'secrets',
    roles: TEST_ROLES,
    variables: {},
    watchPackages: [],
    async discover(ctx) {
      ctx.secrets.add(pair.new);
      return { secret: pair.new };
    },
    describe: () => [{ text: `the secret "${pair.new}" is registered; the old one is not` }],
    handlers: [
      {
        name: 'restart thing',
        description: 'restart the thing',
        async run(_host, io) {
          io.output('stdout', `restarted with password=${pair.old}`);
        },
      },
    ],
    steps: [
      {
        id: 'secret-files',
        title: 'Replace the password in every file',
        why: 'Every syntax a password is written in, old and new.',
        roles: ['jvb'],
        async plan(ctx) {
          const notes = [`the nickname is "${pair.new}"`, `the old password=${pair.old}`];
          if (ctx.spec.name === 'jvb2') return { changes: [failingLogin(pair)], notes };
          const changes: Change[] = [];
          for (const f of secretFiles(pair)) {
            const c = await planFileEdit(ctx.host, {
              path: join(root, ctx.spec.name, f.name),
              transform: f.edit,
              notify: ['restart thing'],
            });
            if (c) changes.push(c);
          }
          const lines = echoedLines(pair);
          changes.push({
            description: `print the password '${pair.new}' in every form`,
            async apply(h, io) {
              const r = await h.exec(['sh', '-c', 'printf "%s\\n" "$@"', 'echo', ...lines], { onLine: io.output });
              if (r.code !== 0) throw new HostError(h.name, 'printf failed');
            },
          });
          return { changes, notes };
        },
      },
    ],
  };
}

/** The playbook as a command of the CLI, for parseCli and main. */
export function secretCommand(root: string, pair: SecretPair): Command {
  return {
    name: 'secrets',
    summary: 'the secret test playbook',
    description: 'Replaces a password in every syntax.',
    readOnly: false,
    variables: {},
    load: async () => secretPlaybook(root, pair),
  };
}
