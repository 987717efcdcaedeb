import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  BRIDGE_DEV,
  GATEWAY,
  LAB_DIR,
  NET6_PREFIX,
  PUBLIC_PREFIX,
  type LabHost,
  type PlannedHost,
} from './lab-config.js';
import { run, startDetached } from './run.js';

/*
 * One lab host = a network namespace with a veth on the lab bridge, and an sshd started in a
 * private mount namespace where /etc, /usr, /var and /opt are overlays of this machine's (so a
 * host's package installs and config edits stay its own), like /root, and /run is a fresh tmpfs. Everything
 * the tool does on the host happens through that sshd, as on a real server.
 */
const HOST_SETUP = `
set -e
lab=$1 host=$2 addr=$3 tree=$4 node=$5
base=$lab/hosts/$host
# A host of another Debian release lies on that release's tree ($tree); it keeps this machine's
# node at the same path, for the lab's stand-ins (a node binary needs only glibc and libstdc++,
# which a newer release has too).
mkdir -p "$base"
if [ -n "$tree" ]; then touch "$base.node"; mount --bind "$node" "$base.node"; fi
for d in etc usr var opt root; do
  mkdir -p "$base/$d/upper" "$base/$d/work"
  mount -t overlay overlay -o "lowerdir=$tree/$d,upperdir=$base/$d/upper,workdir=$base/$d/work" "/$d"
done
if [ -n "$tree" ]; then mkdir -p "$(dirname "$node")"; touch "$node"; mount --bind "$base.node" "$node"; fi
mount -t tmpfs -o mode=0755 tmpfs /run
# root's shell start-up files as a fresh Debian server has them (this machine's may load tools
# that take half a second on every command)
cp /etc/skel/.bashrc /etc/skel/.profile /root/
mkdir -p /run/sshd /run/lock
hostname "$host"
echo "$host" > /etc/hostname
# The host's own key, made once: a host that reboots keeps it, as a server does.
if ! grep -q " $host$" /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null; then
  rm -f /etc/ssh/ssh_host_*
  ssh-keygen -q -t ed25519 -N '' -C "$host" -f /etc/ssh/ssh_host_ed25519_key
fi
install -m 0644 "$lab/id_ed25519.pub" /etc/ssh/lab_authorized_keys
# A non-root operator with passwordless sudo, for the tool's become path.
id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy
usermod -p '*' deploy
echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/lab-deploy
chmod 0440 /etc/sudoers.d/lab-deploy
cat > /etc/ssh/sshd_lab_config <<CONF
ListenAddress $addr
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/lab_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile /run/sshd-lab.pid
MaxSessions 64
MaxStartups 100:30:200
Subsystem sftp internal-sftp
CONF
`;

const HOST_BOOT = `${HOST_SETUP}
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_lab_config
`;

/*
 * A systemd host: the same files, then systemd as PID 1 of the host's own PID namespace (and
 * cgroup namespace, so that several hosts' systemd never share a cgroup tree). Only what a lab
 * host needs starts at boot: the units this machine enables (databases, gettys) are left out, and
 * sshd runs as a unit of its own.
 */
const SYSTEMD_BOOT = `${HOST_SETUP}
mount -t proc proc /proc
if [ ! -e /etc/lab-first-boot ]; then
# First boot only (a reboot keeps what was enabled since, as a server does):
find /etc/systemd/system -maxdepth 1 -name '*.wants' -exec rm -rf {} +
# Units that would reach past the host into this machine: /tmp and /dev are shared (tmpfiles
# empties /tmp at boot), and kernel.* sysctls, modules and binfmt are global.
for u in getty.target console-getty.service getty-static.service systemd-firstboot.service \
  systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service systemd-tmpfiles-clean.service \
  systemd-tmpfiles-clean.timer systemd-sysctl.service systemd-modules-load.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.automount systemd-remount-fs.service systemd-udevd.service systemd-random-seed.service; do
  ln -sf /dev/null "/etc/systemd/system/$u"
done
cat > /etc/systemd/system/lab-sshd.service <<UNIT
[Unit]
Description=sshd of the jitsi-scale lab host
After=network.target
[Service]
RuntimeDirectory=sshd
ExecStart=/usr/sbin/sshd -D -e -f /etc/ssh/sshd_lab_config
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf ../lab-sshd.service /etc/systemd/system/multi-user.target.wants/lab-sshd.service
touch /etc/lab-first-boot
fi
export container=jitsi-scale-lab
exec /lib/systemd/systemd --log-target=\${LAB_SYSTEMD_LOG:-journal}
`;

/** The cgroup trees a systemd host gets a subtree of (made before it starts, removed by down). */
export const CGROUP_TREES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];
export const CGROUP_DIR = 'jsl-lab';

/** Moves the launcher into the host's own cgroups, then starts the host's namespaces and systemd. */
const SYSTEMD_LAUNCH = `
set -e
host=$1 ns=$2; shift 2
for tree in ${CGROUP_TREES.join(' ')}; do
  if [ -d "$tree" ]; then mkdir -p "$tree/${CGROUP_DIR}/$host"; echo $$ > "$tree/${CGROUP_DIR}/$host/cgroup.procs"; fi
done
exec ip netns exec "$ns" unshare --mount --uts --pid --fork --cgroup --propagation private "$@"
`;

