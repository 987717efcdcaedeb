import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Era } from '../setup/lab-config.js';
import { run } from '../setup/run.js';
import { bridgeFilesScript } from './bridge-config-files.js';

/** TEST STAND-IN versions, one per era, so a test can tell which was installed. */
export const STANDIN_VERSION: Record<Era, string> = { current: '2.3-999-gjslab0-1', legacy: '2.1-999-gjslab0-1' };

const SIM_ENTRY = fileURLToPath(new URL('./sim-bridge.js', import.meta.url));

const LAUNCHER = (node: string) => `#!/bin/bash
# jitsi-scale lab: TEST STAND-IN for the videobridge launcher. Same path and role as the real
# jvb.sh (reads /etc/jitsi/videobridge/config, then starts the daemon), but the daemon is the
# lab's simulated bridge, not Java.
if [ -f /etc/jitsi/videobridge/config ]; then
  . /etc/jitsi/videobridge/config
fi
export JAVA_SYS_PROPS JVB_HOSTNAME JVB_HOST JVB_PORT JVB_SECRET JVB_OPTS
# The system trust store, as Java's is kept in step with it on Debian.
exec ${node} --use-openssl-ca /usr/share/jitsi-videobridge/sim-bridge.mjs "$@"
`;

const INIT_SCRIPT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          jitsi-videobridge2
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: jitsi-scale lab TEST STAND-IN videobridge
### END INIT INFO
PIDFILE=/run/jitsi-videobridge2.pid
LOG=/var/log/jitsi/jvb.log
start() {
  mkdir -p /var/log/jitsi && touch "$LOG" && chown jvb /var/log/jitsi "$LOG"
  start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" --chuid jvb \\
    --startas /bin/sh -- -c "exec /usr/share/jitsi-videobridge/jvb.sh >> $LOG 2>&1"
}
stop() {
  start-stop-daemon --stop --quiet --pidfile "$PIDFILE" --retry TERM/5/KILL/2 --remove-pidfile || true
}
case "$1" in
  start) echo "Starting jitsi-videobridge2 (lab stand-in)"; start ;;
  stop) echo "Stopping jitsi-videobridge2 (lab stand-in)"; stop ;;
  restart|force-reload) echo "Restarting jitsi-videobridge2 (lab stand-in)"; stop; start ;;
  status)
    if start-stop-daemon --status --pidfile "$PIDFILE"; then echo "jitsi-videobridge2 is running"; exit 0; fi
    echo "jitsi-videobridge2 is not running"; exit 3 ;;
  *) echo "Usage: $0 {start|stop|restart|status}"; exit 2 ;;
esac
exit 0
`;

/**
 * The unit, shaped like the real package's jitsi-videobridge2.service (EnvironmentFile, User=jvb,
 * RuntimeDirectory, RestartPreventExitStatus=78, the launcher through bash with a LOGFILE).
 */
const UNIT = `[Unit]
Description=Jitsi Videobridge (jitsi-scale lab TEST STAND-IN)
After=network-online.target
Wants=network-online.target

[Service]
SuccessExitStatus=143
RestartPreventExitStatus=78
EnvironmentFile=-/etc/jitsi/videobridge/config
Environment=LOGFILE=/var/log/jitsi/jvb.log
User=jvb
RuntimeDirectory=jitsi-videobridge
RuntimeDirectoryMode=0750
PIDFile=/var/run/jitsi-videobridge/jitsi-videobridge.pid
ExecStart=/bin/bash -c "exec /usr/share/jitsi-videobridge/jvb.sh \${JVB_OPTS} < /dev/null >> \${LOGFILE} 2>&1"
ExecStartPost=/bin/bash -c "echo $MAINPID > /var/run/jitsi-videobridge/jitsi-videobridge.pid"
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
`;

const TEMPLATES = `Template: jitsi-videobridge/jvb-hostname
Type: string
Description: The hostname of the current installation (lab stand-in)

Template: jitsi-videobridge/jvbsecret
Type: password
Description: The secret used to connect to the xmpp server (lab stand-in)
`;

const POSTINST = (era: Era) => `#!/bin/sh
# jitsi-scale lab: TEST STAND-IN postinst. Like the real package, it writes the bridge's config
# only when it is missing, from the debconf answers when preseeded.
set -e
. /usr/share/debconf/confmodule
case "$1" in
  configure)
    getent passwd jvb >/dev/null || useradd --system --no-create-home --home-dir /usr/share/jitsi-videobridge --shell /usr/sbin/nologin jvb
    mkdir -p /etc/jitsi/videobridge /var/log/jitsi
    chown jvb /var/log/jitsi
    db_get jitsi-videobridge/jvb-hostname || true
    host="$RET"
    [ -n "$host" ] || host=localhost
    db_get jitsi-videobridge/jvbsecret || true
    secret="$RET"
    [ -n "$secret" ] || secret=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \\n')
    uuid=$(cat /proc/sys/kernel/random/uuid)
