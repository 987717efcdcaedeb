import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOMAIN, LAB_DIR, type LabState } from './setup/lab-config.js';
import { changed, inventory, jitsiScale, mark, touchedSince } from './setup/lab-runs.js';
import { labDown, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`bridge channel lab tests cannot run in CI: ${why}`);

const JVB_CONF = '/etc/jitsi/videobridge/jvb.conf';
const JICOFO_CONF = '/etc/jitsi/jicofo/jicofo.conf';
const SITE = `/etc/nginx/sites-available/${DOMAIN}.conf`;
/** RFC 6455's sample key, and the answer a correct handshake gives it. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A WebSocket upgrade from the meet host to its own nginx over TLS, as a browser sends it; the raw answer. */
const UPGRADE = `curl -sk --http1.1 -i -N --max-time 4 --resolve "$1:443:127.0.0.1" \
  -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H "Sec-WebSocket-Key: $2" \
  "https://$1/colibri-ws/$3/conf1/ep1?pwd=x" 2>&1; exit 0`;

describe(
  "the bridge channel: SCTP, or colibri websockets routed per bridge by the meet host's nginx",
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'test-inventory-channel.yaml');
    const wsInv = join(LAB_DIR, 'test-inventory-channel-ws.yaml');
    const on = (name: string, script: string, args: string[] = []) =>
      inHost(lab.hosts.find((h) => h.name === name)!.sshdPid, script, args);
    const conf = async (name: string) => (await on(name, `cat ${JVB_CONF}`)).stdout;

    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 2, era: 'current' });
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
      await writeFile(wsInv, inventory(lab, ['jvb1', 'jvb2'], {}, '    jitsi_bridge_channel: websocket'));
    });
    after(async () => {
      await labDown();
    });

    test("sctp (the default): the package's websockets are turned off where SCTP is on at both ends; nginx untouched", async () => {
      const site = (await on('meet', `cat ${SITE}`)).stdout;
      const r = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-3000));
      assert.match(
        r.stdout,
        /colibri websockets are on \(jvb\.conf: videobridge\.websockets\.enabled = true\) while SCTP is on/,
      );
      for (const b of ['jvb1', 'jvb2']) {
        assert.match(await conf(b), /websockets \{\s*enabled = false/);
        const log = (await on(b, 'grep BridgeChannel /var/log/jitsi/jvb.log | tail -n 1')).stdout;
        assert.match(log, /SCTP enabled; colibri websockets disabled/, `${b}: the restarted stand-in reads them off`);
      }
      assert.equal((await on('meet', `cat ${SITE}`)).stdout, site);
    });

    test('SCTP off on a bridge, or in Jicofo, with jitsi_bridge_channel: sctp: refused in one sentence, that bridge left as it was', async () => {
      await on('jvb2', `printf 'videobridge.sctp.enabled = false\\n' >> ${JVB_CONF}`);
      const before2 = await conf('jvb2');
      const m = await mark(lab, 'sctp-off');
      const r = await jitsiScale(['--yes', '-i', inv]);
      assert.notEqual(r.code, 0, r.stdout.slice(-2000));
      assert.match(
        r.stdout,
        /jvb2.*SCTP is off \(videobridge\.sctp\.enabled = false in jvb2's jvb\.conf\), so turning colibri websockets off would leave jvb2's conferences without a bridge channel: set jitsi_bridge_channel: websocket/,
      );
      assert.equal(await conf('jvb2'), before2);
      assert.deepEqual(
        (await touchedSince(lab, m)).filter((p) => p.startsWith('jvb2:')),
        [],
      );
      await on('jvb2', `sed -i '/videobridge.sctp.enabled = false/d' ${JVB_CONF}`);

      await on(
        'meet',
        `cp ${JICOFO_CONF} /root/jicofo.conf.keep && printf 'jicofo.sctp.enabled = false\\n' >> ${JICOFO_CONF}`,
      );
      const check = await jitsiScale(['--check', '-i', inv]);
      assert.match(check.stdout, /jicofo\.sctp\.enabled = false in the meet host's jicofo\.conf/);
      await on('meet', `cp /root/jicofo.conf.keep ${JICOFO_CONF}`);
    });

    test("websocket: a server-id per bridge, and a real upgrade through the meet host's nginx reaches that bridge; a second run changes nothing", async () => {
      const r = await jitsiScale(['--yes', '-i', wsInv]);
      assert.equal(r.code, 0, r.stdout.slice(-3000));
      const site = (await on('meet', `cat ${SITE}`)).stdout;
      assert.match(site, /#location ~ \^\/colibri-ws\/default-id\//, "the template's own commented block is kept");
      for (const b of ['jvb1', 'jvb2']) {
        const c = await conf(b);
        assert.match(c, /websockets \{[^}]*enabled = true/);
        assert.match(c, new RegExp(`server-id = "?${b}"?`));
        assert.match(c, new RegExp(`domain = "${DOMAIN.replace(/\./g, '\\.')}:443"`));
        const address = lab.hosts.find((h) => h.name === b)!.address;
        assert.ok(site.includes(`proxy_pass http://${address}:9090/colibri-ws/${b}/$1$is_args$args;`), site);
        const answer = (await on('meet', UPGRADE, [DOMAIN, KEY, b])).stdout;
        assert.match(answer, /^HTTP\/1\.1 101 /m, answer);
        assert.match(answer, new RegExp(`Sec-WebSocket-Accept: ${ACCEPT.replace(/[+/]/g, '\\$&')}`, 'i'));
        assert.match(answer, new RegExp(`"serverId":"${b}"`), `${b}'s own stand-in answered`);
      }
      const unknown = (await on('meet', UPGRADE, [DOMAIN, KEY, 'nobody'])).stdout;
      assert.doesNotMatch(unknown, /101 Switching/);
      const again = await jitsiScale(['--yes', '--json', '-i', wsInv]);
      assert.equal(again.code, 0, again.stdout.slice(-2000));
      assert.deepEqual(changed(again), []);
    });

    test('a site that nginx -t refuses is never put in place: the live site stays, the run fails naming it', async () => {
      // Break the config nginx reads beside the site: every candidate then fails nginx -t.
      await on('meet', `printf 'this is not nginx;\\n' > /etc/nginx/conf.d/broken.conf`);
      const before3 = (await on('meet', `cat ${SITE}`)).stdout;
      const r = await jitsiScale(['--yes', '-i', inv]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /colibri-routes|nginx/);
      assert.equal((await on('meet', `cat ${SITE}`)).stdout, before3);
      await on('meet', 'rm -f /etc/nginx/conf.d/broken.conf');
      const healed = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(healed.code, 0, healed.stdout.slice(-2000));
      assert.ok(!(await on('meet', `cat ${SITE}`)).stdout.includes('BEGIN jitsi-scale'), 'back to sctp: the routes go');
    });
  },
);
