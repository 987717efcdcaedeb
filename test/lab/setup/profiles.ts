import type { Profile } from './lab-config.js';

/*
 * Host profiles: the shapes real Jitsi servers come in (../shared/HOSTS.md), each made inside the
 * host's own overlay by installing and configuring the real Debian packages from the lab's
 * repository. A profile also takes away the firewall packages its shape does not have, so that
 * whatever this machine has installed, every host of a profile looks the same.
 */

export const PROFILE_DOCS: Record<Profile, string> = {
  'debian-nft': 'Debian 12 as installed: nftables, no rules loaded, its service disabled',
  iptables: 'hand-made iptables rules kept by iptables-persistent',
  'ubuntu-ufw':
    "ufw active with the Jitsi quick-start rules (22, 80, 443/tcp, 10000, 3478/udp, 5349/tcp) and a guide's public 5222/tcp",
  'ufw-inactive': 'ufw installed and inactive, no nftables (an Ubuntu cloud image)',
  firewalld: 'firewalld running (its own dbus), http and https services in its default zone',
  bare: 'no firewall tool at all (a VPS behind its provider security group)',
  systemd: 'debian-nft, booted with systemd as PID 1: services are units driven by systemctl',
  trixie:
    "Debian 13 (trixie) as installed, from trixie's own root filesystem: Prosody 13, nftables with no rules loaded",
  'ubuntu-needrestart':
    "needrestart set to restart services itself ($nrconf{restart} = 'a', Ubuntu 24.04's default), booted with systemd, no firewall tool (the tool installs nftables)",
};

const PRELUDE = `
set -e
export DEBIAN_FRONTEND=noninteractive
absent() {
  for p in "$@"; do
    if dpkg-query -W -f '\${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^i'; then
      dpkg --purge --force-depends "$p" >/dev/null 2>&1
    fi
  done
}
get() { apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
`;

const SETUP: Record<Profile, string> = {
  'debian-nft': `
absent ufw firewalld iptables-persistent netfilter-persistent
get nftables
nft flush ruleset
systemctl disable nftables.service >/dev/null 2>&1 || rm -f /etc/systemd/system/sysinit.target.wants/nftables.service`,
  systemd: `
absent ufw firewalld iptables-persistent netfilter-persistent
get nftables
nft flush ruleset
systemctl disable nftables.service >/dev/null 2>&1 || true`,
  iptables: `
absent ufw firewalld nftables
printf '%s\\n' 'iptables-persistent iptables-persistent/autosave_v4 boolean false' 'iptables-persistent iptables-persistent/autosave_v6 boolean false' | debconf-set-selections
get iptables iptables-persistent
iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -s 10.77.0.0/24 -p tcp --dport 5269 -j ACCEPT
ip6tables -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
mkdir -p /etc/iptables
iptables-save > /etc/iptables/rules.v4
ip6tables-save > /etc/iptables/rules.v6`,
  'ubuntu-ufw': `
absent firewalld iptables-persistent netfilter-persistent
get ufw
for r in 22/tcp 80/tcp 443/tcp 10000/udp 3478/udp 5349/tcp 5222/tcp; do ufw allow "$r" >/dev/null; done
ufw --force enable >/dev/null`,
  'ufw-inactive': `
absent firewalld iptables-persistent netfilter-persistent nftables
get ufw
# as installed: ufw.conf says ENABLED=no. (Not \`ufw disable\`: it would make iptables' empty tables.)
grep -q '^ENABLED=no' /etc/ufw/ufw.conf`,
  firewalld: `
absent ufw iptables-persistent netfilter-persistent
get firewalld
if [ -d /run/systemd/system ]; then
  # as on a server: the package enables firewalld.service; dbus comes with systemd
  systemctl enable --now firewalld.service >/dev/null 2>&1
else
  mkdir -p /run/dbus
  [ -s /etc/machine-id ] || cat /proc/sys/kernel/random/uuid | tr -d - > /etc/machine-id
  dbus-daemon --system --fork >/dev/null 2>&1
  firewalld >/var/log/firewalld.start 2>&1
fi
i=0
until [ "$(firewall-cmd --state 2>/dev/null)" = running ]; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "firewalld did not start" >&2; exit 1; }
  sleep 0.1
done
firewall-cmd --permanent --add-service=http --add-service=https >/dev/null
firewall-cmd --reload >/dev/null`,
  bare: `
absent ufw firewalld iptables-persistent netfilter-persistent nftables iptables`,
  trixie: `
absent ufw firewalld iptables-persistent netfilter-persistent
get nftables
nft flush ruleset
rm -f /etc/systemd/system/sysinit.target.wants/nftables.service`,
  // Debian's needrestart, set as Ubuntu 24.04 ships it: every apt transaction ends with needrestart
  // restarting what runs replaced libraries, non-interactive runs included
  // (https://discourse.ubuntu.com/t/needrestart-changes-in-ubuntu-24-04-service-restarts/44671).
  'ubuntu-needrestart': `
absent ufw firewalld iptables-persistent netfilter-persistent nftables iptables
get needrestart
mkdir -p /etc/needrestart/conf.d
echo "\\$nrconf{restart} = 'a';" > /etc/needrestart/conf.d/lab-ubuntu-24.04.conf`,
};

