import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Finding } from '../../playbooks/shard-doctor/checks.js';
import { DOMAIN, LAB_DIR, LAB_SECRET, type LabState } from './setup/lab-config.js';
import { inventory, jitsiScale, mark, touchedSince } from './setup/lab-runs.js';
import { labDown, labJicofo, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';
import { buildStandinPackage } from './standin-jvb/build-package.js';
import { SHARD_KEYS } from '../../playbooks/jitsi-load-balancing/bridge-files.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`doctor lab tests cannot run in CI: ${why}`);

const JVB_CONF = '/etc/jitsi/videobridge/jvb.conf';
const PROPS = '/etc/jitsi/videobridge/sip-communicator.properties';

describe(
  'doctor on a real lab shard: each cause broken on purpose is named, and setup clears it',
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'test-inventory-doctor.yaml');
    const on = (name: string, script: string, args: string[] = []) =>
      inHost(lab.hosts.find((h) => h.name === name)!.sshdPid, script, args);
    const restart = (name: string) => on(name, 'service jitsi-videobridge2 restart >/dev/null 2>&1; sleep 1.5');
    const doctor = async () => {
      const r = await jitsiScale(['doctor', '--json', '-i', inv]);
      const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as {
        findings: Finding[];
      };
      assert.ok(!r.stdout.includes(LAB_SECRET), 'no secret in the output');
      return { code: r.code, failed: doc.findings.filter((f) => !f.ok), all: doc.findings };
    };
    const failing = (failed: Finding[]) => failed.map((f) => `${f.host} ${f.check}`).sort();
    /** Doctor names exactly these failures, then setup (or `heal`) makes it clean again. */
    const expectOnly = async (expected: string[], heal?: () => Promise<void>) => {
      const { code, failed } = await doctor();
      assert.deepEqual(failing(failed), expected.sort(), JSON.stringify(failed, null, 2));
      assert.equal(code, 2);
      for (const f of failed) assert.ok(f.evidence && f.fix, `${f.check}: evidence and fix`);
      if (heal) await heal();
      else {
        const setup = await jitsiScale(['--yes', '-i', inv]);
        assert.equal(setup.code, 0, setup.stdout.slice(-2500));
      }
      const clean = await doctor();
      assert.deepEqual(failing(clean.failed), [], 'clean again');
      assert.equal(clean.code, 0);
      return failed;
    };

    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 2, era: 'current' });
      await writeFile(
        inv,
        // no systemd on the lab's hosts: the user loads nftables at boot (see test/lab/firewall-state)
        inventory(
          lab,
          ['jvb1', 'jvb2'],
          { jvb2: 'jitsi_verify_certificate: true, jitsi_nickname_policy: per-start' },
          '    jitsi_firewall_boot: manual',
        ),
      );
      const setup = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(setup.code, 0, setup.stdout.slice(-3000));
    });
    after(async () => {
      await labDown();
    });

    test('a healthy shard: every check passes on every bridge (jvb2 with the jvb.sh patch), exit 0, and nothing is written', async () => {
      const m = await mark(lab, 'before-doctor');
      const { code, failed, all } = await doctor();
      assert.deepEqual(failing(failed), []);
      assert.equal(all.length, 28, '14 checks on each of 2 bridges');
      assert.equal(code, 0);
      const text = await jitsiScale(['doctor', '-i', inv, '--limit', 'jvb2']);
      assert.match(text.stdout, /^jvb2:$/m);
      assert.doesNotMatch(text.stdout, /^jvb1:$/m, '--limit picks the bridges reported');
      assert.match(text.stdout, /all 14 checks passed on 1 bridge\(s\)/);
      assert.deepEqual(await touchedSince(lab, m), []);
    });

    test('a wrong password: SASL not-authorized, with the log line as evidence', async () => {
      await on('jvb1', `sed -i 's/PASSWORD="[^"]*"/PASSWORD="Wrong-Pass-0000"/' ${JVB_CONF}`);
      await restart('jvb1');
      const [f] = await expectOnly(['jvb1 xmpp-login']);
      assert.match(f!.evidence!, /SASLError using PLAIN: not-authorized/);
      assert.ok(!f!.evidence!.includes('Wrong-Pass-0000'));
    });

    test("a removed certificate: PKIX, the meet host's certificate not trusted", async () => {
      await on(
        'jvb2',
        'rm -f /usr/local/share/ca-certificates/jitsi-scale-auth.*.crt; update-ca-certificates --fresh >/dev/null 2>&1',
      );
      await restart('jvb2');
      const [f] = await expectOnly(['jvb2 certificate']);
      assert.match(f!.evidence!, /PKIX path building failed/);
    });

    test("a wrong MUC: MUC_JIDS is not Jicofo's brewery-jid", async () => {
      await on('jvb1', `sed -i 's/MUC_JIDS="[^"]*"/MUC_JIDS="OtherBrewery@internal.auth.${DOMAIN}"/' ${JVB_CONF}`);
      await restart('jvb1');
      const [f] = await expectOnly(['jvb1 brewery-jid']);
      assert.match(f!.evidence!, /MUC_JIDS = OtherBrewery@.*brewery-jid = JvbBrewery@internal\.auth\./);
    });

    test('legacy lines: a full legacy shard in sip-communicator.properties wins over jvb.conf', async () => {
      // A copy of the bridge's own settings in the old place, as an upgraded server keeps them.
      const conf = (await on('jvb2', `cat ${JVB_CONF}`)).stdout;
      const lines = SHARD_KEYS.filter((k) => k !== 'PORT').map(
        (k) =>
          `org.jitsi.videobridge.xmpp.user.shard.${k}=${new RegExp(`${k}\\s*=\\s*"?([^"\\n]*?)"?\\s*$`, 'm').exec(conf)![1]}`,
      );
      await on('jvb2', `printf '%s\\n' "$@" >> ${PROPS}`, lines);
      const [f] = await expectOnly(['jvb2 legacy-config']);
      assert.match(f!.evidence!, /org\.jitsi\.videobridge\.xmpp\.user\.shard\.HOSTNAME=/);
    });

    test("websockets on, unrouted in the meet host's 2026-style nginx: harmless until config.js says preferSctp: false", async () => {
      await on('jvb1', `sed -i 's/enabled = false/enabled = true/' ${JVB_CONF}`);
      assert.deepEqual(failing((await doctor()).failed), []);
      const js = `/etc/jitsi/meet/${DOMAIN}-config.js`;
      await on(
        'meet',
        `mkdir -p /etc/jitsi/meet && printf '%s\\n' 'var config = { bridgeChannel: { preferSctp: false } };' > ${js}`,
      );
      const [f] = await expectOnly(['jvb1 websockets']);
      // The lab's site ends, as jitsi-meet's template does, with a catch-all regex: nginx gives the path to it.
      assert.match(f!.text, /routes \/colibri-ws\/default-id\/ elsewhere \(location ~ \^\/\(/);
      assert.match(f!.text, /preferSctp: false/);
      await on('meet', `rm -f ${js}`);
    });

    test('SCTP off with websockets off: no bridge channel', async () => {
      await on(
        'jvb1',
        `sed -i 's/enabled = true/enabled = false/' ${JVB_CONF} && printf 'videobridge.sctp.enabled = false\\n' >> ${JVB_CONF}`,
      );
      const [f] = await expectOnly(['jvb1 bridge-channel'], async () => {
        await on('jvb1', `sed -i '/videobridge.sctp.enabled = false/d' ${JVB_CONF}`);
      });
      assert.match(f!.evidence!, /videobridge\.sctp\.enabled = false/);
    });

    test('Prosody taking clients on loopback only: named on every bridge, with the setting and its line', async () => {
      await on(
        'meet',
        'sed -i \'1i c2s_interfaces = { "127.0.0.1" }\' /etc/prosody/prosody.cfg.lua && service prosody restart >/dev/null',
      );
      const failed = await expectOnly(['jvb1 xmpp-reach', 'jvb2 xmpp-reach']);
      for (const f of failed) {
        assert.equal(f.text, 'Prosody on meet takes clients on { "127.0.0.1" } only');
        assert.equal(f.evidence, 'c2s_interfaces = { "127.0.0.1" } (/etc/prosody/prosody.cfg.lua:1)');
      }
    });

    test("the firewall closed to one bridge: it cannot reach Prosody's client port", async () => {
      const jvb1 = lab.hosts.find((h) => h.name === 'jvb1')!.address;
      await on(
        'meet',
        `sed -i 's/ip saddr { [^}]* }/ip saddr { ${jvb1} }/' /etc/nftables.d/jitsi-scale-tcp-5222.nft && nft -f /etc/nftables.d/jitsi-scale-tcp-5222.nft`,
      );
      const [f] = await expectOnly(['jvb2 xmpp-reach']);
      assert.match(f!.text, /cannot open TCP .*:5222/);
    });

    test('a duplicate nickname (a cloned config): both bridges are named', async () => {
      // jvb2 takes a fresh nickname at each start (per-start): jvb1 is given jvb2's current one.
      const conf = (await on('jvb2', `cat ${JVB_CONF}`)).stdout;
      const nick = /MUC_NICKNAME\s*=\s*"?([^"\s]+)/.exec(conf)![1]!;
      await on(
        'jvb1',
        `sed -i 's/^\\([[:space:]]*MUC_NICKNAME[[:space:]]*=[[:space:]]*\\).*/\\1"${nick}"/' ${JVB_CONF}`,
      );
      await restart('jvb1');
      await expectOnly(['jvb1 nickname', 'jvb2 nickname']);
    });

    test('an old version installed by hand: the version, and the jvb.sh patch the package replaced', async () => {
      const deb = await buildStandinPackage(
        'legacy',
        join(LAB_DIR, 'build', 'doctor'),
        join(LAB_DIR, 'build', 'doctor-debs'),
      );
      await on('jvb2', 'DEBIAN_FRONTEND=noninteractive dpkg -i "$1" >/dev/null 2>&1', [deb]);
      const failed = await expectOnly(['jvb2 jvb-sh', 'jvb2 version']);
      assert.match(
        failed.find((f) => f.check === 'version')!.text,
        /runs 2\.1-999-gjslab0 while meet's release pairs with 2\.3-999-gjslab0 \(the meet host's own bridge\)/,
      );
    });

    test('the REST API off while a sidecar needs it; fixed by the setting the doctor gives', async () => {
      await on('jvb1', 'mkdir -p /etc/jitsi/autoscaler-sidecar');
      const [f] = await expectOnly(['jvb1 rest-api'], async () => {
        await on('jvb1', `printf '%s\\n' 'videobridge.apis.rest.enabled = true' >> ${JVB_CONF}`);
        await restart('jvb1');
      });
      assert.match(f!.text, /the autoscaler sidecar needs it/);
      await on('jvb1', `rm -rf /etc/jitsi/autoscaler-sidecar; sed -i '$d' ${JVB_CONF}`);
      await restart('jvb1');
    });

    test('Jicofo marks a bridge non-operational while its own health answers 200: named, with what to do; a restart clears it', async () => {
      await labJicofo(true);
      try {
        // The stand-in bridge stops answering Jicofo's XMPP health checks; its /about/health stays 200.
        await on(
          'jvb1',
          `curl -s -X POST -d '{"unanswered":true}' http://127.0.0.1:8080/lab-standin/xmpp-health >/dev/null`,
        );
        let found: Finding | undefined;
        for (let i = 0; i < 40 && !found; i++) {
          found = (await doctor()).failed.find((f) => f.check === 'jicofo-operational');
          if (!found) await new Promise((r) => setTimeout(r, 500));
        }
        assert.ok(found, "the doctor names Jicofo's mark");
        assert.equal(found.host, 'jvb1');
        assert.match(found.evidence!, /operational = false.*\/about\/health on jvb1: 200/);
        assert.match(found.fix!, /jicofo\.log/);
        await expectOnly(['jvb1 jicofo-operational'], () => restart('jvb1').then(() => undefined));
      } finally {
        await labJicofo(false);
      }
    });

    test('only private addresses with require-valid-address on, Jicofo on: its view joins the evidence; fixed by the setting the doctor gives', async () => {
      await labJicofo(true);
      try {
        await on(
          'jvb1',
          'for a in $(ip -o addr show dev eth0 | awk \'{print $4}\' | grep -v "^10\\."); do ip addr del "$a" dev eth0; done',
        );
        await restart('jvb1');
        // The stand-in Jicofo health-checks every 2 s: wait until it has seen the failure.
        for (let i = 0; i < 30; i++) {
          const { failed } = await doctor();
          if (failed.some((f) => /Jicofo sees it as unhealthy/.test(f.evidence ?? ''))) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const [f] = await expectOnly(['jvb1 valid-address'], async () => {
          await on('jvb1', `printf '%s\\n' 'videobridge.health.require-valid-address = false' >> ${JVB_CONF}`);
          await restart('jvb1');
        });
        assert.match(
          f!.evidence!,
          /\/about\/health answers 500: .*No valid IP addresses available for harvesting.*; Jicofo sees it as unhealthy and not operational$/,
        );
      } finally {
        await labJicofo(false);
      }
    });
  },
);
