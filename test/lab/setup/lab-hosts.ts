import { openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BRIDGE_DEV, GATEWAY, LAB_DIR, type LabHost } from './lab-config.js';
import { run, startDetached } from './run.js';

/*
 * One lab host = a network namespace with a veth on the lab bridge, and an sshd started in a
 * private mount namespace where /etc, /usr, /var and /opt are overlays of this machine's (so a
 * host's package installs and config edits stay its own), like /root, and /run is a fresh tmpfs. Everything
 * the tool does on the host happens through that sshd, as on a real server.
 */
const HOST_BOOT = `
set -e
lab=$1 host=$2 addr=$3
base=$lab/hosts/$host
for d in etc usr var opt root; do
  mkdir -p "$base/$d/upper" "$base/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$base/$d/upper,workdir=$base/$d/work" "/$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run
# root's shell start-up files as a fresh Debian server has them (this machine's may load tools
# that take half a second on every command)
cp /etc/skel/.bashrc /etc/skel/.profile /root/
mkdir -p /run/sshd /run/lock
hostname "$host"
echo "$host" > /etc/hostname
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C "$host" -f /etc/ssh/ssh_host_ed25519_key
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
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_lab_config
`;

export async function createBridge(): Promise<void> {
  const exists = await run('ip', ['link', 'show', BRIDGE_DEV], { allowFail: true });
  if (exists.code !== 0) await run('ip', ['link', 'add', BRIDGE_DEV, 'type', 'bridge']);
  await run('ip', ['addr', 'replace', `${GATEWAY}/24`, 'dev', BRIDGE_DEV]);
  await run('ip', ['link', 'set', BRIDGE_DEV, 'up']);
}

function vethName(host: Omit<LabHost, 'sshdPid'>): string {
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
export async function startHost(host: Omit<LabHost, 'sshdPid'>): Promise<LabHost> {
  const veth = vethName(host);
  await run('ip', ['netns', 'add', host.ns]);
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
  await run('ip', ['link', 'set', veth, 'master', BRIDGE_DEV, 'up']);
  await run('ip', ['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', host.ns, 'link', 'set', 'lo', 'up']);
  await mkdir(join(LAB_DIR, 'logs'), { recursive: true });
  const log = openSync(join(LAB_DIR, 'logs', `${host.name}-sshd.log`), 'a');
  // tini -s makes the host's first process the reaper of its orphans, as init is on a server: a
  // daemon that exits is gone at once. Without it the orphans go to this machine's PID 1, which may
  // reap late (seen: 1.5 s), and every service stop waits that long.
  const boot = ['tini', '-s', '-g', '--', 'sh', '-c', HOST_BOOT, 'lab-boot', LAB_DIR, host.name, host.address];
  const pid = startDetached('ip', ['netns', 'exec', host.ns, 'unshare', '--mount', '--uts', '--propagation', 'private', ...boot], log);
  closeSync(log);
  await waitForSsh(host.address);
  return { ...host, sshdPid: pid };
}