export async function createBridge(): Promise<void> {
  const exists = await run('ip', ['link', 'show', BRIDGE_DEV], { allowFail: true });
  if (exists.code !== 0) await run('ip', ['link', 'add', BRIDGE_DEV, 'type', 'bridge']);
  await run('ip', ['addr', 'replace', `${GATEWAY}/24`, 'dev', BRIDGE_DEV]);
  await run('ip', ['link', 'set', BRIDGE_DEV, 'up']);
  await run('ip', ['addr', 'replace', `${NET6_PREFIX}1/64`, 'dev', BRIDGE_DEV, 'nodad'], { allowFail: true });
}

function vethName(host: PlannedHost): string {
  return `jsl-${host.name}`.slice(0, 15);
}

async function waitForSsh(address: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: address, port: 22 });
      s.setTimeout(500, () => {
        s.destroy();
        resolve(false);
      });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the lab host at ${address} did not start sshd within ${timeoutMs / 1000}s (see ${LAB_DIR}/logs)`);
}

/** Creates the host's namespace and link, and starts its sshd; returns the host with its sshd pid. */
/** The pid of the first process named `comm` among `pid`'s descendants, once there is one. */
async function descendantNamed(pid: number, comm: string, timeoutMs = 10_000): Promise<number> {
  const children = async (p: number) => {
    try {
      return (await readFile(`/proc/${p}/task/${p}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const queue = [pid];
    while (queue.length) {
      const p = queue.shift()!;
      const name = await readFile(`/proc/${p}/comm`, 'utf8').catch(() => '');
      if (p !== pid && name.trim() === comm) return p;
      queue.push(...(await children(p)));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the lab's systemd host did not start within ${timeoutMs / 1000}s (see ${LAB_DIR}/logs)`);
}

/** Boots a systemd host in its namespace; returns the pid of its systemd (PID 1 inside). */
async function bootSystemd(host: PlannedHost, log: number): Promise<number> {
  const launcher = startDetached(
    'sh',
    [
      '-c',
      SYSTEMD_LAUNCH,
      'lab-launch',
      host.name,
      host.ns,
      'sh',
      '-c',
      SYSTEMD_BOOT,
      'lab-boot',
      LAB_DIR,
      host.name,
      host.address,
      '',
      process.execPath,
    ],
    log,
  );
  // unshare --fork: systemd is a descendant of the launcher, and its mount namespace is the host's.
  return descendantNamed(launcher, 'systemd');
}

/** Removes a systemd host's cgroups, deepest first (empty once its processes are gone). */
export async function removeCgroups(host?: string): Promise<void> {
  for (const tree of CGROUP_TREES) {
    const dir = join(tree, CGROUP_DIR, ...(host ? [host] : []));
    await run(
      'sh',
      ['-c', 'd="$1"; [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; exit 0', 'rm', dir],
      { allowFail: true },
    );
  }
}

/**
 * A real reboot of a systemd host: every process of the host is killed (power off), then it boots
 * again on the same files, and its units start as enabled; firewall rules come back only if the
 * boot loads them.
 */
export async function rebootHost(host: LabHost): Promise<LabHost> {
  if (host.init !== 'systemd') throw new Error(`${host.name} has no init system to boot: only systemd hosts reboot`);
  for (let i = 0; i < 50; i++) {
    const pids = (await run('ip', ['netns', 'pids', host.ns], { allowFail: true })).stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await removeCgroups(host.name);
  const log = openSync(join(LAB_DIR, 'logs', `${host.name}-sshd.log`), 'a');
  const pid = await bootSystemd(host, log);
  closeSync(log);
  await waitForSsh(host.address, 60_000);
  return { ...host, sshdPid: pid };
}

/** Starts a host; `tree`: the root filesystem of another release its files lie on (default: this machine's). */
export async function startHost(host: PlannedHost, tree?: string): Promise<LabHost> {
  if (tree && host.init === 'systemd') throw new Error(`${host.name}: a host of another release boots without systemd`);
  const veth = vethName(host);
  await run('ip', ['netns', 'add', host.ns]);
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
  await run('ip', ['link', 'set', veth, 'master', BRIDGE_DEV, 'up']);
  await run('ip', ['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', host.ns, 'addr', 'add', `${host.address6}/64`, 'dev', 'eth0', 'nodad'], { allowFail: true });
  await run('ip', [
    '-n',
    host.ns,
    'addr',
    'add',
    `${PUBLIC_PREFIX}.${host.address.split('.').pop()}/32`,
    'dev',
    'eth0',
  ]);
  await run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', host.ns, 'link', 'set', 'lo', 'up']);
  await mkdir(join(LAB_DIR, 'logs'), { recursive: true });
  const log = openSync(join(LAB_DIR, 'logs', `${host.name}-sshd.log`), 'a');
  // tini -s makes the host's first process the reaper of its orphans, as init is on a server: a
  // daemon that exits is gone at once. Without it the orphans go to this machine's PID 1, which may
  // reap late (seen: 1.5 s), and every service stop waits that long.
  let pid: number;
  if (host.init === 'systemd') {
    pid = await bootSystemd(host, log);
  } else {
    const boot = [
      'tini',
      '-s',
      '-g',
      '--',
      'sh',
      '-c',
      HOST_BOOT,
      'lab-boot',
      LAB_DIR,
      host.name,
      host.address,
      tree ?? '',
      process.execPath,
    ];
    pid = startDetached(
      'ip',
      ['netns', 'exec', host.ns, 'unshare', '--mount', '--uts', '--propagation', 'private', ...boot],
      log,
    );
  }
  closeSync(log);
  await waitForSsh(host.address, host.init === 'systemd' ? 60_000 : 15_000);
  return { ...host, sshdPid: pid };
}
