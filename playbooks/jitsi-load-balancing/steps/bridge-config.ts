import { jitsi } from '../settings.js';
import type { Change, Step } from '../../../src/engine/playbook.js';
import { commandChange } from '../../../src/modules/command-change.js';
import { fileChange, linkTargets } from '../../../src/modules/file/edit-file.js';
import type { Host } from '../../../src/transport/host.js';
import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import {
  JVB_CONF,
  SECRET_FILE,
  SIP_PROPERTIES,
  bridgeFiles,
  disableLegacyShards,
  editJvbConf,
  editLegacyProperties,
  effectiveShard,
  otherShards,
  layoutOf,
  passwordsIn,
  targetLayout,
  websocketsEnabled,
  type BridgeFiles,
  type ShardValues,
} from '../bridge-files.js';
import { secretFor, type ShardFacts } from '../discover.js';

export const TRUSTED_CERT_DIR = '/usr/local/share/ca-certificates';

/** The shard settings one bridge needs, from what discovery found. */
export function desiredShard(shared: ShardFacts, bridge: string, secret: string, verify: boolean): ShardValues {
  return {
    HOSTNAME: shared.meetAddress,
    ...(shared.c2sPort !== 5222 ? { PORT: String(shared.c2sPort) } : {}),
    DOMAIN: `auth.${shared.domain}`,
    USERNAME: 'jvb',
    PASSWORD: secret,
    MUC_JIDS: shared.breweryJid,
    MUC_NICKNAME: shared.nicknames[bridge]!,
    DISABLE_CERTIFICATE_VERIFICATION: verify ? 'false' : 'true',
  };
}

/** The bridge's files as the bridge reads them, refused with host, file, line and column when it could not; and which are links. */
async function readBridgeFiles(host: Host): Promise<{ files: BridgeFiles; links: Map<string, string> }> {
  const [read, links] = await Promise.all([
    host.readFiles([JVB_CONF, SIP_PROPERTIES]),
    linkTargets(host, [JVB_CONF, SIP_PROPERTIES]),
  ]);
  // Parsed once here; a jvb.conf the bridge cannot read fails this host with a HostError naming it.
  const files = bridgeFiles(host.name, read.get(JVB_CONF) ?? null, read.get(SIP_PROPERTIES) ?? null);
  return { files, links };
}

/** A warning per shard block that points at another server: kept, but named. */
function otherShardWarnings(files: BridgeFiles, id: string, meetAddress: string): string[] {
  return otherShards(files, id, meetAddress).map(
    (o) =>
      `warning: the shard block "${o.id}" points at another server (${o.values.HOSTNAME}${o.values.MUC_JIDS ? `, brewery ${o.values.MUC_JIDS}` : ''}), so this bridge also serves that shard; it is kept as is: remove it by hand if that shard is gone`,
  );
}

export const bridgeConfig: Step<ShardFacts> = {
  id: 'bridge-config',
  title: "Point each bridge at the meet host's Prosody",
  why:
    "A bridge joins the shard by logging in to the meet host's Prosody with the shared jvb account and entering the brewery room, where Jicofo finds it. " +
    'Its config gets the meet host as XMPP host, the domain, the secret, the brewery and a nickname no other bridge has; other settings in the file are kept.',
  roles: ['jvb'],
  // eslint-disable-next-line max-lines-per-function -- the plan reads as the recipe: both config eras, the certificate and the restart, in order; 4 lines over
  async plan(ctx) {
    const { spec, shared, host } = ctx;
    // Read now, not at discovery: the install step may just have written these files.
    const { files, links } = await readBridgeFiles(host);
    // The password this bridge has now shows in the diff that replaces it: it is a secret too.
    for (const p of passwordsIn(files)) ctx.secrets.add(p);
    const layout = targetLayout(layoutOf(files), shared.meetLayout);
    const id = effectiveShard(files)?.id ?? shared.bridges[spec.name]?.shardId ?? 'shard';
    const want = desiredShard(shared, spec.name, secretFor(spec, shared), jitsi(spec).verifyCertificate);
    const notes: string[] = otherShardWarnings(files, id, shared.meetAddress);
    const changes: Change[] = [];
    const linked = (path: string) => (links.has(path) ? { linkTarget: links.get(path)! } : {});
    const installedLater = files.jvbConf === null && files.properties === null;
    if (installedLater)
      notes.push(
        `the ${layout === 'legacy' ? SIP_PROPERTIES : JVB_CONF} the package writes is edited right after the install (should it still be missing then, it is created with mode 0640, group ${SECRET_FILE.group})`,
      );
    const write = {
      description: '',
      notify: ['restart jitsi-videobridge2'],
      write: { create: SECRET_FILE },
      createdEarlier: installedLater,
    };

    if (layout === 'legacy') {
      notes.push(`legacy layout: the shard is set in ${SIP_PROPERTIES}`);
      const c = fileChange(
        {
          ...write,
          path: SIP_PROPERTIES,
          ...linked(SIP_PROPERTIES),
          description: `set the shard connection in ${SIP_PROPERTIES}`,
          transform: (t) => editLegacyProperties(t, id, want),
        },
        files.properties,
      );
      if (c) changes.push(c);
    } else {
      if (layout === 'both') {
        notes.push(
          `${SIP_PROPERTIES} and ${JVB_CONF} both define a shard and the old lines win: the settings move to ${JVB_CONF} and the old lines are commented out`,
        );
        const c = fileChange(
          {
            ...write,
            path: SIP_PROPERTIES,
            ...linked(SIP_PROPERTIES),
            description: `comment out the old shard lines in ${SIP_PROPERTIES}`,
            transform: disableLegacyShards,
          },
          files.properties,
        );
        if (c) changes.push(c);
      }
      if (websocketsEnabled(files.jvb)) {
        notes.push(
          'colibri websockets are on: the meet host routes /colibri-ws to its own bridge only, so they are turned off (current Jitsi uses SCTP data channels)',
        );
      }
      const edited = editJvbConf(files.jvb, id, want, { websocketsOff: true });
      notes.push(...edited.notes);
      const c = fileChange(
        {
          ...write,
          path: JVB_CONF,
          ...linked(JVB_CONF),
          description: `set the shard connection in ${JVB_CONF}`,
          transform: (t) =>
            t === files.jvbConf
              ? edited.text
              : editJvbConf(new HoconDoc(t ?? ''), id, want, { websocketsOff: true }).text,
        },
        files.jvbConf,
      );
      if (c) changes.push(c);
    }

    if (jitsi(spec).verifyCertificate && shared.certificate) {
      const path = `${TRUSTED_CERT_DIR}/jitsi-scale-auth.${shared.domain}.crt`;
      const current = (await host.readFiles([path])).get(path) ?? null;
      const cert = fileChange(
        {
          path,
          description: `trust the auth.${shared.domain} certificate (${path})`,
          transform: () => shared.certificate!,
          notify: ['restart jitsi-videobridge2'],
        },
        current,
      );
      if (cert)
        changes.push(
          cert,
          commandChange('update the system trust store (update-ca-certificates)', ['update-ca-certificates']),
        );
      notes.push(`certificate verification on: the bridge trusts the meet host's auth.${shared.domain} certificate`);
    } else {
      notes.push(
        'certificate verification off (DISABLE_CERTIFICATE_VERIFICATION = true): keep 5222 closed to everyone but the bridges',
      );
    }
    return { changes, notes };
  },
};