${bridgeFilesScript(era)}
    chown -R jvb /etc/jitsi/videobridge
    chmod 0640 /etc/jitsi/videobridge/*
    update-rc.d jitsi-videobridge2 defaults >/dev/null 2>&1 || true
    # Enabled and started at install, as the real package does: the unit under systemd, the init
    # script elsewhere.
    if [ -d /run/systemd/system ]; then
      deb-systemd-helper enable jitsi-videobridge2.service >/dev/null 2>&1 || systemctl enable jitsi-videobridge2.service >/dev/null 2>&1 || true
      systemctl daemon-reload >/dev/null 2>&1 || true
      systemctl restart jitsi-videobridge2.service >/dev/null 2>&1 || true
    else /etc/init.d/jitsi-videobridge2 restart >/dev/null 2>&1 || true; fi
    ;;
esac
db_stop || true
exit 0
`;

const PRERM = `#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = upgrade ]; then
  if [ -d /run/systemd/system ]; then systemctl stop jitsi-videobridge2.service >/dev/null 2>&1 || true
  else /etc/init.d/jitsi-videobridge2 stop >/dev/null 2>&1 || true; fi
fi
exit 0
`;

export async function put(path: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  await chmod(path, mode);
}

/** Builds the era's stand-in .deb (of `version`, the era's own by default) into `outDir`; returns its path. */
export async function buildStandinPackage(
  era: Era,
  workDir: string,
  outDir: string,
  version = STANDIN_VERSION[era],
): Promise<string> {
  const root = join(workDir, `jitsi-videobridge2-${era}-${version}`);
  await rm(root, { recursive: true, force: true });
  const share = join(root, 'usr/share/jitsi-videobridge');
  await put(join(share, 'jvb.sh'), LAUNCHER(process.execPath), 0o755);
  // The daemon runs the lab's compiled simulator from this checkout (the hosts see it: only
  // /etc, /usr, /var, /opt and /root are private to each host).
  await put(
    join(share, 'sim-bridge.mjs'),
    `// jitsi-scale lab TEST STAND-IN: the simulated bridge.\nprocess.env.JVB_STANDIN_VERSION = ${JSON.stringify(version)};\nawait import(${JSON.stringify(SIM_ENTRY)});\n`,
  );
  await put(join(root, 'etc/init.d/jitsi-videobridge2'), INIT_SCRIPT, 0o755);
  await put(join(root, 'lib/systemd/system/jitsi-videobridge2.service'), UNIT);
  await put(
    join(root, 'usr/share/doc/jitsi-videobridge2/README.lab'),
    'TEST STAND-IN built by the jitsi-scale lab. Not the Jitsi Videobridge.\n',
  );
  await put(
    join(root, 'DEBIAN/control'),
    [
      'Package: jitsi-videobridge2',
      `Version: ${version}`,
      'Architecture: all',
      'Maintainer: jitsi-scale lab <lab@jitsi-scale.invalid>',
      'Depends: debconf',
      'Section: net',
      'Priority: optional',
      `Description: TEST STAND-IN for jitsi-videobridge2 (${era} layout)`,
      ' Built by the jitsi-scale lab for its tests. Same paths as the real package; the daemon',
      ' is a simulated bridge that logs in to Prosody and joins the brewery. Not a videobridge.',
      '',
    ].join('\n'),
  );
  await put(join(root, 'DEBIAN/templates'), TEMPLATES);
  await put(join(root, 'DEBIAN/postinst'), POSTINST(era), 0o755);
  await put(join(root, 'DEBIAN/prerm'), PRERM, 0o755);
  await put(join(root, 'DEBIAN/conffiles'), '/etc/init.d/jitsi-videobridge2\n');
  await mkdir(outDir, { recursive: true });
  const deb = join(outDir, `jitsi-videobridge2_${version}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return deb;
}

/** A flat apt repository (Packages + Release) holding `debs`, for `deb [trusted=yes] file:DIR ./`. */
export async function writeAptRepo(dir: string, debs: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stanzas: string[] = [];
  for (const deb of debs) {
    const name = deb.split('/').pop()!;
    const target = join(dir, name);
    if (target !== deb) await copyFile(deb, target);
    const bytes = await readFile(target);
    const control = (await run('dpkg-deb', ['-f', target])).stdout.trimEnd();
    stanzas.push(
      `${control}\nFilename: ./${name}\nSize: ${(await stat(target)).size}\nMD5sum: ${createHash('md5').update(bytes).digest('hex')}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`,
    );
  }
  const packages = stanzas.join('\n');
  await writeFile(join(dir, 'Packages'), packages);
  const sum = createHash('sha256').update(packages).digest('hex');
  await writeFile(
    join(dir, 'Release'),
    `Origin: jitsi-scale-lab\nLabel: jitsi-scale lab stand-ins\nSuite: lab\nCodename: lab\nDate: ${new Date().toUTCString()}\nSHA256:\n ${sum} ${Buffer.byteLength(packages)} Packages\n`,
  );
}
