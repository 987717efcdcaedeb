import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../setup/run.js';
import { put } from '../standin-jvb/build-package.js';

/** TEST STAND-IN version of the lab's jicofo package. */
export const JICOFO_STANDIN_VERSION = '1.0-999-jslab0-1';

const ENTRY = fileURLToPath(new URL('./standin-jicofo.js', import.meta.url));

// The lab's stand-in checks health every 2 s and resets a failure after 3 s, where Jicofo takes 10 s
// and a minute: the same behaviour, at a test's pace.
const LAUNCHER = (node: string) => `#!/bin/sh
# jitsi-scale lab: TEST STAND-IN for Jicofo. Not Jicofo.
export JICOFO_HEALTH_INTERVAL_MS=\${JICOFO_HEALTH_INTERVAL_MS:-2000} JICOFO_FAILURE_RESET_MS=\${JICOFO_FAILURE_RESET_MS:-3000}
exec ${node} --use-openssl-ca /usr/share/jicofo/standin-jicofo.mjs
`;

const INIT_SCRIPT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          jicofo
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: jitsi-scale lab TEST STAND-IN jicofo
### END INIT INFO
PIDFILE=/run/jicofo.pid
LOG=/var/log/jitsi/jicofo.log
case "$1" in
  start) mkdir -p /var/log/jitsi; start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" --startas /bin/sh -- -c "exec /usr/share/jicofo/jicofo.sh >> $LOG 2>&1" ;;
  stop) start-stop-daemon --stop --quiet --pidfile "$PIDFILE" --retry TERM/5/KILL/2 --remove-pidfile || true ;;
  restart|force-reload) "$0" stop; "$0" start ;;
  status) start-stop-daemon --status --pidfile "$PIDFILE" && { echo "jicofo is running"; exit 0; }; echo "jicofo is not running"; exit 3 ;;
  *) echo "Usage: $0 {start|stop|restart|status}"; exit 2 ;;
esac
exit 0
`;

const UNIT = `[Unit]
Description=Jitsi Conference Focus (jitsi-scale lab TEST STAND-IN)
After=network-online.target prosody.service

[Service]
ExecStart=/bin/sh -c "exec /usr/share/jicofo/jicofo.sh >> /var/log/jitsi/jicofo.log 2>&1"
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

const POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  mkdir -p /var/log/jitsi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable --now jicofo.service >/dev/null 2>&1 || true
  else update-rc.d jicofo defaults >/dev/null 2>&1 || true; /etc/init.d/jicofo restart >/dev/null 2>&1 || true; fi
fi
exit 0
`;

const PRERM = `#!/bin/sh
if [ -d /run/systemd/system ]; then systemctl stop jicofo.service >/dev/null 2>&1 || true
else /etc/init.d/jicofo stop >/dev/null 2>&1 || true; fi
exit 0
`;

/** Builds the stand-in jicofo .deb into `outDir`; returns its path. */
export async function buildJicofoPackage(workDir: string, outDir: string): Promise<string> {
  const root = join(workDir, 'jicofo');
  await rm(root, { recursive: true, force: true });
  await put(join(root, 'usr/share/jicofo/jicofo.sh'), LAUNCHER(process.execPath), 0o755);
  await put(
    join(root, 'usr/share/jicofo/standin-jicofo.mjs'),
    `// jitsi-scale lab TEST STAND-IN: Jicofo.\nawait import(${JSON.stringify(ENTRY)});\n`,
  );
  await put(join(root, 'etc/init.d/jicofo'), INIT_SCRIPT, 0o755);
  await put(join(root, 'lib/systemd/system/jicofo.service'), UNIT);
  await put(
    join(root, 'DEBIAN/control'),
    [
      'Package: jicofo',
      `Version: ${JICOFO_STANDIN_VERSION}`,
      'Architecture: all',
      'Maintainer: jitsi-scale lab <lab@jitsi-scale.invalid>',
      'Section: net',
      'Priority: optional',
      'Description: TEST STAND-IN for jicofo',
      ' Built by the jitsi-scale lab for its tests: logs in as focus, follows the brewery, health-checks',
      " the bridges and serves Jicofo's /stats and /debug. Not Jicofo.",
      '',
    ].join('\n'),
  );
  await put(join(root, 'DEBIAN/postinst'), POSTINST, 0o755);
  await put(join(root, 'DEBIAN/prerm'), PRERM, 0o755);
  await mkdir(outDir, { recursive: true });
  const deb = join(outDir, `jicofo_${JICOFO_STANDIN_VERSION}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return deb;
}
