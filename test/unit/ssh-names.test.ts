import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseShardInventory } from '../support/shard-inventory.js';
import { bridgesOf } from '../../playbooks/jitsi-load-balancing/settings.js';
import { resolveTarget, type SshResolver } from '../../src/transport/ssh/endpoint.js';
import { parseSshArgs, readSshSettings, type ConfigMachine } from '../../src/transport/ssh/ssh-config.js';
import { expandShellTokens } from '../../src/transport/ssh/shell-tokens.js';
import { hostNameProblem, SshNameError, userNameProblem } from '../../src/transport/ssh/ssh-names.js';

const dir = mkdtempSync(join(tmpdir(), 'js-names-'));
const marker = join(dir, 'ran');

/** Names a shell would run something from, each trying to create the marker file. */
export const HOSTILE = [
  `a$(touch ${marker})`,
  `a\`touch ${marker}\``,
  `a;touch ${marker}`,
  `a\ntouch ${marker}`,
  `a'b`,
  `a"b`,
  `a|touch ${marker}`,
  `a&touch ${marker}`,
  `a>${marker}`,
  `-oProxyCommand=touch ${marker}`,
];

describe('host and user names, as OpenSSH checks them', () => {
  test('a host name with a shell character, a space, a control character, a comma or a leading "-" is refused', () => {
    for (const name of [...HOSTILE, 'a b', 'a\tb', 'a,b', 'a\\b', 'a{b}', 'a(b)', 'a<b', 'a\u007fb'])
      assert.ok(hostNameProblem(name), JSON.stringify(name));
    assert.match(hostNameProblem('-x')!, /starts with "-"/);
    assert.match(hostNameProblem(`a$(x)`)!, /holds "\$", which a shell reads/);
    assert.match(hostNameProblem('a\nb')!, /holds "\\n" \(a space or a control character\)/);
  });

  test('ordinary names pass, and so do the characters ssh lets through', () => {
    for (const name of [
      'jvb1',
      'jvb1.example.org',
      '10.0.0.1',
      '::1',
      'fe80::1%eth0',
      'a*b',
      'a~b',
      'a#b',
      'a!b',
      'a[1]',
      'a=b',
      'a:b',
      'a@b',
    ])
      assert.equal(hostNameProblem(name), null, name);
  });

  test('a user name: shell characters and a leading "-" are refused; "$", "\\" inside and spaces not before "-" are not', () => {
    for (const name of [
      `u$(x)`,
      'u`x`',
      'u;x',
      "u'x",
      'u"x',
      'u|x',
      'u&x',
      'u>x',
      'u(x',
      'u{x',
      '-u',
      'u -x',
      'u\\',
      'u\nx',
      'u\tx',
    ])
      assert.ok(userNameProblem(name), JSON.stringify(name));
    for (const name of ['deploy', 'u$x', 'u\\x', 'u x', 'u,x', 'DOMAIN\\user', 'first.last@example.org'])
      assert.equal(userNameProblem(name), null, name);
  });
});

/** What a POSIX shell makes of a command line: its words, one a line (the command is printf). */
function wordsOf(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${line}`], { cwd: dir, encoding: 'utf8' });
  return out.split('\n').slice(0, -1);
}

describe('ProxyCommand tokens are quoted for where the shell reads them', () => {
  const values = (h: string) => ({ h, p: '22', r: 'deploy', n: 'jvb1', k: 'jvb1' });

  test('outside quotes, inside single and inside double quotes: a hostile value is one literal word, and nothing runs', () => {
    const templates: [string, (h: string) => string[]][] = [
      ['%h %p', (h) => [h, '22']],
      ['-W %h:%p', (h) => ['-W', `${h}:22`]],
      ["'%h' %p", (h) => [h, '22']],
      ["-W '%h:%p' bastion", (h) => ['-W', `${h}:22`, 'bastion']],
      ['"%h" "%r@%h"', (h) => [h, `deploy@${h}`]],
      ['x%hy', (h) => [`x${h}y`]],
      ["'it''s %h'", (h) => [`its ${h}`]],
    ];
    const hostile = HOSTILE.filter((h) => !h.includes('\n')).concat([`$HOME`, `*`, `~root`, '#c', `'"'"'`, 'a\\']);
    for (const [template, expected] of templates)
      for (const h of hostile) {
        const line = expandShellTokens(template, values(h), 'the ProxyCommand for jvb1');
        assert.deepEqual(wordsOf(line), expected(h), `${template} with ${h}: ${line}`);
      }
    assert.equal(existsSync(marker), false, 'no substituted value was run');
  });

  test('an ordinary value goes in as it is: the line is the one ssh would run', () => {
    assert.equal(
      expandShellTokens('ssh -W %h:%p -l %r %n # %k', values('10.0.0.5'), 'x'),
      'ssh -W 10.0.0.5:22 -l deploy jvb1 # jvb1',
    );
    assert.equal(expandShellTokens('echo 100%% %%h', values('a'), 'x'), 'echo 100% %h');
  });

  test('where the quoting cannot be followed, a value that needs quoting is refused, naming the token', () => {
    for (const template of [
      'sh -c "$(echo %h)"',
      'echo `echo %h`',
      "echo $'%h'",
      'echo \\%h',
      'echo $%h',
      'echo "${x:-%h}"',
      'cat <<EOF %h',
    ])
      assert.throws(
        () => expandShellTokens(template, values(`a$(touch ${marker})`), 'the ProxyCommand for jvb1'),
        (e: Error) => /^the ProxyCommand for jvb1: %h stands where its quoting cannot be followed/.test(e.message),
        template,
      );
    assert.equal(expandShellTokens('sh -c "$(echo %h)"', values('jvb1.lan'), 'x'), 'sh -c "$(echo jvb1.lan)"');
    assert.throws(() => expandShellTokens('nc %h %x', values('a'), 'the ProxyCommand for jvb1'), /unknown token %x/);
    assert.throws(() => expandShellTokens('nc %h', values('a\nb'), 'the ProxyCommand for jvb1'), /control character/);
  });
});

