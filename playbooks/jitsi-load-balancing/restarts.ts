import type { Handler } from '../../src/contract/handler.js';
import { confirmStartedAfter, restartHandler, waitForListener } from '../../src/modules/service/service.js';
import { HostError } from '../../src/transport/host.js';
import { PROSODY_MAIN, readProsodyFiles } from './discover.js';
import { c2sPort, evaluateProsody, listensEverywhere } from './prosody-config.js';

/** Prosody's restart took effect when it listens for clients where its config (as it reads it) says. */
export const restartProsody: Handler = restartHandler('prosody', async (host) => {
  const main = await host.readFile(PROSODY_MAIN);
  if (main === null) throw new HostError(host.name, `${PROSODY_MAIN} is gone after the restart`);
  const { files, listing } = await readProsodyFiles(host, main);
  const config = evaluateProsody(PROSODY_MAIN, files, listing);
  const port = c2sPort(config);
  const everywhere = listensEverywhere(config.c2sInterfaces);
  if (!(await waitForListener(host, port, everywhere)))
    throw new HostError(
      host.name,
      `prosody was restarted but does not listen on port ${port}${everywhere ? ' on all interfaces' : ''}, as its config says; see /var/log/prosody/prosody.log`,
    );
});

/** Where the bridge's process id is kept: the real unit's PIDFile, then the lab stand-in's init script. */
const JVB_PID_FILES = ['/var/run/jitsi-videobridge/jitsi-videobridge.pid', '/run/jitsi-videobridge2.pid'];

/**
 * The bridge's restart took effect when its process started after the restart was issued, so after
 * its config was written. Not the files' mtimes: under the per-start nickname policy the launcher
 * itself rewrites jvb.conf as the bridge starts.
 */
export const restartBridge: Handler = restartHandler('jitsi-videobridge2', (host, _io, issuedAt) =>
  confirmStartedAfter(host, 'jitsi-videobridge2', JVB_PID_FILES, issuedAt),
);
