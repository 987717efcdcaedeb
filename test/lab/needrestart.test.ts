import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LAB_DIR, type LabState } from './setup/lab-config.js';
import { inventory, jitsiScale } from './setup/lab-runs.js';
import { labDown, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';

/*
 * needrestart as Ubuntu 24.04 ships it ($nrconf{restart} = 'a') on a meet host booted with
 * systemd and without a firewall tool, so that the run installs nftables there. Prosody is made to
 * run a replaced library first, as after a library upgrade: a file it maps is replaced by a copy
 * (a new inode, the way dpkg unpacks), so needrestart counts prosody.service as needing a
 * restart. Our install must leave Prosody's process as it was and say what needrestart listed;
 * the same transaction run without our setting restarts it (so the test can fail).
 */

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`needrestart lab tests cannot run in CI: ${why}`);

const sh = async (lab: LabState, script: string) => {
  const meet = lab.hosts.find((h) => h.name === 'meet')!;
  return (await inHost(meet.sshdPid, script)).stdout.trim();
};
// Prosody's pid: its pidfile (Debian's config sets one), else the unit's main process.
const PROSODY_PID = `p=$(cat /run/prosody/prosody.pid 2>/dev/null); [ -n "$p" ] || p=$(systemctl show -p MainPID --value prosody.service); echo "$p"`;
const prosodyPid = (lab: LabState) => sh(lab, PROSODY_PID);

// Replaces one of Prosody's own C modules (/usr/lib/prosody/util/*.so: only Prosody maps them) with a copy of
// itself: the running process keeps the old, now deleted, file mapped, as after an upgrade of it.
const REPLACE_LIBRARY = `
set -e
pid=$(${PROSODY_PID})
lib=$(awk '$6 ~ /^\\/usr\\/lib\\/prosody\\/util\\/.*\\.so$/ { print $6; exit }' /proc/$pid/maps)
[ -n "$lib" ] || { echo "prosody (pid $pid) maps no Lua C module: $(awk '{print $6}' /proc/$pid/maps 2>&1 | sort -u | tr '\\n' ' ')" >&2; exit 1; }
cp -p "$lib" "$lib.lab-new" && mv -f "$lib.lab-new" "$lib"
echo "$lib"`;

describe(
  "needrestart set as on Ubuntu 24.04 restarts nothing of the meet host's in our install",
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'needrestart-inventory.yaml');

    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 1, era: 'current', profiles: { meet: 'ubuntu-needrestart' } });
      // the tool reaches the meet host as an operator with sudo, whose env_reset drops the environment
      await writeFile(inv, inventory(lab, ['jvb1'], { meet: 'ansible_user: deploy, ansible_become: true' }));
    });
    after(async () => {
      await labDown();
    });

    let before0 = '';
    test('the meet host is as Ubuntu 24.04 has it, and needrestart counts Prosody as outdated', async () => {
      assert.match(await sh(lab, 'cat /etc/needrestart/conf.d/*.conf'), /\$nrconf\{restart\} = 'a';/);
      assert.equal(await sh(lab, 'command -v nft || echo none'), 'none', 'no firewall tool: the run installs nftables');
      const lib = await sh(lab, REPLACE_LIBRARY);
      assert.match(lib, /^\/usr\/lib\/prosody\/util\/.*\.so$/);
      assert.match(await sh(lab, 'needrestart -b -r l 2>/dev/null'), /^NEEDRESTART-SVC: prosody\.service$/m);
      before0 = await prosodyPid(lab);
      assert.match(before0, /^[1-9]\d*$/);
    });

    test("our install of nftables on the meet host leaves Prosody's process as it was and says what needrestart listed", async () => {
      assert.match(before0, /^[1-9]\d*$/, "Prosody's pid before the run is known (the first test passed)");
      const r = await jitsiScale(['--yes', '--plain', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-3000));
      assert.match(r.stdout, /install nftables/, 'the run installed nftables on the meet host');
      assert.match(r.stdout, /needrestart lists [^\n]*prosody\.service[^\n]*restarted none of them/);
      assert.equal(await prosodyPid(lab), before0, 'Prosody was not restarted');
    });

    test('the same apt transaction without our setting restarts Prosody (needrestart is really armed)', async () => {
      assert.match(before0, /^[1-9]\d*$/, "Prosody's pid before the run is known (the first test passed)");
      await sh(
        lab,
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall nftables >/dev/null 2>&1 || true',
      );
      const now = await prosodyPid(lab);
      assert.match(now, /^[1-9]\d*$/);
      assert.notEqual(now, before0, 'needrestart restarted prosody.service');
    });
  },
);
