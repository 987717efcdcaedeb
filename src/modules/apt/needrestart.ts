/*
 * needrestart (Debian's and Ubuntu's package) runs at the end of every apt transaction
 * (DPkg::Post-Invoke in /etc/apt/apt.conf.d/99needrestart). Debian ships it with
 * `$nrconf{restart} = 'i'`, which a non-interactive run turns into list-only; Ubuntu 24.04 changed
 * the default to restart the affected services itself, non-interactive runs included
 * (https://discourse.ubuntu.com/t/needrestart-changes-in-ubuntu-24-04-service-restarts/44671).
 * On a meet host that would restart Prosody or Jicofo in the middle of our install and drop every
 * conference. needrestart takes its mode from NEEDRESTART_MODE when no -r is given, before its
 * config's `restart` (needrestart 3.6 and 3.11, /usr/sbin/needrestart: `$opt_r =
 * $ENV{NEEDRESTART_MODE} if(!defined($opt_r) && exists($ENV{NEEDRESTART_MODE}))`), and apt's hook
 * passes no -r. So our apt runs carry NEEDRESTART_MODE=l, as an argument of `env` (sudo's env_reset
 * would drop it from the environment), and the run reports what needrestart listed.
 */

/** What apt-get install's environment gets so that needrestart lists and restarts nothing. */
export const NEEDRESTART_LIST_ONLY = 'NEEDRESTART_MODE=l';

export interface NeedrestartReport {
  /** Services needrestart says should be restarted (list mode: it did not restart them). */
  listed: string[];
  /** Services needrestart restarted itself (automatic mode: our setting did not reach it). */
  restarted: string[];
}

// The headings needrestart's stdio UI prints before the commands it lists or runs (NeedRestart::UI::stdio).
const LISTED = new Set(['Services to be restarted:', 'Service restarts being deferred:']);
const RESTARTED = 'Restarting services...';

/** The services a restart command names: `systemctl restart a.service b.service`, `invoke-rc.d x restart`, … */
function servicesOf(command: string): string[] {
  const words = command.trim().split(/\s+/);
  if (words[0] === 'systemctl' && words[1] === 'restart') return words.slice(2);
  if ((words[0] === 'invoke-rc.d' || words[0] === 'service') && words[2] === 'restart') return [words[1]!];
  if (words[0] === 'sv' && words[1] === 'restart') return words.slice(2);
  return [];
}

/** Pure: what needrestart listed and restarted, from the lines apt printed. */
export function parseNeedrestart(lines: readonly string[]): NeedrestartReport {
  const listed: string[] = [];
  const restarted: string[] = [];
  let into: string[] | null = null;
  for (const line of lines) {
    const heading = line.trim();
    if (LISTED.has(heading)) into = listed;
    else if (heading === RESTARTED) into = restarted;
    else if (into && /^\s/.test(line) && heading) {
      for (const s of servicesOf(heading)) if (!into.includes(s)) into.push(s);
    } else if (heading || !into) into = null;
  }
  return { listed, restarted: restarted.filter((s) => !listed.includes(s)) };
}

/** Pure: the lines the run shows about needrestart, or none when it had nothing to say. */
export function needrestartLines(report: NeedrestartReport): string[] {
  const out: string[] = [];
  if (report.listed.length)
    out.push(
      `needrestart lists ${report.listed.join(', ')} as running replaced libraries; jitsi-scale restarted none of them (NEEDRESTART_MODE=l): restart them when no conference is on`,
    );
  if (report.restarted.length)
    out.push(
      `needrestart restarted ${report.restarted.join(', ')} during this install (it did not take NEEDRESTART_MODE=l)`,
    );
  return out;
}
