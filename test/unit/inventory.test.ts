import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadShardInventory, parseShardInventory } from '../support/shard-inventory.js';
import { bridgesOf, jitsi, meetOf, privateAddress } from '../../playbooks/jitsi-load-balancing/settings.js';
import { InventoryError } from '../../src/inventory/types.js';
import { expandHostPattern, splitHostPort } from '../../src/inventory/host-pattern.js';

const F = 'inv.yaml';

function problems(text: string): string[] {
  try {
    parseShardInventory(text, F, { defaultUser: 'me' });
  } catch (e) {
    assert.ok(e instanceof InventoryError, `expected InventoryError, got ${String(e)}`);
    return e.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  assert.fail('expected the inventory to be rejected');
}

const minimal = `
all:
  children:
    meet:
      hosts:
        meet1:
          ansible_host: 192.0.2.10
    jvb:
      hosts:
        jvb1:
          ansible_host: 192.0.2.11
        jvb2:
          ansible_host: 192.0.2.12
`;

describe('inventory: reading Ansible YAML', () => {
  test('groups meet and jvb become the meet host and the bridges, with defaults', () => {
    const inv = parseShardInventory(minimal, F, { defaultUser: 'me' });
    assert.equal(meetOf(inv).name, 'meet1');
    assert.deepEqual(
      bridgesOf(inv).map((b) => b.name),
      ['jvb1', 'jvb2'],
    );
    assert.deepEqual(
      inv.hosts.map((h) => h.role),
      ['meet', 'jvb', 'jvb'],
    );
    const b = bridgesOf(inv)[0]!;
    assert.equal(b.address, '192.0.2.11');
    assert.equal(b.port, 22);
    assert.equal(b.user, 'me');
    assert.equal(b.become, true, 'a non-root user escalates by default');
    assert.equal(b.becomeUser, 'root');
    assert.equal(privateAddress(b), '192.0.2.11');
    assert.equal(jitsi(b).nicknamePolicy, 'stable');
    assert.equal(jitsi(b).firewall, 'auto');
    assert.equal(jitsi(b).mediaPort, 10000);
    assert.equal(jitsi(b).verifyCertificate, false);
    assert.match(jitsi(b).aptSource, /download\.jitsi\.org/);
    assert.deepEqual(b.defined, { file: F, line: 10, col: 9 });
    assert.deepEqual(inv.groups.jvb, ['jvb1', 'jvb2']);
    assert.deepEqual(inv.groups.all, ['meet1', 'jvb1', 'jvb2']);
  });

  test('host vars override child group vars override parent group vars override all', () => {
    const inv = parseShardInventory(
      `
all:
  vars: { ansible_port: 2200, ansible_user: root, jitsi_media_port: 10001, other: all }
  children:
    meet:
      hosts: { m: { ansible_host: 192.0.2.1 } }
    bridges:
      vars: { ansible_port: 2201, other: parent }
      children:
        jvb:
          vars: { ansible_port: 2202 }
          hosts:
            a: { ansible_host: 192.0.2.2 }
            b: { ansible_host: 192.0.2.3, ansible_port: "2203", ansible_become: "yes" }
`,
      F,
    );
    assert.equal(meetOf(inv).port, 2200);
    assert.equal(meetOf(inv).become, false, 'root does not escalate by default');
    const [a, b] = bridgesOf(inv);
    assert.equal(a!.port, 2202);
    assert.equal(a!.vars.other, 'parent');
    assert.equal(jitsi(a!).mediaPort, 10001);
    assert.equal(b!.port, 2203);
    assert.equal(b!.become, true);
    assert.deepEqual(a!.groups, ['all', 'bridges', 'jvb']);
    assert.deepEqual(inv.groups.bridges, ['a', 'b']);
  });

  test('top-level groups besides all, host ranges, anchors and merge keys work as in Ansible', () => {
    const inv = parseShardInventory(
      `
meet:
  hosts:
    meet.example.org: &common
      ansible_user: deploy
      ansible_ssh_private_key_file: keys/id
jvb:
  hosts:
    jvb[01:03].example.org:
      <<: *common
      ansible_port: 2222
`,
      '/etc/fleet/inv.yaml',
      { cwd: '/srv/ops' },
    );
    assert.deepEqual(
      bridgesOf(inv).map((b) => b.name),
      ['jvb01.example.org', 'jvb02.example.org', 'jvb03.example.org'],
    );
    assert.equal(bridgesOf(inv)[2]!.address, 'jvb03.example.org');
    assert.equal(bridgesOf(inv)[0]!.user, 'deploy');
    assert.equal(bridgesOf(inv)[0]!.port, 2222);
    assert.equal(meetOf(inv).port, 22);
    assert.equal(meetOf(inv).privateKeyPath, '/srv/ops/keys/id', 'a key path is relative to the working directory');
  });

  test('old ansible_ssh_* spellings, yes/no booleans and local connection are understood', () => {
    const inv = parseShardInventory(
      `
all:
  children:
    meet: { hosts: { m: { ansible_connection: local, ansible_user: root } } }
    jvb: { hosts: { j: { ansible_ssh_host: 192.0.2.5, ansible_ssh_port: 2022, ansible_ssh_user: ops, ansible_become: no } } }
`,
      F,
    );
    assert.equal(meetOf(inv).connection, 'local');
    const j = bridgesOf(inv)[0]!;
    assert.equal(j.address, '192.0.2.5');
    assert.equal(j.port, 2022);
    assert.equal(j.user, 'ops');
    assert.equal(j.become, false);
  });

  test('unknown variables pass through', () => {
    const inv = parseShardInventory(
      minimal.replace(
        'ansible_host: 192.0.2.11',
        'ansible_host: 192.0.2.11\n          ansible_python_interpreter: /usr/bin/python3',
      ),
      F,
    );
    assert.equal(bridgesOf(inv)[0]!.vars.ansible_python_interpreter, '/usr/bin/python3');
  });

  test('the example inventory.yaml in the project is valid', async () => {
    const inv = await loadShardInventory('inventory.yaml');
    assert.equal(meetOf(inv).name, 'meet');
    assert.equal(bridgesOf(inv).length, 2);
  });
});

describe('inventory: errors name file:line:col and say how to fix', () => {
  test('a typo of a known variable is an error with a suggestion', () => {
    assert.deepEqual(problems(minimal.replace('ansible_host: 192.0.2.11', 'ansible_hots: 192.0.2.11')), [
      `${F}:11:11: unknown variable "ansible_hots" in host "jvb1"; did you mean "ansible_host"?`,
    ]);
  });

  test('an unknown jitsi_ variable is an error, with the closest known one', () => {
    assert.deepEqual(problems(minimal.replace('jvb:\n', 'jvb:\n      vars: { jitsi_nicname_policy: stable }\n')), [
      `${F}:9:15: unknown Jitsi variable "jitsi_nicname_policy" in vars of group "jvb"; did you mean "jitsi_nickname_policy"?`,
    ]);
  });

  test('a typo in a group key is an error', () => {
    assert.deepEqual(problems(minimal.replace('    jvb:\n      hosts:', '    jvb:\n      host:')), [
      `${F}:9:7: unknown key "host" in group "jvb"; did you mean "hosts"?`,
    ]);
  });

  test('all problems are reported at once, in file order', () => {
    const text = `
all:
  vars:
    ansible_port: 99999
    jitsi_nickname_policy: random
  children:
    meet:
      hosts:
        m: { ansible_host: 192.0.2.1, ansible_become: maybe }
    jvb:
      hosts:
        j: { ansible_host: "{{ lookup('env', 'X') }}" }
`;
    assert.deepEqual(problems(text), [
      `${F}:4:19: ansible_port must be a port number from 1 to 65535, not 99999 (in vars of group "all")`,
      `${F}:5:28: jitsi_nickname_policy must be one of stable, per-start, not "random" (in vars of group "all")`,
      `${F}:9:55: ansible_become must be true or false, not "maybe" (in host "m")`,
      `${F}:12:28: ansible_host uses a Jinja template, which this tool does not evaluate; write the value itself (in host "j")`,
    ]);
  });

  test('not YAML', () => {
    assert.deepEqual(problems('all:\n  hosts:\n    a:\n   b: [\n'), [
      `${F}:3:7: not valid YAML: All mapping items must start at the same column`,
      `${F}:5:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
  });

  test('a duplicate key', () => {
    assert.match(
      problems(minimal + '        jvb2:\n')[0]!,
      /^inv\.yaml:14:9: not valid YAML: Map keys must be unique \(a key appears twice/,
    );
  });

  test('an empty file, a comment-only file and a scalar file', () => {
    assert.match(problems('')[0]!, /^inv\.yaml:1:1: the inventory is empty; it needs an "all:" mapping/);
    assert.match(problems('# nothing\n')[0]!, /^inv\.yaml:1:1: the inventory is empty/);
    assert.deepEqual(problems('just text\n'), [
      `${F}:1:1: the inventory must be a mapping of groups (starting with "all:"), not the value "just text"`,
    ]);
  });

  test('meet with no host, or with two hosts; jvb missing', () => {
    assert.deepEqual(problems('all:\n  children:\n    meet:\n    jvb:\n      hosts: { j: }\n'), [
      `${F}:3:5: no host in group "meet"; add the Jitsi Meet server under all.children.meet.hosts`,
    ]);
    assert.deepEqual(
      problems('all:\n  children:\n    meet:\n      hosts: { a: , b: }\n    jvb:\n      hosts: { j: }\n'),
      [`${F}:3:5: group "meet" must hold exactly one host, but holds 2: a, b`],
    );
    assert.deepEqual(problems('all:\n  children:\n    meet:\n      hosts: { a: }\n'), [
      `${F}:1:1: no host in group "jvb"; add the videobridge hosts under all.children.jvb.hosts`,
    ]);
  });

  test('a host in both meet and jvb', () => {
    assert.deepEqual(
      problems('all:\n  children:\n    meet:\n      hosts: { a: }\n    jvb:\n      hosts:\n        b:\n        a:\n'),
      [`${F}:8:9: host "a" is in both "meet" and "jvb"; the bridges must be other hosts than the meet server`],
    );
  });

  test('duplicate addresses and duplicate nicknames', () => {
    const text = `
all:
  children:
    meet: { hosts: { m: { ansible_host: 192.0.2.1 } } }
    jvb:
      hosts:
        a: { ansible_host: 192.0.2.2, jitsi_nickname: same }
        b: { ansible_host: 192.0.2.2, jitsi_nickname: same }
`;
    assert.deepEqual(problems(text), [
      `${F}:8:28: hosts "a" and "b" have the same address 192.0.2.2:22; each host needs its own`,
      `${F}:8:28: hosts "a" and "b" have the same private address 192.0.2.2; each host needs its own`,
      `${F}:8:55: hosts "a" and "b" have the same nickname same; each host needs its own`,
    ]);
  });

  test('hosts written as a list, a bad host value, a cycle, a bad range', () => {
    assert.deepEqual(problems('all:\n  children:\n    meet:\n      hosts:\n        - m\n'), [
      `${F}:5:9: hosts of group "meet" must be a mapping: write each host as "name:" on its own line, not "- name"`,
    ]);
    assert.deepEqual(problems('all:\n  children:\n    meet:\n      hosts:\n        m: 192.0.2.1\n'), [
      `${F}:5:12: host "m" must be followed by a mapping of its variables (or nothing), not the value "192.0.2.1"`,
    ]);
    assert.deepEqual(
      problems('all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n'),
      [`${F}:7:13: groups contain each other: all → a → b → a`],
    );
    assert.deepEqual(problems('all:\n  children:\n    jvb:\n      hosts:\n        j[3:1]:\n'), [
      `${F}:5:9: host range "j[3:1]" names no host (it counts down, or its step skips past the end)`,
    ]);
  });

  test('a missing file and a directory are named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-inv-'));
    await assert.rejects(
      loadShardInventory(join(dir, 'nope.yaml')),
      (e: unknown) =>
        e instanceof InventoryError &&
        e.message ===
          `${join(dir, 'nope.yaml')}:1:1: no such file; pass your inventory with -i PATH (see inventory.yaml in the project for an example)`,
    );
    await assert.rejects(
      loadShardInventory(dir),
      (e: unknown) =>
        e instanceof InventoryError && /:1:1: is a directory; pass the inventory file itself/.test(e.message),
    );
    await writeFile(join(dir, 'two.yaml'), 'a: 1\n---\nb: 2\n');
    await assert.rejects(
      loadShardInventory(join(dir, 'two.yaml')),
      /two\.yaml:2:1: the file holds more than one YAML document/,
    );
  });
});

describe('host ranges', () => {
  test('numbers with padding, letters, steps and several ranges', () => {
    assert.deepEqual(expandHostPattern('jvb[08:10]'), { hosts: ['jvb08', 'jvb09', 'jvb10'] });
    assert.deepEqual(expandHostPattern('h[a:c].x'), { hosts: ['ha.x', 'hb.x', 'hc.x'] });
    assert.deepEqual(expandHostPattern('h[1:5:2]'), { hosts: ['h1', 'h3', 'h5'] });
    assert.deepEqual(expandHostPattern('r[1:2]-[a:b]'), { hosts: ['r1-a', 'r1-b', 'r2-a', 'r2-b'] });
    assert.deepEqual(expandHostPattern('plain'), { hosts: ['plain'] });
    assert.deepEqual(expandHostPattern('n[A:C]'), { hosts: ['nA', 'nB', 'nC'] });
    assert.deepEqual(expandHostPattern('z[:2]'), { hosts: ['z0', 'z1', 'z2'] });
    assert.deepEqual(
      expandHostPattern('m[y:B]'),
      { hosts: ['my', 'mz', 'mA', 'mB'] },
      'a…z then A…Z, as Python slices',
    );
    assert.match((expandHostPattern('w[01:3]') as { error: string }).error, /equal-length begin and end/);
    assert.match((expandHostPattern('w[1:]') as { error: string }).error, /must specify end value/);
  });

  test('a port after the host name, an IPv4 address or […] around an IPv6 address', () => {
    assert.deepEqual(splitHostPort('jvb1.example.org:2222'), { pattern: 'jvb1.example.org', port: 2222 });
    assert.deepEqual(splitHostPort('10.0.0.5:2201'), { pattern: '10.0.0.5', port: 2201 });
    assert.deepEqual(splitHostPort('[2001:db8::1]:2200'), { pattern: '2001:db8::1', port: 2200 });
    assert.deepEqual(splitHostPort('2001:db8::2'), { pattern: '2001:db8::2', port: null });
    assert.deepEqual(splitHostPort('web[1:2].x:22'), { pattern: 'web[1:2].x', port: 22 });
    assert.deepEqual(splitHostPort('bad_:22'), { pattern: 'bad_:22', port: null }, 'not a host name: taken whole');
  });
});

describe('inventory semantics as Ansible has them', () => {
  test('the old spelling wins wherever each is set; ansible_private_key_file and the sudo spellings are read', () => {
    const inv = parseShardInventory(
      `
all:
  vars: { ansible_ssh_user: old, ansible_become_password: new-pw }
  children:
    meet: { hosts: { m: { ansible_user: new, ansible_host: 192.0.2.1, ansible_ssh_host: 192.0.2.2 } } }
    jvb:
      vars: { ansible_sudo_pass: oldest-pw, ansible_sudo_user: su }
      hosts: { j: { ansible_become_user: bu, ansible_private_key_file: /k/new, ansible_port: 2200, ansible_ssh_port: 2201 } }
`,
      F,
    );
    assert.deepEqual(
      [meetOf(inv).user, meetOf(inv).address, meetOf(inv).becomePassword],
      ['old', '192.0.2.2', 'new-pw'],
    );
    const j = bridgesOf(inv)[0]!;
    assert.deepEqual([j.port, j.becomeUser, j.becomePassword, j.privateKeyPath], [2201, 'su', 'oldest-pw', '/k/new']);
  });

  test('YAML 1.1 scalars as PyYAML reads them, and merge order', () => {
    const inv = parseShardInventory(
      `
x: &a { v: a, only_a: 1 }
y: &b { v: b }
all:
  children:
    meet: { hosts: { m: { ansible_host: 192.0.2.1, b: yes, s: y, o: 0644, u: 1_000, t: 1:30, e: 1e3, d: 2001-12-14 } } }
    jvb: { hosts: { j: { <<: [*a, *b], ansible_host: 192.0.2.2 } } }
`,
      F,
    );
    const w = meetOf(inv).written;
    assert.deepEqual([w.b, w.s, w.o, w.u, w.t, w.e, w.d], [true, 'y', 420, 1000, 90, '1e3', '2001-12-14']);
    assert.deepEqual(
      [bridgesOf(inv)[0]!.written.v, bridgesOf(inv)[0]!.written.only_a],
      ['a', 1],
      'the earlier merge wins',
    );
    assert.ok(
      inv.notes.some((n) => /skipped the key "v" in group "x"/.test(n)),
      'keys a group does not hold are noted',
    );
  });

  test('groups of one depth: ansible_group_priority, then the name in code point order; ungrouped only for hosts in no group', () => {
    const inv = parseShardInventory(
      `
all:
  hosts: { loose: }
  children:
    ungrouped: { vars: { u: 1 }, hosts: { j: } }
    b: { vars: { who: b }, hosts: { j: } }
    a: { vars: { who: a, ansible_group_priority: 5 }, hosts: { j: } }
    Z: { vars: { who: Z }, hosts: { j: } }
    meet: { hosts: { m: { ansible_host: 192.0.2.1 } } }
    jvb: { hosts: { j: { ansible_host: 192.0.2.2 } } }
`,
      F,
    );
    const j = bridgesOf(inv)[0]!;
    assert.equal(j.vars.who, 'a', 'priority 5 comes after the others');
    assert.equal(j.vars.u, undefined, 'j is in other groups, so not in ungrouped');
    assert.equal(j.vars.ansible_group_priority, undefined, 'a priority is not a variable');
    assert.deepEqual(inv.tree.find((g) => g.name === 'ungrouped')!.hosts, ['loose']);
    assert.equal(inv.everyHost.find((h) => h.name === 'loose')!.role, '');
  });
});