/** The script that makes a lab host into `profile` (run inside the host, as root). */
export function profileScript(profile: Profile): string {
  return PRELUDE + SETUP[profile];
}

/**
 * A reboot of the firewall on a host without systemd (a systemd host really reboots): the live
 * rules are flushed, and a running firewalld stopped, as power off does; then boot starts what a
 * host without systemd starts: the init scripts with a start link in an rc directory (ufw's,
 * netfilter-persistent's), nothing else. nftables and firewalld have no init script on Debian, so
 * on such a host nothing brings their rules back.
 */
export const REBOOT_FIREWALL = `
fwd=
if [ -s /run/firewalld.pid ] && kill -0 "$(cat /run/firewalld.pid)" 2>/dev/null; then
  fwd=$(cat /run/firewalld.pid); kill "$fwd"
  i=0; while kill -0 "$fwd" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
nft flush ruleset 2>/dev/null || true
for t in iptables ip6tables; do
  if command -v $t >/dev/null 2>&1; then $t -F 2>/dev/null; $t -X 2>/dev/null; $t -P INPUT ACCEPT 2>/dev/null; fi
done
for s in $(ls /etc/rcS.d /etc/rc2.d 2>/dev/null | grep -E '^S[0-9]{2}(ufw|netfilter-persistent|nftables|firewalld)$' | sort -u); do
  /etc/init.d/\${s#S??} start >/dev/null 2>&1 || true
done
exit 0`;

/** The firewall's configuration as seen from inside a host, one section per tool (see foreignRules). */
export const FIREWALL_SNAPSHOT = `
echo '@@nft'; nft list ruleset 2>/dev/null
echo '@@iptables'; iptables-save 2>/dev/null; ip6tables-save 2>/dev/null
echo '@@ufw'; cat /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null | grep '^### tuple'
echo '@@firewalld'; firewall-cmd --permanent --list-all-zones 2>/dev/null
echo '@@end'`;

/**
 * Pure: the rules in a snapshot that are not this tool's, for comparing before and after a run.
 * Ours are the tables, chains and rules named jitsi-scale, and the ports the tool manages
 * (`ports`, e.g. 5222/tcp and 10000/udp in firewalld). Counters are dropped.
 */
export function foreignRules(snapshot: string, ports: readonly string[]): string[] {
  const all = foreignBySection(snapshot, ports);
  // A front end's rules are compared as it keeps them: the live tables are its rendering of them.
  for (const manager of ['firewalld', 'ufw']) {
    const own = all.filter((l) => l.startsWith(`${manager} `));
    if (own.length) return own;
  }
  return all;
}

function foreignBySection(snapshot: string, ports: readonly string[]): string[] {
  const out: string[] = [];
  let section = '';
  let skipDepth = 0;
  for (const raw of snapshot.split('\n')) {
    const head = /^@@(\w+)$/.exec(raw);
    if (head) {
      section = head[1]!;
      continue;
    }
    const line = raw.trim();
    if (!line || (line.startsWith('#') && section !== 'ufw')) continue;
    if (section === 'nft') {
      // our tables, and the ones iptables-nft keeps (compared in the iptables section): skip them whole
      if (skipDepth > 0 || /^table inet jitsi_scale_|^table (ip|ip6) (filter|nat|mangle|raw|security) /.test(line)) {
        skipDepth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
        continue;
      }
      if (/jitsi-scale/.test(line)) continue;
      out.push(`nft ${line.replace(/counter packets \d+ bytes \d+ ?/, '')}`);
    } else if (section === 'iptables') {
      if (/jitsi-scale/.test(line) || line === 'COMMIT' || line.startsWith('*')) continue;
      out.push(`iptables ${line.replace(/\[\d+:\d+\]/, '')}`);
    } else if (section === 'ufw') {
      // the tuple's comment is hex; ours decode to jitsi-scale-…
      const comment = /comment=([0-9a-f]+)/.exec(line)?.[1];
      if (comment && Buffer.from(comment, 'hex').toString().startsWith('jitsi-scale')) continue;
      out.push(`ufw ${line}`);
    } else if (section === 'firewalld') {
      // our rich rules (at our priorities) and the ports the tool manages are ours
      if (/^rule priority="-3276[78]"/.test(line)) continue;
      if (/^ports:/.test(line)) {
        const kept = line.split(/\s+/).filter((w) => !ports.includes(w));
        out.push(`firewalld ${kept.join(' ')}`.trim());
        continue;
      }
      out.push(
        `firewalld ${line.replace(/ \((default, )?active\)$/, (m) => (m.includes('default') ? ' (default)' : ''))}`,
      );
    }
  }
  return out.filter((l) => l !== 'firewalld');
}
