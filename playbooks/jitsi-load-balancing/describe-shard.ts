import type { Finding } from '../../src/engine/playbook.js';
import { layoutOf, type Layout } from './bridge-files.js';
import type { ShardFacts } from './discover.js';

const ERA: Record<Layout, string> = {
  current: 'jvb.conf (2.1+ layout)',
  legacy: 'sip-communicator.properties (pre-2.1 layout)',
  both: 'both jvb.conf and sip-communicator.properties (the properties win)',
  none: 'no bridge config yet',
};

/** Pure: what discovery found, in sentences for the start screen and the logs. Never the secret. */
export function describeShard(s: ShardFacts): Finding[] {
  const meet = s.meetName;
  const findings: Finding[] = [
    {
      text: `domain ${s.domain}; brewery ${s.breweryJid}; bridges log in on ${s.meetAddress}:${s.c2sPort}${s.meetAddressDerived ? ` (${s.meetAddressDerived})` : ''}`,
    },
    {
      text: `bridge password from ${s.secretSource}${s.secretChecked ? ', matches Prosody’s account' : ''}`,
      ...(s.secretChecked ? {} : { warn: true }),
    },
    {
      host: meet,
      text: s.meetBridgeVersion
        ? `own bridge ${s.meetBridgeVersion}, ${ERA[s.meetLayout]}${s.meetBridgeNickname ? `, nickname ${s.meetBridgeNickname}` : ''}`
        : 'no bridge of its own',
    },
    {
      host: meet,
      text: s.bridgePin.version
        ? `bridges get version ${s.bridgePin.version}: ${s.bridgePin.why}`
        : `no bridge version to pin (${s.bridgePin.why}): bridges get the newest`,
      ...(s.bridgePin.version ? {} : { warn: true }),
    },
    {
      host: meet,
      text: s.jicofoInstalled ? 'Jicofo installed' : 'Jicofo not installed: verification asks Prosody only',
      ...(s.jicofoInstalled ? {} : { warn: true }),
    },
  ];
  for (const [name, b] of Object.entries(s.bridges)) {
    const nick = s.nicknames[name];
    findings.push({
      host: name,
      text: `${b.installed ? `bridge ${b.installed}` : 'bridge not installed'}, ${ERA[layoutOf(b.files)]}${nick ? `, nickname ${nick}` : ''}`,
    });
  }
  return findings;
}
