import type { Change } from '../../contract/change.js';
import { commandChange } from '../command-change.js';

/*
 * A rule that is not loaded at boot does not protect: the first reboot opens the port again. What
 * loads a firewall at boot is its service: a systemd unit where systemd runs the host, else an
 * init script with a start link in an rc directory. On a host without systemd, a firewall that
 * has no init script (Debian's nftables and firewalld have none) is loaded by nothing.
 */

/** What starts a firewall's rules at boot on this host. */
export interface BootState {
  init: 'systemd' | 'sysv';
  /** enabled: it runs at boot; disabled: it could, and does not; none: nothing can load it here. */
  state: 'enabled' | 'disabled' | 'none';
}

/** The service that loads one firewall's rules: its unit and its init script's name. */
export interface BootService {
  unit: string;
  script: string;
}

/**
 * Shell, for embedding in a firewall's probe: `boot_state UNIT SCRIPT` prints "systemd enabled",
 * "systemd disabled", "sysv enabled", "sysv disabled" or "sysv none".
 */
export const BOOT_STATE_FN = `
boot_state() {
  if [ -d /run/systemd/system ]; then
    case "$(systemctl is-enabled "$1" 2>/dev/null)" in
      enabled|enabled-runtime|static|alias|indirect|generated) echo systemd enabled ;;
      *) echo systemd disabled ;;
    esac
  elif [ -x "/etc/init.d/$2" ]; then
    if ls /etc/rcS.d /etc/rc2.d /etc/rc3.d /etc/rc5.d 2>/dev/null | grep -qE "^S[0-9]{2}$2\\$"; then echo sysv enabled; else echo sysv disabled; fi
  else
    echo sysv none
  fi
}`;

/** Pure: boot_state's line. */
export function parseBootState(line: string | undefined): BootState {
  const [init, state] = (line ?? '').trim().split(/\s+/);
  return {
    init: init === 'systemd' ? 'systemd' : 'sysv',
    state: state === 'enabled' ? 'enabled' : state === 'disabled' ? 'disabled' : 'none',
  };
}

export interface BootNeeds {
  /** The firewall's name in messages ("nftables", "ufw"). */
  name: string;
  /** Where its rules are kept, for messages ("/etc/nftables.conf"). */
  keptIn: string;
  service: BootService;
  /** Its saved configuration denies by default: starting it at boot needs jitsi_firewall_enable. */
  deniesByDefault: boolean;
  /** The inventory allows turning on a firewall that denies by default (jitsi_firewall_enable). */
  allowEnable: boolean;
  /** The user loads the rules at boot themselves (jitsi_firewall_boot: manual). */
  manual: boolean;
}

/** What a plan does about boot: a change that enables the service, or why the rules do not come back after a reboot. */
export interface BootPlan {
  change?: Change;
  /** Set when the rules will not be loaded at boot: the port is not kept closed, and Prosody must stay where it is. */
  unprotected?: string;
  note?: string;
}

/** Pure: enable the service when it may be, else say why the rules will not survive a reboot. */
export function planBoot(boot: BootState, needs: BootNeeds): BootPlan {
  if (boot.state === 'enabled') return {};
  if (needs.manual)
    return {
      note: `${needs.name} is not loaded at boot by this host (${describeBoot(boot, needs.service)}): jitsi_firewall_boot is manual, so loading ${needs.keptIn} at boot is up to you`,
    };
  if (boot.state === 'none')
    return {
      unprotected: `nothing on this host loads ${needs.keptIn} at boot (no systemd, and no /etc/init.d/${needs.service.script}): after a reboot the rule is gone. Load it at boot yourself and set jitsi_firewall_boot: manual, or use a firewall with a boot service`,
    };
  if (needs.deniesByDefault && !needs.allowEnable)
    return {
      unprotected: `${needs.service.unit} is not started at boot and ${needs.keptIn} denies by default: starting it at boot could lock you out, so it is left off and the rule is gone after a reboot. Set jitsi_firewall_enable: true to let jitsi-scale enable it, or enable it yourself`,
    };
  const argv =
    boot.init === 'systemd'
      ? ['systemctl', 'enable', needs.service.unit]
      : ['update-rc.d', needs.service.script, 'defaults'];
  return {
    change: commandChange(
      `load ${needs.name} at boot (${argv.join(' ')}), so that ${needs.keptIn} and this rule come back after a reboot`,
      argv,
    ),
  };
}

function describeBoot(boot: BootState, service: BootService): string {
  if (boot.init === 'systemd') return `${service.unit} is disabled`;
  return boot.state === 'none'
    ? `no systemd, and no /etc/init.d/${service.script}`
    : `${service.script} has no rc start link`;
}
