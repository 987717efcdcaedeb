import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Change } from '../../src/engine/playbook.js';
import { planIptables } from '../../src/modules/firewall/iptables.js';
import { planNftables } from '../../src/modules/firewall/nftables.js';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';
import type { Host } from '../../src/transport/host.js';
import { NetnsHost, createNetns, netnsUnavailable } from '../support/netns-host.js';
import { canConnect } from '../support/tcp-probe.js';
import { ensureDebianPackages } from '../support/debian-packages.js';

// The harness installs the firewall tools it applies rules with (iptables, nft) on this machine.
if (process.getuid?.() === 0)
  await ensureDebianPackages({ '/usr/sbin/iptables': 'iptables', '/usr/sbin/nft': 'nftables' });
const why = netnsUnavailable();
if (why && process.env.CI) throw new Error(`firewall tests cannot run in CI: ${why}`);

const NET = '10.213.0';
const MEET = `${NET}.10`;
const BRIDGE = `${NET}.11`;
const OUTSIDER = `${NET}.99`;

async function applyAll(host: Host, changes: Change[]): Promise<void> {
  for (const c of changes) await c.apply(host, { output: () => undefined });
}

/**
 * Two namespaces joined by a veth pair: "meet" listening on 5222 and "peer" holding both a
 * bridge's and an outsider's address, so a rule's effect is measured by real connections.
 */
function labPair(tag: string): { meetNs: string; peerNs: string; teardown: () => void } {
  const meetNs = `js-fw-meet-${tag}`;
  const peerNs = `js-fw-peer-${tag}`;
  const delMeet = createNetns(meetNs);
  const delPeer = createNetns(peerNs);
  const ip = (...a: string[]) => execFileSync('ip', a);
  ip('link', 'add', `jsm-${tag}`, 'netns', meetNs, 'type', 'veth', 'peer', 'name', `jsp-${tag}`, 'netns', peerNs);
  ip('-n', meetNs, 'addr', 'add', `${MEET}/24`, 'dev', `jsm-${tag}`);
  ip('-n', peerNs, 'addr', 'add', `${BRIDGE}/24`, 'dev', `jsp-${tag}`);
  ip('-n', peerNs, 'addr', 'add', `${OUTSIDER}/24`, 'dev', `jsp-${tag}`);
  ip('-n', meetNs, 'link', 'set', `jsm-${tag}`, 'up');
  ip('-n', peerNs, 'link', 'set', `jsp-${tag}`, 'up');
  return {
    meetNs,
    peerNs,
    teardown: () => {
      delPeer();
      delMeet();
    },
  };
}

function listen(ns: string, port: number): ChildProcess {
  return spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', `require('net').createServer(s=>s.end()).listen(${port},'0.0.0.0')`],
    { stdio: 'ignore' },
  );
}

for (const kind of ['iptables', 'nftables'] as const) {
  describe(`${kind}: TCP 5222 from the bridges only, on a real firewall`, { skip: why ?? false }, () => {
    let pair: ReturnType<typeof labPair>;
    let server: ChildProcess;
    let host: NetnsHost;
    let dir: string;
    // The rules are live in a namespace of their own, their files in a temp dir; this machine's boot
    // (iptables-persistent, the nftables service) is left alone.
    const plan = async (rule: PortRule) =>
      (kind === 'iptables'
        ? await planIptables(host, rule, {
            paths: { rulesV4: join(dir, 'rules.v4'), rulesV6: join(dir, 'rules.v6') },
            installPersistence: false,
          })
        : await planNftables(host, rule, {
            paths: { dir: join(dir, 'nftables.d'), mainConf: join(dir, 'nftables.conf') },
            manageBoot: false,
          })
      ).changes;

    before(async () => {
      pair = labPair(kind === 'iptables' ? 'ipt' : 'nft');
      server = listen(pair.meetNs, 5222);
      dir = await mkdtemp(join(tmpdir(), `js-fw-${kind}-`));
      host = new NetnsHost(pair.meetNs, join(dir, 'backups'));
      for (let i = 0; i < 50 && !(await canConnect(pair.peerNs, BRIDGE, MEET, 5222)); i++)
        await new Promise((r) => setTimeout(r, 50));
    });
    after(() => {
      server?.kill();
      pair?.teardown();
    });

    test('before: everyone connects', async () => {
      assert.equal(await canConnect(pair.peerNs, OUTSIDER, MEET, 5222), true);
    });

    test('apply: the bridge connects, the outsider does not, loopback still does; persisted', async () => {
      const changes = await plan({ proto: 'tcp', port: 5222, sources: [BRIDGE] });
      assert.ok(changes.length >= 2, changes.map((c) => c.description).join('; '));
      await applyAll(host, changes);
      assert.equal(await canConnect(pair.peerNs, BRIDGE, MEET, 5222), true, 'bridge');
      assert.equal(await canConnect(pair.peerNs, OUTSIDER, MEET, 5222), false, 'outsider');
      assert.equal(
        await canConnect(pair.meetNs, '127.0.0.1', '127.0.0.1', 5222),
        true,
        'loopback (Jicofo) keeps working',
      );
      const persisted =
        kind === 'iptables'
          ? await readFile(join(dir, 'rules.v4'), 'utf8')
          : await readFile(join(dir, 'nftables.d', 'jitsi-scale-tcp-5222.nft'), 'utf8');
      assert.ok(persisted.includes(BRIDGE));
      if (kind === 'nftables')
        assert.match(await readFile(join(dir, 'nftables.conf'), 'utf8'), /include ".*jitsi-scale-tcp-5222\.nft"/);
    });

    test('a second plan is empty', async () => {
      assert.deepEqual(
        (await plan({ proto: 'tcp', port: 5222, sources: [BRIDGE] })).map((c) => c.description),
        [],
      );
    });

    test('adding a source changes only the rule, and lets it in', async () => {
      const changes = await plan({ proto: 'tcp', port: 5222, sources: [BRIDGE, OUTSIDER] });
      assert.ok(changes.length > 0);
      await applyAll(host, changes);
      assert.equal(await canConnect(pair.peerNs, OUTSIDER, MEET, 5222), true);
      assert.deepEqual(await plan({ proto: 'tcp', port: 5222, sources: [BRIDGE, OUTSIDER] }), []);
    });

    test('a rule removed from the live firewall (e.g. after a flush) is planned again', async () => {
      if (kind === 'iptables') execFileSync('ip', ['netns', 'exec', pair.meetNs, 'iptables', '-F', 'INPUT']);
      else execFileSync('ip', ['netns', 'exec', pair.meetNs, 'nft', 'delete', 'table', 'inet', 'jitsi_scale_tcp_5222']);
      const changes = await plan({ proto: 'tcp', port: 5222, sources: [BRIDGE] });
      assert.ok(changes.length > 0, 'the lost live rule is noticed');
      await applyAll(host, changes);
      assert.equal(await canConnect(pair.peerNs, OUTSIDER, MEET, 5222), false);
    });
  });
}
