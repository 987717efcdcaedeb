import { colibriLocations } from '../../playbooks/jitsi-load-balancing/colibri-routes.js';
import { bridgeFiles } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { BridgeProbe, BridgeRead, MeetRead } from '../../playbooks/shard-doctor/checks.js';
import type { ScramAccount } from '../../playbooks/jitsi-load-balancing/prosody-account.js';

/** What the doctor reads of a healthy shard, for its pure checks; each piece can be changed. */

export const DOMAIN = 'meet.example.org';
export const BREWERY = `JvbBrewery@internal.auth.${DOMAIN}`;
export const SECRET = 'Right-Secret-42';

export function account(password: string): ScramAccount {
  const salt = 'c2FsdA';
  const salted = pbkdf2Sync(password, salt, 4096, 20, 'sha1');
  const storedKey = createHash('sha1').update(createHmac('sha1', salted).update('Client Key').digest()).digest('hex');
  return { storedKey, salt, iterations: 4096, hash: 'sha1' };
}

export const jvbConf = (over: Record<string, string> = {}, extra = '') => {
  const v = {
    HOSTNAME: '10.0.0.1',
    DOMAIN: `auth.${DOMAIN}`,
    USERNAME: 'jvb',
    PASSWORD: SECRET,
    MUC_JIDS: BREWERY,
    MUC_NICKNAME: 'nick-1',
    DISABLE_CERTIFICATE_VERIFICATION: 'true',
    ...over,
  };
  const lines = Object.entries(v).map(([k, x]) => `      ${k} = "${x}"`);
  return `videobridge {\n  websockets { enabled = false }\n  apis.xmpp-client.configs {\n    shard {\n${lines.join('\n')}\n    }\n  }\n}\n${extra}`;
};

export const probe = (over: Partial<BridgeProbe> = {}): BridgeProbe => ({
  reach: 'open',
  log: [],
  health: { code: 200, body: '{}' },
  colibriStatsCode: 404,
  addresses: ['10.0.0.11', '203.0.113.11'],
  harvest: [],
  trust: null,
  restConsumers: [],
  ...over,
});

export const bridge = (
  name: string,
  over: Partial<BridgeRead> = {},
  conf = jvbConf({ MUC_NICKNAME: `nick-${name}` }),
): BridgeRead => ({
  name,
  address: `10.0.0.${10 + Number(name.replace(/\D/g, '') || 0)}`,
  packages: { 'jitsi-videobridge2': '2.0.9823-1' },
  files: bridgeFiles(name, conf, null),
  launcher: '#!/bin/bash\nexec java\n',
  perStartNickname: false,
  probe: probe(),
  ...over,
});

export const meet = (over: Partial<MeetRead> = {}): MeetRead => ({
  name: 'meet',
  address: '10.0.0.1',
  packages: { 'jitsi-videobridge2': '2.0.9823-1' },
  prosody: { files: [], c2sInterfaces: undefined },
  c2sPort: 5222,
  domain: DOMAIN,
  breweryJid: BREWERY,
  accounts: new Map([[`jvb@auth.${DOMAIN}`, account(SECRET)]]),
  colibriLocations: colibriLocations(
    'server {\n    location ~ ^/colibri-ws/default-id/(.*) {\n        proxy_pass http://jvb1/colibri-ws/default-id/$1$is_args$args;\n    }\n}\n',
  ),
  jicofoSctp: true,
  preferSctp: undefined,
  meetNickname: 'meet-own',
  jicofo: null,
  ...over,
});
