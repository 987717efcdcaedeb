import { jitsi } from '../settings.js';
import type { Change, Step, StepContext } from '../../../src/engine/playbook.js';
import { commandChange } from '../../../src/modules/command-change.js';
import { fileChange, linkTargets } from '../../../src/modules/file/edit-file.js';
import { HostError, type Host } from '../../../src/transport/host.js';
import { editHocon } from '../../../src/modules/hocon/set-hocon.js';
import {
  DEFAULT_WS_PORT,
  bridgeSctpEnabled,
  channelHoconEdits,
  channelLegacyEdit,
  publicPortOf,
  websocketSetting,
  type ChannelWant,
} from '../bridge-channel.js';
import { bridgeMedia, media, mediaNotes } from '../bridge-media.js';
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
  type BridgeFiles,
  type ShardValues,
} from '../bridge-files.js';
import { secretFor, type ShardFacts } from '../discover.js';
import { DEFAULT_MEDIA_PORT, editMediaHocon, editMediaProperties, type MediaWant } from '../media-config.js';

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

/** What the plan says of the bridge channel, besides its diff. */
function channelNotes(files: BridgeFiles, channel: ChannelWant, shared: ShardFacts, bridge: string): string[] {
  const ws = websocketSetting(files.jvb, files.properties);
  if (channel.channel === 'sctp') {
    const sctp = `SCTP is on in ${bridge}'s jvb.conf and in Jicofo (videobridge.sctp.enabled, jicofo.sctp.enabled)`;
    return ws.enabled
      ? [
          `colibri websockets are on (${ws.source}) while ${sctp}: they are turned off, clients use SCTP data channels (the meet host routes /colibri-ws to its own bridge only)`,
        ]
      : [`${sctp}; colibri websockets stay off`];
  }
  return [
    `jitsi_bridge_channel is websocket: colibri websockets on, advertised as wss://${shared.domain}:443/colibri-ws/${channel.serverId}/ (server-id ${channel.serverId}), served on the bridge's public HTTP port ${publicPortOf(files.jvb) ?? DEFAULT_WS_PORT}; ${shared.meetName}'s nginx routes that path to this bridge (step colibri-routes)`,
    ...(bridgeSctpEnabled(files.jvb) && shared.jicofoSctp
      ? ['SCTP is on as well: clients that can do SCTP still prefer it (lib-jitsi-meet bridgeChannel.preferSctp)']
      : []),
  ];
}

/**
 * The properties edit of the layout: the shard (legacy era), the old shard lines commented out
 * (both), and in every era the legacy media and colibri websocket keys, which win over jvb.conf,
 * brought in line with what the bridge is to have.
 */
function propertiesTransform(
  host: string,
  layout: 'current' | 'legacy' | 'both',
  id: string,
  want: ShardValues,
  channel: ChannelWant,
  files: BridgeFiles,
  mediaWant: MediaWant,
): { description: string; transform: (t: string | null) => string } {
  const era = layout === 'legacy' ? 'legacy' : 'current';
  const agree = (t: string) =>
    media(host, () => editMediaProperties(channelLegacyEdit(t, channel) ?? t, files, mediaWant, era));
  if (layout === 'legacy')
    return {
      description: `set the shard connection in ${SIP_PROPERTIES}`,
      transform: (t) => agree(editLegacyProperties(t, id, want)),
    };
  if (layout === 'both')
    return {
      description: `comment out the old shard lines in ${SIP_PROPERTIES}`,
      transform: (t) => agree(disableLegacyShards(t)),
    };
  return {
    description: `bring the media and colibri websocket keys of ${SIP_PROPERTIES} in line (its lines win over jvb.conf)`,
    transform: (t) => (t === null ? '' : agree(t)),
  };
}

/**
 * The jvb.conf edit: the shard block, the media settings and the channel (current era), or the
 * channel only (legacy era, whose media settings are in the properties).
 */
function jvbConfTransform(
  host: string,
  layout: 'current' | 'legacy' | 'both',
  files: BridgeFiles,
  id: string,
  want: ShardValues,
  channel: ChannelWant,
  mediaWant: MediaWant,
): { description: string; notes: string[]; transform: (t: string | null) => string } | null {
  if (layout === 'legacy') {
    const doc = files.jvb ?? new HoconDoc('');
    // A bridge not installed yet gets the jvb.conf its package writes (the 2.1 packages turn
    // websockets on in it): the edit is planned now, as --check shows it, and made after the install.
    const installedLater = files.jvbConf === null && files.properties === null;
    if (files.jvbConf === null && channel.channel === 'sctp' && !installedLater) return null;
    return {
      description: `set the bridge channel in ${JVB_CONF}`,
      notes: [],
      transform: (t) => {
        const d = t === files.jvbConf ? doc : new HoconDoc(t ?? '');
        return editHocon(d, channelHoconEdits(d, channel)).text;
      },
    };
  }
  const opts = { websocketsOff: true, channel };
  const edit = (doc: HoconDoc | null) => {
    const shard = editJvbConf(doc, id, want, opts);
    const m = media(host, () => editMediaHocon(new HoconDoc(shard.text), files, mediaWant));
    return { text: m.text, notes: [...shard.notes, ...m.notes] };
  };
  const edited = edit(files.jvb);
  const withMedia = mediaWant.mapping || mediaWant.port !== DEFAULT_MEDIA_PORT ? ' and the media settings' : '';
  return {
    description: `set the shard connection${withMedia} in ${JVB_CONF}`,
    notes: edited.notes,
    transform: (t) => (t === files.jvbConf ? edited.text : edit(new HoconDoc(t ?? '')).text),
  };
}

