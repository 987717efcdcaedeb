import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ROUTES_BEGIN,
  chosenLocation,
  colibriLocations,
  editSiteRoutes,
  locationMatches,
  nginxLocations,
  serverLocations,
  preferSctpOf,
  regexEscape,
  routeBlock,
  withoutComments,
} from '../../playbooks/jitsi-load-balancing/colibri-routes.js';
import { serverNames, shadowNotes } from '../../playbooks/jitsi-load-balancing/steps/colibri-routes.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

const SITE_2026 = fixture('nginx/meet-site-2026.conf');
const ROUTES = [
  { serverId: 'jvb1', address: '10.0.0.11', port: 9090 },
  { serverId: 'jvb.2', address: 'fd00::12', port: 9443 },
];
const edited = (t: string, routes = ROUTES) => {
  const r = editSiteRoutes(t, routes, 'meet.example.org');
  if ('problem' in r) throw new Error(r.problem);
  return r.text;
};

describe('nginx read as nginx reads it', () => {
  test('a # outside quotes ends the line; inside quotes it is text; offsets and lines are kept', () => {
    const t = 'a "x # y"; # gone\nb \'#\'; #c\n';
    const clean = withoutComments(t);
    assert.equal(clean.length, t.length);
    assert.equal(clean.split('\n').length, t.split('\n').length);
    assert.match(clean, /"x # y";/);
    assert.doesNotMatch(clean, /gone|#c/);
  });

  test("the 2026 template's commented-out colibri-ws block is no route; a live one is, with its proxy_pass", () => {
    assert.deepEqual(colibriLocations(SITE_2026), []);
    assert.deepEqual(serverNames(SITE_2026), ['meet.example.org', 'meet.example.org']);
    const live = SITE_2026.replace(
      '#location ~ ^/colibri-ws/default-id/(.*) {',
      'location ~ ^/colibri-ws/default-id/(.*) {',
    )
      .replace('#    proxy_pass http://jvb1/', '    proxy_pass http://jvb1/')
      .replace(/#\}\n\n {4}location ~ \^\/\(/, '}\n\n    location ~ ^/(');
    const [loc] = colibriLocations(live);
    assert.equal(loc?.pattern, '^/colibri-ws/default-id/(.*)');
    assert.equal(loc?.proxyPass, 'http://jvb1/colibri-ws/default-id/$1$is_args$args');
    assert.equal(loc?.line, live.split('\n').findIndex((l) => l.includes('location ~ ^/colibri-ws/default-id')) + 1);
    assert.equal(locationMatches(loc, 'default-id'), true);
    assert.equal(locationMatches(loc, 'jvb1'), false);
  });
});

describe("the managed routes in the meet host's site", () => {
  test('inserted in the TLS server for the domain, one location per bridge, with the upgrade headers', () => {
    const out = edited(SITE_2026);
    const tlsServer = out.slice(out.indexOf('listen 443'));
    assert.ok(tlsServer.includes(ROUTES_BEGIN), 'the block is in the 443 server');
    assert.ok(!out.slice(0, out.indexOf('listen 443')).includes(ROUTES_BEGIN));
    const locs = colibriLocations(out);
    assert.deepEqual(
      locs.map((l) => [l.pattern, l.proxyPass]),
      [
        ['^/colibri-ws/jvb1/(.*)', 'http://10.0.0.11:9090/colibri-ws/jvb1/$1$is_args$args'],
        ['^/colibri-ws/jvb\\.2/(.*)', 'http://[fd00::12]:9443/colibri-ws/jvb.2/$1$is_args$args'],
      ],
    );
    assert.match(out, /proxy_set_header Upgrade \$http_upgrade;\n {8}proxy_set_header Connection "upgrade";/);
    // The escaped dot matches its own id only.
    assert.equal(locationMatches(locs[1]!, 'jvb.2'), true);
    assert.equal(locationMatches(locs[1]!, 'jvbx2'), false);
    // The rest of the file is as it was.
    assert.equal(out.replace(/\n\n {4}# BEGIN[\s\S]*?# END jitsi-scale colibri-ws routes\n/, '\n'), SITE_2026);
  });

  test('idempotent; rewritten in place when the bridges change; removed when none is left', () => {
    const once = assertIdempotent((t) => edited(t), SITE_2026);
    const fewer = edited(once, ROUTES.slice(0, 1));
    assert.equal(colibriLocations(fewer).length, 1);
    assert.equal(fewer.indexOf(ROUTES_BEGIN), once.indexOf(ROUTES_BEGIN));
    const none = edited(fewer, []);
    assert.ok(!none.includes(ROUTES_BEGIN));
    assert.equal(edited(none, []), none);
    assert.equal(edited(SITE_2026, []), SITE_2026);
  });

  test('odd inputs: no TLS server, a broken block, a closing brace after code on its line', () => {
    const plain = 'server {\n    listen 80;\n    server_name meet.example.org;\n}\n';
    assert.deepEqual(editSiteRoutes(plain, ROUTES, 'meet.example.org'), {
      problem: 'no server block in it listens on 443 for meet.example.org',
    });
    const broken = editSiteRoutes(`server { listen 443 ssl;\n    ${ROUTES_BEGIN}\n}\n`, ROUTES, 'meet.example.org');
    assert.match((broken as { problem: string }).problem, /without its end line/);
    const tight = 'server { listen 443 ssl; server_name meet.example.org; }\n';
    const out = edited(tight);
    assert.equal(colibriLocations(out).length, 2);
    assert.equal(edited(out), out);
    // A brace inside a comment or quotes does not close the server.
    const tricky = 'server {\n    listen 443 ssl; # }\n    add_header X "}";\n    server_name meet.example.org;\n}\n';
    const t2 = edited(tricky);
    assert.ok(t2.indexOf(ROUTES_BEGIN) > t2.indexOf('server_name'));
  });

  test('regex characters of a server-id are escaped for nginx; the block proxies to the literal id', () => {
    assert.equal(regexEscape('a.b-c_d'), 'a\\.b-c_d');
    assert.equal(regexEscape('x+(y)'), 'x\\+\\(y\\)');
    const block = routeBlock([{ serverId: 'a.b', address: '10.0.0.5', port: 9090 }]);
    assert.match(block, /location ~ \^\/colibri-ws\/a\\\.b\/\(\.\*\) \{/);
    assert.match(block, /proxy_pass http:\/\/10\.0\.0\.5:9090\/colibri-ws\/a\.b\/\$1\$is_args\$args;/);
  });
});

describe("config.js's preferSctp", () => {
  test('the last active setting; comments and strings are not settings', () => {
    assert.equal(preferSctpOf('var config = {\n  // bridgeChannel: { preferSctp: false },\n};'), undefined);
    assert.equal(preferSctpOf('var config = { bridgeChannel: { preferSctp: false } };'), false);
    assert.equal(preferSctpOf('config.bridgeChannel = {\n    preferSctp: true\n};'), true);
    assert.equal(
      preferSctpOf('/* preferSctp: false */ var c = { s: "// preferSctp: true", bridgeChannel: {} };'),
      undefined,
    );
    assert.equal(preferSctpOf("bridgeChannel: { 'preferSctp': false }, x: 'http://a'"), false);
    assert.equal(preferSctpOf('bridgeChannel: { preferSctp: false },\nbridgeChannel: { preferSctp: true }'), true);
  });
});

describe("nginx's own choice of location", () => {
  const chosen = (text: string, id: string) => {
    const c = chosenLocation(serverLocations(text, text.indexOf(ROUTES_BEGIN)), id);
    return c?.text ?? null;
  };

  test("the template's catch-all regex comes last in its server: the routes go before it, and nginx picks them", () => {
    const out = edited(SITE_2026);
    assert.ok(out.indexOf(ROUTES_BEGIN) < out.indexOf(`location ~ ^/([^/?&:'"]+)/(.*)$`), out);
    assert.equal(chosen(out, 'jvb1'), 'location ~ ^/colibri-ws/jvb1/(.*) {');
    assert.equal(chosen(out, 'jvb.2'), 'location ~ ^/colibri-ws/jvb\\.2/(.*) {');
    assert.deepEqual(shadowNotes(out, ROUTES, '/etc/nginx/sites-available/meet.conf'), []);
    assertIdempotent((t) => edited(t), SITE_2026);
  });

  test('a block an earlier run left after a catch-all regex is named: nginx gives the path to the catch-all', () => {
    const catchAll = `    location ~ ^/([^/?&:'"]+)/(.*)$ {\n        rewrite ^/([^/?&:'"]+)/(.*)$ /$2;\n    }\n`;
    const site = `server {\n    listen 443 ssl;\n    server_name meet.example.org;\n${catchAll}\n${routeBlock(ROUTES)}}\n`;
    assert.equal(chosen(site, 'jvb1'), `location ~ ^/([^/?&:'"]+)/(.*)$ {`);
    const notes = shadowNotes(site, ROUTES, 'site.conf');
    assert.equal(notes.length, 2);
    assert.match(
      notes[0]!,
      /^warning: site\.conf line 4 \(location ~ \^\/\(\[\^\/\?&:'"\]\+\)\/\(\.\*\)\$ \{\) is the location nginx picks for \/colibri-ws\/jvb1\//,
    );
  });

  test('a ^~ prefix over /colibri-ws/ wins over every regex, ours included: named; a plain prefix does not', () => {
    const withPrefix = (mod: string) =>
      edited(
        `server {\n    listen 443 ssl;\n    server_name meet.example.org;\n    location ${mod}/colibri-ws/ {\n        return 404;\n    }\n}\n`,
      );
    const strong = withPrefix('^~ ');
    assert.equal(chosen(strong, 'jvb1'), 'location ^~ /colibri-ws/ {');
    assert.equal(shadowNotes(strong, ROUTES, 's').length, 2);
    const weak = withPrefix('');
    assert.equal(chosen(weak, 'jvb1'), 'location ~ ^/colibri-ws/jvb1/(.*) {');
    assert.deepEqual(shadowNotes(weak, ROUTES, 's'), []);
  });

  test('an exact match wins; ~* matches without regard to case; locations of another server do not count', () => {
    const t =
      `server {\n    listen 80;\n    location ~* ^/COLIBRI-WS/ {\n        return 301 https://$host$request_uri;\n    }\n}\n` +
      `server {\n    listen 443 ssl;\n    server_name meet.example.org;\n    location = /colibri-ws/jvb1/conference/endpoint {\n        return 403;\n    }\n}\n`;
    const out = edited(t);
    const port80 = nginxLocations(out)[0]!;
    assert.ok(locationMatches(port80, 'jvb1'), '~* is case-insensitive');
    assert.equal(chosen(out, 'jvb1'), 'location = /colibri-ws/jvb1/conference/endpoint {');
    assert.equal(chosen(out, 'jvb.2'), 'location ~ ^/colibri-ws/jvb\\.2/(.*) {', 'the port-80 server is not looked at');
  });
});
