import { jitsi } from '../settings.js';
import type { Step } from '../../../src/engine/playbook.js';
import { isSatisfied, planAptPackage, type AptPackage } from '../../../src/modules/apt/apt-package.js';
import { PACKAGE, secretFor, type ShardFacts } from '../discover.js';

/** The apt source this tool adds on a bridge. */
export const APT_SOURCE_FILE = '/etc/apt/sources.list.d/jitsi-scale.list';

/** The keyring a source line names with signed-by=, where its key goes. */
export function keyringOf(sourceLine: string): string {
  return /signed-by=([^\s\]]+)/.exec(sourceLine)?.[1] ?? '/usr/share/keyrings/jitsi-keyring.gpg';
}

/** Pure: what the plan says of the version, and where the pin came from. */
export function pinNote(version: string | undefined, why: string): string {
  return version
    ? `version ${version}, pinned by ${why}`
    : `the newest version the source offers: no pin (${why}); set jitsi_videobridge_version to pin one`;
}

export const installBridge: Step<ShardFacts> = {
  id: 'install-bridge',
  title: 'Install the videobridge on each bridge host',
  why:
    "Each bridge host needs the jitsi-videobridge2 package, of the version the meet host's Jitsi release pairs with (its own bridge's, else the one its jitsi-meet package or its Jicofo's release depends on). " +
    'Its questions (the XMPP domain and the shared secret) are answered in advance, so the package writes a config that already points at this shard.',
  roles: ['jvb'],
  async plan(ctx) {
    const { spec, shared } = ctx;
    const own = jitsi(spec).videobridgeVersion;
    const version = own ?? shared.bridgePin.version;
    const pkg: AptPackage = {
      name: PACKAGE,
      ...(version ? { version } : {}),
      source: { file: APT_SOURCE_FILE, line: jitsi(spec).aptSource },
      ...(jitsi(spec).aptKeyUrl
        ? { key: { url: jitsi(spec).aptKeyUrl, keyring: keyringOf(jitsi(spec).aptSource) } }
        : {}),
      preseed: [
        { question: 'jitsi-videobridge/jvb-hostname', type: 'string', value: shared.domain },
        { question: 'jitsi-videobridge/jvbsecret', type: 'password', value: secretFor(spec, shared) },
      ],
    };
    const installed = shared.bridges[spec.name]?.installed;
    const notes = [pinNote(version, own ? 'jitsi_videobridge_version in the inventory' : shared.bridgePin.why)];
    if (isSatisfied(pkg, installed)) return { changes: [], notes: [`${PACKAGE} ${installed} is installed`] };
    return { changes: await planAptPackage(ctx.host, pkg, { allowRemoval: jitsi(spec).allowPackageRemoval }), notes };
  },
};