/** The meet host's certificate in the bridge's trust store when it is to verify it; the note either way. */
async function certificatePlan(ctx: StepContext<ShardFacts>): Promise<{ changes: Change[]; notes: string[] }> {
  const { spec, shared, host } = ctx;
  const changes: Change[] = [];
  const notes: string[] = [];
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
}

/** The plan's notes on where the shard settings go. */
function layoutNotes(layout: 'current' | 'legacy' | 'both', installedLater: boolean): string[] {
  return [
    ...(installedLater
      ? [
          `the ${layout === 'legacy' ? SIP_PROPERTIES : JVB_CONF} the package writes is edited right after the install (should it still be missing then, it is created with mode 0640, group ${SECRET_FILE.group})`,
        ]
      : []),
    ...(layout === 'legacy' ? [`legacy layout: the shard is set in ${SIP_PROPERTIES}`] : []),
    ...(layout === 'both'
      ? [
          `${SIP_PROPERTIES} and ${JVB_CONF} both define a shard and the old lines win: the settings move to ${JVB_CONF} and the old lines are commented out`,
        ]
      : []),
  ];
}

export const bridgeConfig: Step<ShardFacts> = {
  id: 'bridge-config',
  title: "Point each bridge at the meet host's Prosody",
  why:
    "A bridge joins the shard by logging in to the meet host's Prosody with the shared jvb account and entering the brewery room, where Jicofo finds it. " +
    'Its config gets the meet host as XMPP host, the domain, the secret, the brewery and a nickname no other bridge has, and the bridge channel jitsi_bridge_channel asks for; other settings in the file are kept.',
  roles: ['jvb'],

  async plan(ctx) {
    const { spec, shared, host } = ctx;
    const refusal = shared.channelRefusals[spec.name];
    if (refusal) {
      // Nothing of this step is written on a bridge whose channel cannot be had as asked.
      if (ctx.mode === 'apply') throw new HostError(spec.name, `bridge-config on ${spec.name}: ${refusal}`);
      return { changes: [], skip: `refused: ${refusal}` };
    }
    // Read now, not at discovery: the install step may just have written these files.
    const { files, links } = await readBridgeFiles(host);
    // The password this bridge has now shows in the diff that replaces it: it is a secret too.
    for (const p of passwordsIn(files)) ctx.secrets.add(p);
    const layout = targetLayout(layoutOf(files), shared.meetLayout);
    const id = effectiveShard(files)?.id ?? shared.bridges[spec.name]?.shardId ?? 'shard';
    const want = desiredShard(shared, spec.name, secretFor(spec, shared), jitsi(spec).verifyCertificate);
    const channel: ChannelWant = shared.channels[spec.name] ?? { channel: 'sctp' };
    const mediaPlan = await bridgeMedia(ctx);
    const notes: string[] = [
      ...otherShardWarnings(files, id, shared.meetAddress),
      ...mediaNotes(spec.name, files, mediaPlan.want, mediaPlan.addresses),
    ];
    const changes: Change[] = [];
    const linked = (path: string) => (links.has(path) ? { linkTarget: links.get(path)! } : {});
    const installedLater = files.jvbConf === null && files.properties === null;
    notes.push(...layoutNotes(layout, installedLater));
    const write = {
      notify: ['restart jitsi-videobridge2'],
      write: { create: SECRET_FILE },
      createdEarlier: installedLater,
    };
    if (layout !== 'current' || files.properties !== null) {
      const p = propertiesTransform(spec.name, layout, id, want, channel, files, mediaPlan.want);
      const c = fileChange({ ...write, path: SIP_PROPERTIES, ...linked(SIP_PROPERTIES), ...p }, files.properties);
      if (c) changes.push(c);
    }
    notes.push(...channelNotes(files, channel, shared, spec.name));
    const j = jvbConfTransform(spec.name, layout, files, id, want, channel, mediaPlan.want);
    if (j) {
      notes.push(...j.notes);
      const c = fileChange(
        { ...write, path: JVB_CONF, ...linked(JVB_CONF), description: j.description, transform: j.transform },
        files.jvbConf,
      );
      if (c) changes.push(c);
    }

    const trust = await certificatePlan(ctx);
    changes.push(...trust.changes);
    notes.push(...trust.notes);
    return { changes, notes };
  },
};
