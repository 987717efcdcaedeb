import { parseArgs } from 'node:util';
import { INVENTORY_FILE, PROFILES, parseProfileArgs } from './lab-config.js';
import { PROFILE_DOCS } from './profiles.js';
import { LabError, labDown, labJicofo, labReboot, labStatus, labUp } from './lab.js';

const USAGE = `Usage: npm run lab -- up [--bridges N] [--era current|legacy] [--profile P | --profile HOST=P ...]
                       [--init systemd|none] [--bastion-only] [--c2s-loopback] [--no-meet-bridge] | reboot HOST... | down | status

  up      create the lab: a meet host (Prosody, Jitsi-style config), N bridge hosts (default 2)
          an outsider and a bastion, each a network namespace with its own sshd; writes
          .lab/inventory.yaml. --bastion-only: the bridges accept SSH from the bastion only
          (the inventory reaches them with -J through it). --c2s-loopback: Prosody takes clients
          on loopback only (c2s_interfaces), so binding it is work for the tool. --no-meet-bridge:
          the meet host has no bridge of its own (the handbook's layout), runs the stand-in Jicofo
          and has the lab's Jitsi repository in its apt sources
          --profile: the server shape of the meet host and the bridges (default debian-nft);
          HOST=P gives one host (meet, jvb2) or a role (meet, jvb) its own. --init systemd boots the
          meet host and the bridges with systemd as PID 1 (default none: init scripts, as in a
          container; the systemd profile always boots systemd). Profiles:
${PROFILES.map((p) => `            ${p.padEnd(13)} ${PROFILE_DOCS[p]}`).join('\n')}
  reboot HOST...  power a systemd host off and boot it again on the same files
  jicofo on|off   install and start the TEST STAND-IN Jicofo on the meet host (focus in the brewery,
          health checks, /stats and /debug on 127.0.0.1:8888), or remove it
  down    remove everything up made (safe to run twice)
  status  say what is up`;

// A reader that goes away (`| head`) ends the output, not the program with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const log = (line: string) => process.stdout.write(`lab: ${line}\n`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      bridges: { type: 'string' },
      era: { type: 'string' },
      profile: { type: 'string', multiple: true },
      'bastion-only': { type: 'boolean' },
      'c2s-loopback': { type: 'boolean' },
      'no-meet-bridge': { type: 'boolean' },
      init: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length && command !== 'reboot' && command !== 'jicofo')
    throw new LabError(`unexpected argument "${positionals[0]}" (npm run lab -- help)`);
  switch (command) {
    case 'up': {
      const bridges = values.bridges === undefined ? 2 : Number(values.bridges);
      const era = values.era ?? 'current';
      if (era !== 'current' && era !== 'legacy') throw new LabError(`--era is current or legacy, not "${era}"`);
      const init = values.init ?? 'none';
      if (init !== 'systemd' && init !== 'none') throw new LabError(`--init is systemd or none, not "${init}"`);
      const t0 = Date.now();
      let parsed;
      try {
        parsed = parseProfileArgs(values.profile ?? []);
      } catch (e) {
        throw new LabError(`--profile: ${(e as Error).message}`);
      }
      const state = await labUp({
        bridges,
        era,
        log,
        profile: parsed.fallback,
        profiles: parsed.profiles,
        bastionOnly: values['bastion-only'] ?? false,
        c2sLoopback: values['c2s-loopback'] ?? false,
        meetBridge: !(values['no-meet-bridge'] ?? false),
        init,
      });
      log(
        `up in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${state.hosts.map((h) => `${h.name} ${h.address}${h.role === 'meet' || h.role === 'jvb' ? ` (${h.profile}${h.init === 'systemd' && h.profile !== 'systemd' ? ', systemd' : ''})` : ''}`).join(', ')}`,
      );
      log(`inventory: ${INVENTORY_FILE}`);
      return 0;
    }
    case 'reboot': {
      if (positionals.length === 0) throw new LabError('reboot takes the names of the hosts to reboot');
      const state = await labReboot(positionals);
      log(
        `rebooted ${positionals.join(', ')}: ${state.hosts
          .filter((h) => positionals.includes(h.name))
          .map((h) => `${h.name} pid ${h.sshdPid}`)
          .join(', ')}`,
      );
      return 0;
    }
    case 'jicofo': {
      if (positionals[0] !== 'on' && positionals[0] !== 'off') throw new LabError('jicofo takes on or off');
      await labJicofo(positionals[0] === 'on');
      log(
        `the stand-in Jicofo is ${positionals[0] === 'on' ? 'installed and started on' : 'removed from'} the meet host`,
      );
      return 0;
    }
    case 'down':
      await labDown(log);
      log('down');
      return 0;
    case 'status': {
      const s = await labStatus();
      if (!s.state) log('not up');
      else {
        log(`${s.up ? 'up' : 'partly up'}: ${s.state.bridges} bridges, ${s.state.era} era, since ${s.state.created}`);
        for (const h of s.hosts)
          log(
            `  ${h.name.padEnd(10)} ${h.address.padEnd(12)} ${h.profile.padEnd(13)} sshd ${h.sshd ? 'running' : 'NOT running'}`,
          );
      }
      for (const l of s.leftovers) log(`leftover: ${l} (run down to remove)`);
      return s.up || !s.state ? 0 : 1;
    }
    default:
      process.stdout.write(`${USAGE}\n`);
      return command === undefined || command === 'help' ? 0 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`lab: ${e instanceof LabError ? e.message : (e as Error).message}\n`);
    process.exitCode = 1;
  },
);
