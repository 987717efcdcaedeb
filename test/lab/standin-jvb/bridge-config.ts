import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import { parseProperties } from '../../../src/modules/properties/properties.js';

/**
 * TEST STAND-IN. What the real videobridge reads to find its shard(s): legacy
 * `org.jitsi.videobridge.xmpp.user.<id>.*` properties win over jvb.conf's
 * `videobridge.apis.xmpp-client.configs.<id>`, whose keys are case-insensitive; a block missing
 * any required key is ignored.
 */
export interface ShardConfig {
  id: string;
  source: string;
  hostname: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  mucJids: string;
  nickname: string;
  disableCertificateVerification: boolean;
}

const REQUIRED = ['HOSTNAME', 'USERNAME', 'PASSWORD', 'MUC_JIDS', 'MUC_NICKNAME'];
const LEGACY_PREFIX = 'org.jitsi.videobridge.xmpp.user.';

function build(id: string, source: string, get: (k: string) => string | undefined): ShardConfig | { ignored: string } {
  const missing = REQUIRED.filter((k) => !get(k));
  if (missing.length) return { ignored: `${source}: shard ${id} lacks ${missing.join(', ')}; ignored` };
  return {
    id,
    source,
    hostname: get('HOSTNAME')!,
    port: Number(get('PORT') ?? 5222),
    domain: get('DOMAIN') ?? get('HOSTNAME')!,
    username: get('USERNAME')!,
    password: get('PASSWORD')!,
    mucJids: get('MUC_JIDS')!,
    nickname: get('MUC_NICKNAME')!,
    disableCertificateVerification: /^true$/i.test(get('DISABLE_CERTIFICATE_VERIFICATION') ?? 'false'),
  };
}

export function readShards(
  jvbConf: string | null,
  jvbConfPath: string,
  properties: string | null,
  propertiesPath: string,
): { shards: ShardConfig[]; notes: string[] } {
  const notes: string[] = [];
  const shards: ShardConfig[] = [];
  const legacy = new Map<string, Map<string, string>>();
  for (const e of parseProperties(properties ?? '')) {
    if (!e.key.startsWith(LEGACY_PREFIX)) continue;
    const [id, ...rest] = e.key.slice(LEGACY_PREFIX.length).split('.');
    if (!id || rest.length === 0) continue;
    if (!legacy.has(id)) legacy.set(id, new Map());
    legacy.get(id)!.set(rest.join('.').toUpperCase(), e.value);
  }
  if (legacy.size > 0) {
    notes.push(`using the legacy shard settings in ${propertiesPath}; jvb.conf's are ignored`);
    for (const [id, map] of legacy) {
      const r = build(id, propertiesPath, (k) => map.get(k));
      if ('ignored' in r) notes.push(r.ignored);
      else shards.push(r);
    }
    return { shards, notes };
  }
  const base = ['videobridge', 'apis', 'xmpp-client', 'configs'];
  const doc = jvbConf ? new HoconDoc(jvbConf) : null;
  for (const id of doc ? doc.objectsUnder(base) : []) {
    const r = build(id, jvbConfPath, (k) => doc!.get([...base, id, k], { ignoreCase: true }));
    if ('ignored' in r) notes.push(r.ignored);
    else shards.push(r);
  }
  return { shards, notes };
}