describe('the inventory host is refused by name before ssh is asked anything', () => {
  const asked: string[] = [];
  const m: ConfigMachine = {
    home: '/home/me',
    localUser: 'me',
    localHost: 'ops',
    uid: 1000,
    env: {},
    read: (p) => (p === '/home/me/.ssh/config' ? 'Host jump\n  HostName 10.0.0.9\n' : null),
    list: () => [],
    exec: (cmd) => (asked.push(`exec ${cmd}`), false),
  };
  const resolver: SshResolver = {
    source: 'built-in reader',
    machine: m,
    settings: async (words, alias) => (asked.push(alias), readSshSettings(alias, parseSshArgs(words), m)),
  };
  const bridge = (vars: string) =>
    bridgesOf(
      parseShardInventory(
        [
          'all:',
          '  children:',
          '    meet: { hosts: { meet: { ansible_host: 10.0.0.1 } } }',
          `    jvb: { hosts: { jvb1: { ${vars} } } }`,
          '',
        ].join('\n'),
        '/inv/inventory.yaml',
      ),
    )[0]!;

  test('a hostile ansible_host, ansible_user, -l in ansible_ssh_common_args or ProxyJump hop: one sentence naming jvb1', async () => {
    const cases: [string, RegExp][] = [
      [
        // The inventory refuses spaces and slashes in an address itself; what is left is ssh's to refuse.
        `ansible_host: 'a$(id)'`,
        /^ansible_host "a\$\(id\)" of jvb1 is not a host name ssh accepts: it holds "\$"/,
      ],
      [
        `ansible_host: '-oProxyCommand=x'`,
        /^ansible_host "-oProxyCommand=x" of jvb1 is not a host name ssh accepts: it starts with "-"/,
      ],
      [
        `ansible_host: 10.0.0.2, ansible_user: 'u;touch ${marker}'`,
        /^ansible_user "u;touch .*" of jvb1 is not a user name ssh accepts: it holds ";"/,
      ],
      [
        `ansible_host: 10.0.0.2, ansible_ssh_common_args: "-l '-x'"`,
        /^the user in ansible_ssh_\*_args "-x" of jvb1 is not a user name ssh accepts/,
      ],
      [
        `ansible_host: 10.0.0.2, ansible_ssh_common_args: "-J 'ops@a` + '`id`' + `'"`,
        /^the ProxyJump hop "a`id`" of jvb1 is not a host name ssh accepts: it holds "`"/,
      ],
      [
        `ansible_host: 10.0.0.2, ansible_ssh_common_args: "-J 'o|p@jump'"`,
        /^the user of the ProxyJump hop jump "o\|p" of jvb1 is not a user name ssh accepts/,
      ],
    ];
    for (const [vars, why] of cases) {
      asked.length = 0;
      await assert.rejects(
        resolveTarget(bridge(vars), resolver, { acceptNewHostKeys: false }),
        (e: Error) => e instanceof SshNameError && why.test(e.message),
        vars,
      );
      if (!vars.includes('-J')) assert.deepEqual(asked, [], `${vars}: nothing asked of ssh`);
    }
    assert.equal(existsSync(marker), false);
  });
});
