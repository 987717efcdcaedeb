/**
 * Pure: what a bridge's log says about the addresses it gathered at its start, from the lines
 * ice4j and the bridge write (read at jitsi/ice4j 6da2b08 and jitsi/jitsi-videobridge a29d97d):
 * - src/main/java/org/ice4j/ice/harvest/SinglePortUdpHarvester.java: "Initialized
 *   SinglePortUdpHarvester with address A:P/udp", "Failed to create SinglePortUdpHarvester for
 *   address A: E"; the bridge's jvb/.../ice/Harvesters.kt: "No single-port harvesters created.";
 * - src/main/java/org/ice4j/ice/harvest/MappingCandidateHarvesters.java: "Adding a static
 *   mapping: StaticMapping(localAddress=…, publicAddress=…, …)", "Using <harvester>", "Discarding
 *   a mapping harvester…", "STUN mapping harvesters are configured, but no allowed local
 *   addresses were found…", "Initialized mapping harvesters (delay=Nms).  stunDiscoveryFailed=B";
 * - src/main/java/org/ice4j/ice/harvest/StunMappingCandidateHarvester.java: "Discovered public
 *   address A:P/udp from STUN server S using local address L", "We failed to obtain addresses for
 *   the following reason: ".
 * Lines arrive as the bridge's formatter writes them (jitsi-utils JitsiLogFormatter:
 * "yyyy-MM-dd HH:mm:ss.SSS LEVEL: [thread] Class.method#line: message").
 */

export interface HarvestView {
  /** The addresses the single-port harvesters bound ("10.0.0.5:10000/udp"). */
  bound: string[];
  /** Why a single-port harvester could not bind, as logged. */
  bindFailures: string[];
  /** Static mappings the bridge uses (after ice4j pruned them): local → public. */
  staticMappings: { local: string; public: string }[];
  /** Public addresses STUN discovered, with the server that told. */
  stun: { public: string; server: string }[];
  /** What the harvesters' start said of STUN: true failed, false worked or was not asked, null not logged. */
  stunFailed: boolean | null;
  /** The lines the view was made of, without their time stamps (evidence). */
  lines: string[];
}

/** The grep that picks the lines parseHarvest reads out of jvb.log. */
export const HARVEST_PATTERN =
  'SinglePortUdpHarvester|No single-port harvesters|static mapping|MappingCandidateHarvester|Discovered public address|stunDiscoveryFailed|failed to obtain addresses|Not using STUN';

const message = (line: string) => line.replace(/^.*?\]\s+\S+:\s/, '');
const hostOf = (transport: string) => transport.replace(/:\d+\/\w+$/, '').replace(/^\[(.*)\]$/, '$1');

export function parseHarvest(log: readonly string[]): HarvestView {
  const v: HarvestView = { bound: [], bindFailures: [], staticMappings: [], stun: [], stunFailed: null, lines: [] };
  for (const raw of log) {
    const line = raw.trim();
    if (!line) continue;
    const msg = message(line);
    let m: RegExpExecArray | null;
    if ((m = /Initialized SinglePortUdpHarvester with address (\S+)/.exec(msg))) v.bound.push(m[1]!);
    else if (/Failed to create SinglePortUdpHarvester|No single-port harvesters created/.test(msg))
      v.bindFailures.push(msg);
    else if ((m = /Using \S*StaticMappingCandidateHarvester\(face=(\S+), mask=(\S+)\)/.exec(msg)))
      v.staticMappings.push({ local: hostOf(m[1]!), public: hostOf(m[2]!) });
    else if ((m = /Discovered public address (\S+) from STUN server (\S+)/.exec(msg)))
      v.stun.push({ public: hostOf(m[1]!), server: m[2]!.replace(/\/\w+$/, '') });
    else if ((m = /stunDiscoveryFailed=(true|false)/.exec(msg))) v.stunFailed = m[1] === 'true';
    else if (
      !/Adding a static mapping|Discarding a mapping harvester|failed to obtain addresses|Not using STUN/.test(msg)
    )
      continue;
    v.lines.push(line.replace(/^(\S+ )?\d{4}-\d\d-\d\d \S+ /, ''));
  }
  return v;
}
