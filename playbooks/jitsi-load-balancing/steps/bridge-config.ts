import { isIP } from 'node:net';
import { shScript } from '../../../src/transport/shell-quote.js';
import { jitsi, privateAddress } from '../settings.js';
import type { Change, RunHost, Step, StepContext } from '../../../src/engine/playbook.js';
import { commandChange } from '../../../src/modules/command-change.js';
import { fileChange, linkTargets } from '../../../src/modules/file/edit-file.js';
import { HostError, type Host } from '../../../src/transport/host.js';
import type { HostSpec } from '../../../src/inventory/types.js';
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
import {
  DEFAULT_MEDIA_PORT,
  MediaConfigError,
  advertiseWarning,
  editMediaHocon,
  editMediaProperties,
  mediaPortOf,
  stunServersOf,
  type MediaWant,
} from '../media-config.js';

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

/** The addresses on the bridge's interfaces (`ip -o addr show`), one a line, without prefix lengths. */
export function parseInterfaceAddresses(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim().replace(/\/\d+$/, ''))
    .filter((a) => a !== '' && isIP(a) !== 0);
}

const ADDRESSES = "ip -o addr show 2>/dev/null | awk '{ print $4 }' | head -n 256; exit 0";

/** Its interface addresses; [] when they cannot be read (then nothing is said about them). */
async function interfaceAddresses(host: Host): Promise<string[]> {
  try {
    return parseInterfaceAddresses((await host.exec(shScript(ADDRESSES), { readOnly: true, what: 'ip addr' })).stdout);
  } catch {
    return [];
  }
}

/**
 * The media settings this bridge gets: the inventory's port, and with jitsi_public_address a
 * static mapping from the bridge's own address (refused when that address is not on the bridge:
 * ice4j maps a host candidate, so the local address must be one of its interfaces').
 */
export function mediaWant(
  spec: HostSpec,
  connected: Pick<RunHost, 'address'> | undefined,
  addresses: readonly string[],
): MediaWant {
  const j = jitsi(spec);
  if (!j.publicAddress) return { port: j.mediaPort };
  const local = privateAddress(spec, connected);
  if (addresses.length && !addresses.includes(local))
    throw new HostError(
      spec.name,
      `jitsi_public_address needs the bridge's own private address to map from, but ${local} (private_address, else ansible_host) is not on its interfaces (${addresses.join(', ')}); set private_address to the address of its interface`,
    );
  return { port: j.mediaPort, mapping: { local, public: j.publicAddress } };
}

/** What the plan says about media: the port, the mapping, or what a bridge behind NAT will advertise. */
export function mediaNotes(host: string, files: BridgeFiles, want: MediaWant, addresses: readonly string[]): string[] {
  const notes: string[] = [];
  const now = mediaPortOf(files);
  if (want.port !== DEFAULT_MEDIA_PORT || now.port !== want.port)
    notes.push(
      `media port: UDP ${want.port}${now.port !== want.port ? ` (now ${now.port ?? 'unreadable'}, from ${now.from})` : ''}; the firewall opens the same port`,
    );
  if (want.mapping) {
    const stun = stunServersOf(files);
    notes.push(
      `NAT: the bridge advertises ${want.mapping.public} for its address ${want.mapping.local} (static mapping "jitsi-scale")${stun.length ? `; the package's STUN mapping (${stun.join(', ')}) is kept` : ''}`,
    );
  } else {
    const w = advertiseWarning(host, addresses, files);
    if (w) notes.push(w);
  }
  return notes;
}

/** Runs a pure media edit; what it refuses fails this host, named. */
function media<T>(host: string, edit: () => T): T {
  try {
    return edit();
  } catch (e) {
    if (e instanceof MediaConfigError) throw new HostError(host, e.message);
    throw e;
  }
}

/** With certificate verification on, the meet host's auth certificate in the bridge's trust store. */
async function certificateChanges(ctx: StepContext<ShardFacts>, changes: Change[], notes: string[]): Promise<void> {
  const { spec, shared, host } = ctx;
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
}

