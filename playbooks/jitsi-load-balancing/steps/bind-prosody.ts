import type { Step } from '../../../src/engine/playbook.js';
import { planFileEdit } from '../../../src/modules/file/edit-file.js';
import { ensureLineAtTop } from '../../../src/modules/text/ensure-line-at-top.js';
import { PROSODY_MAIN, type ShardFacts } from '../discover.js';
import { listensEverywhere } from '../prosody-config.js';

/**
 * Accepts the new config when Prosody can load it; warnings about the rest of the server
 * (certificates, modules) are not this edit's business and do not block it.
 */
export const PROSODY_VALIDATOR = [
  'sh',
  '-c',
  'out=$(prosodyctl --config "$1" check config 2>&1); rc=$?; if [ $rc -ne 0 ] && printf "%s" "$out" | grep -q "problem occurred while reading the config"; then printf "%s\\n" "$out" | grep -m1 "Error:" ; exit 1; fi; exit 0',
  'validate',
  '%s',
];

export const bindProsody: Step<ShardFacts> = {
  id: 'bind-prosody',
  title: 'Make Prosody reachable from the bridges',
  why:
    'Each bridge logs in to Prosody on the meet host as an XMPP client on the c2s port (5222). ' +
    'Prosody must listen there on an interface the bridges can reach, not only on loopback; the firewall step then keeps that port closed to everyone else.',
  roles: ['meet'],
  async plan(ctx) {
    const { prosody, c2sPort } = ctx.shared;
    const notes: string[] = [];
    if (listensEverywhere(prosody.c2sInterfaces)) {
      notes.push(
        `c2s already listens on all interfaces (${prosody.c2sInterfaces ? `c2s_interfaces = ${prosody.c2sInterfaces}` : 'Prosody default'}), port ${c2sPort}`,
      );
      if (prosody.componentInterface)
        notes.push(
          `component_interface = ${prosody.componentInterface} is left as is: the bridges set up here log in on c2s, not on the component port 5347`,
        );
      return { changes: [], notes };
    }
    notes.push(`c2s_interfaces = ${prosody.c2sInterfaces} keeps the bridges out; it becomes { "*" } (all interfaces)`);
    const change = await planFileEdit(ctx.host, {
      path: PROSODY_MAIN,
      description: `listen for clients on all interfaces in ${PROSODY_MAIN}`,
      transform: (t) =>
        ensureLineAtTop(t, {
          line: 'c2s_interfaces = { "*" }',
          conflicts: /^\s*c2s_interfaces\s*=/,
          commentPrefix: '--',
        }),
      notify: ['restart prosody'],
      write: { validate: PROSODY_VALIDATOR },
    });
    return { changes: change ? [change] : [], notes };
  },
};
