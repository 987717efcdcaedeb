import type { Step, StepContext } from '../../../src/engine/playbook.js';
import { shardRule } from '../shard-rule.js';
import { jitsi } from '../settings.js';
import { planFileEdit } from '../../../src/modules/file/edit-file.js';
import { ensureLineAtTop } from '../../../src/modules/text/ensure-line-at-top.js';
import { PROSODY_MAIN, type ShardFacts } from '../discover.js';
import { decideC2s } from '../prosody-config.js';

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

/**
 * Protect before expose: Prosody may listen beyond loopback only once the firewall lets nobody but
 * the bridges in, and keeps it so after a reboot. Null when it does (or the user keeps the
 * firewall); else `later` when the firewall step has that still to do, `never` when this run
 * cannot make it so (the rule would not be loaded at boot), with why.
 */
async function notYetProtected(ctx: StepContext<ShardFacts>): Promise<{ why: string; never: boolean } | null> {
  if (jitsi(ctx.spec).firewall === 'none') return null;
  // Asked again, after the firewall step: the firewall as it is now is what counts.
  const { plan, unprotected } = await shardRule(ctx);
  if (plan.skip) return null;
  if (unprotected)
    return { why: `the firewall's rule would not keep the port closed for good: ${unprotected}`, never: true };
  if (plan.changes.length === 0) return null;
  return {
    why: `the firewall does not yet keep port ${ctx.shared.c2sPort} to the bridges (${plan.changes.map((c) => c.description).join('; ')})`,
    never: false,
  };
}

export const bindProsody: Step<ShardFacts> = {
  id: 'bind-prosody',
  title: 'Make Prosody reachable from the bridges',
  why:
    'Each bridge logs in to Prosody on the meet host as an XMPP client on the c2s port (5222). ' +
    'Prosody must listen there on the address the bridges reach it on; by default it is bound to loopback and that address only, so that a firewall mistake does not put 5222 on the public interface (jitsi_c2s_interfaces: all listens everywhere). ' +
    'This comes after the firewall step, so that the port is never open to more than the bridges, even for a moment.',
  roles: ['meet'],
  async plan(ctx) {
    const { prosody, c2sPort, meetAddress } = ctx.shared;
    const notes: string[] = [];
    const decision = decideC2s(
      prosody.c2sInterfaces,
      prosody.c2sInterfacesAt,
      jitsi(ctx.spec).c2sInterfaces,
      meetAddress,
    );
    if ('keep' in decision) {
      notes.push(`${decision.keep}, port ${c2sPort}`);
      if (prosody.componentInterface)
        notes.push(
          `component_interface = ${prosody.componentInterface} is left as is: the bridges set up here log in on c2s, not on the component port 5347`,
        );
      return { changes: [], notes };
    }
    const at = prosody.c2sInterfacesAt;
    const path = at?.file ?? PROSODY_MAIN;
    notes.push(decision.note);
    if (path !== PROSODY_MAIN)
      notes.push(`the setting Prosody uses is in ${path}, which ${PROSODY_MAIN} includes: the edit goes there`);
    if (jitsi(ctx.spec).firewall === 'none')
      notes.push(`jitsi_firewall is none: keeping port ${c2sPort} to the bridges is up to the firewall you manage`);
    // Narrowing opens nothing: only a wider binding waits for the firewall.
    const unprotected = decision.widens ? await notYetProtected(ctx) : null;
    if (unprotected && (unprotected.never || ctx.mode === 'apply'))
      return { changes: [], notes, skip: `Prosody stays where it listens now: ${unprotected.why}` };
    if (unprotected) notes.push(`only once the firewall step has run: ${unprotected.why}`);
    const change = await planFileEdit(ctx.host, {
      path,
      description: `listen for clients on ${decision.line.replace('c2s_interfaces = ', '')} in ${path}`,
      transform: (t) =>
        ensureLineAtTop(t, {
          line: decision.line,
          conflicts: /^\s*c2s_interfaces\s*=/,
          commentPrefix: '--',
        }),
      notify: ['restart prosody'],
      write: { validate: PROSODY_VALIDATOR },
    });
    return { changes: change ? [change] : [], notes };
  },
};