export const bridgeConfig: Step<ShardFacts> = {
  id: 'bridge-config',
  title: "Point each bridge at the meet host's Prosody",
  why:
    "A bridge joins the shard by logging in to the meet host's Prosody with the shared jvb account and entering the brewery room, where Jicofo finds it. " +
    'Its config gets the meet host as XMPP host, the domain, the secret, the brewery and a nickname no other bridge has; other settings in the file are kept.',
  roles: ['jvb'],
  // eslint-disable-next-line max-lines-per-function -- the plan reads as the recipe: both config eras and the restart, in order
  async plan(ctx) {
    const { spec, shared, host } = ctx;
    // Read now, not at discovery: the install step may just have written these files.
    const { files, links } = await readBridgeFiles(host);
    // The password this bridge has now shows in the diff that replaces it: it is a secret too.
    for (const p of passwordsIn(files)) ctx.secrets.add(p);
    const layout = targetLayout(layoutOf(files), shared.meetLayout);
    const id = effectiveShard(files)?.id ?? shared.bridges[spec.name]?.shardId ?? 'shard';
    const want = desiredShard(shared, spec.name, secretFor(spec, shared), jitsi(spec).verifyCertificate);
    const addresses = await interfaceAddresses(host);
    const wantMedia = mediaWant(spec, ctx.hosts.get(spec.name), addresses);
    const notes: string[] = [
      ...otherShardWarnings(files, id, shared.meetAddress),
      ...mediaNotes(spec.name, files, wantMedia, addresses),
    ];
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
          transform: (t) =>
            media(spec.name, () => editMediaProperties(editLegacyProperties(t, id, want), files, wantMedia, 'legacy')),
        },
        files.properties,
      );
      if (c) changes.push(c);
    } else {
      // Old shard lines move to jvb.conf; a legacy port line left there wins over jvb.conf, so it is brought in line.
      const both = layout === 'both';
      if (both)
        notes.push(
          `${SIP_PROPERTIES} and ${JVB_CONF} both define a shard and the old lines win: the settings move to ${JVB_CONF} and the old lines are commented out`,
        );
      const p = fileChange(
        {
          ...write,
          path: SIP_PROPERTIES,
          ...linked(SIP_PROPERTIES),
          description: both
            ? `comment out the old shard lines in ${SIP_PROPERTIES}`
            : `set the media port in ${SIP_PROPERTIES} (its line wins over jvb.conf)`,
          transform: (t) => editMediaProperties(both ? disableLegacyShards(t) : t, files, wantMedia, 'current'),
        },
        files.properties,
      );
      if (p && (both || files.properties !== null)) changes.push(p);
      if (websocketsEnabled(files.jvb)) {
        notes.push(
          'colibri websockets are on: the meet host routes /colibri-ws to its own bridge only, so they are turned off (current Jitsi uses SCTP data channels)',
        );
      }
      const jvbText = (doc: HoconDoc | null) => {
        const shard = editJvbConf(doc, id, want, { websocketsOff: true });
        const m = media(spec.name, () => editMediaHocon(new HoconDoc(shard.text), files, wantMedia));
        return { text: m.text, notes: [...shard.notes, ...m.notes] };
      };
      const edited = jvbText(files.jvb);
      notes.push(...edited.notes);
      const c = fileChange(
        {
          ...write,
          path: JVB_CONF,
          ...linked(JVB_CONF),
          description: `set the shard connection${wantMedia.mapping || wantMedia.port !== DEFAULT_MEDIA_PORT ? ' and the media settings' : ''} in ${JVB_CONF}`,
          transform: (t) => (t === files.jvbConf ? edited.text : jvbText(new HoconDoc(t ?? '')).text),
        },
        files.jvbConf,
      );
      if (c) changes.push(c);
    }

    await certificateChanges(ctx, changes, notes);
    return { changes, notes };
  },
};
