import type { Command } from '../src/commands.js';
import { JITSI_VARIABLES } from './jitsi-load-balancing/variables.js';

/*
 * The registry: every command of the tool is a playbook named here. Entries stay light (the
 * playbook itself is loaded when its command runs), so --help answers at once.
 */
export const COMMANDS: readonly Command[] = [
  {
    name: 'setup',
    summary: 'turn the meet server and the bridge hosts into a load-balanced shard (the default)',
    description:
      'Binds Prosody for the bridges, opens XMPP on the meet host to the bridges only, installs the videobridge on ' +
      'each bridge host, points it at the shard with a nickname of its own, and proves that every bridge joined the ' +
      'brewery. On a terminal it shows each step, what will change on which host, and asks; with --yes it asks ' +
      'nothing. Safe to repeat: a second run changes nothing.',
    readOnly: false,
    variables: JITSI_VARIABLES,
    load: async () => (await import('./jitsi-load-balancing/index.js')).jitsiLoadBalancing,
  },
  {
    name: 'facts',
    summary: 'show what the tool reads on every host: OS, init, firewall, packages (read-only)',
    description:
      'Connects to every host of the inventory and prints what the facts stage reads there, as a table or with ' +
      '--json as one document: the address the connection reached, the OS, the init system, the firewall in ' +
      "charge, ufw's state, the login user and the versions of the shard's packages. It changes nothing.",
    readOnly: true,
    variables: JITSI_VARIABLES,
    load: async () => (await import('./facts/index.js')).facts,
  },
  {
    name: 'status',
    summary: 'show the shard: each bridge in the brewery or not, health, version, load, drift (read-only)',
    description:
      'One table for the shard, read from every host at once: the meet host (Prosody, Jicofo when it runs) and per ' +
      'bridge whether Prosody has it in the brewery and under which nickname, its health, its version against the meet ' +
      "host's, drain, stress, conferences and endpoints, Jicofo's view, and drift: what jitsi-scale setup would change " +
      'on it. Brewery occupants no inventory host accounts for are listed too. --watch stays on and refreshes in place ' +
      'over the same connections; --json prints one document (one per look with --watch). Exit 0 when all is well, ' +
      '2 when something is wrong, 3 when a host cannot be reached. It changes nothing.',
    readOnly: true,
    variables: JITSI_VARIABLES,
    options: ['watch'],
    load: async () => (await import('./jitsi-load-balancing/index.js')).jitsiLoadBalancing,
    entry: async () => (await import('../src/status-command.js')).statusCommand,
  },
  {
    name: 'doctor',
    summary: 'check every bridge for the known causes of a bridge not serving, with evidence and fix (read-only)',
    description:
      "For every bridge: its password against Prosody's account, the meet host's certificate in its trust store, " +
      "MUC_JIDS against Jicofo's brewery, legacy shard lines that win over jvb.conf, colibri websockets against " +
      "the meet host's nginx, TCP to Prosody's client port (and c2s on loopback only), its version against the meet " +
      "host's, a nickname of its own, the REST API for what needs it, an address it may offer with " +
      'require-valid-address on, and the jvb.sh patch. Each check says ok, or the problem, the evidence (a log line ' +
      'or a config value, never a secret) and the fix. --limit picks the bridges reported. Exit 0 when every check ' +
      'passes, 2 when one fails, 3 when the meet host cannot be reached. It changes nothing.',
    readOnly: true,
    variables: JITSI_VARIABLES,
    load: async () => (await import('./jitsi-load-balancing/index.js')).jitsiLoadBalancing,
    entry: async () => (await import('../src/doctor-command.js')).doctorCommand,
  },
];

export const DEFAULT_COMMAND = 'setup';

/** Name prefixes that belong to the tool: an unknown `jitsi_…` variable is a typo, not a user variable. */
export const VARIABLE_FAMILIES = [{ prefix: 'jitsi_', label: 'Jitsi' }] as const;
