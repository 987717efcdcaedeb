import type { Step, StepContext } from '../../../src/engine/playbook.js';
import type { Handler } from '../../../src/contract/handler.js';
import { fileChange } from '../../../src/modules/file/edit-file.js';
import { HostError, execChecked } from '../../../src/transport/host.js';
import { shScript } from '../../../src/transport/shell-quote.js';
import { DEFAULT_WS_PORT, publicPortOf } from '../bridge-channel.js';
import {
  LIST_NGINX_SITES,
  ROUTES_BEGIN,
  ROUTES_END,
  chosenLocation,
  editSiteRoutes,
  serverLocations,
  withoutComments,
  type ColibriRoute,
} from '../colibri-routes.js';
import type { ShardFacts } from '../discover.js';
import { bridgesOf, privateAddress } from '../settings.js';

/**
 * Checks the candidate site as nginx will read it, before it replaces the live one: in a mount
 * namespace of its own the candidate is bound over the live path, and `nginx -t` reads the whole
 * configuration with it. Nothing outside that namespace sees the candidate.
 */
export function nginxValidator(livePath: string): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" "$2" && nginx -t -q',
    'validate',
    '%s',
    livePath,
  ];
}

/** The routes the meet host's nginx is to have: one per bridge whose channel is websocket. */
export function wantedRoutes(ctx: StepContext<ShardFacts>): ColibriRoute[] {
  return bridgesOf(ctx.inventory).flatMap((b) => {
    const want = ctx.shared.channels[b.name];
    if (want?.channel !== 'websocket') return [];
    const port = publicPortOf(ctx.shared.bridges[b.name]?.files.jvb ?? null) ?? DEFAULT_WS_PORT;
    const address = privateAddress(b, ctx.hosts.get(b.name));
    // It goes into nginx's config as it is: only what an address or a host name may hold.
    if (!/^[0-9A-Za-z.:-]+$/.test(address))
      throw new HostError(
        ctx.spec.name,
        `colibri-routes: ${b.name}'s address "${address}" cannot go into an nginx proxy_pass; set private_address for ${b.name} in the inventory`,
      );
    return [{ serverId: want.serverId, address, port }];
  });
}

/** Every name the site's active `server_name` lines give. */
export function serverNames(text: string): string[] {
  return [...withoutComments(text).matchAll(/\bserver_name\s+([^;]*);/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
}

/** The enabled site that serves the domain (active lines only), with its text; null when there is none. */
async function findSite(ctx: StepContext<ShardFacts>): Promise<{ path: string; text: string } | null> {
  const listed = await ctx.host.exec(shScript(LIST_NGINX_SITES), { readOnly: true });
  const paths = [...new Set(listed.stdout.split('\n').filter(Boolean))];
  if (!paths.length) return null;
  const texts = await ctx.host.readFiles(paths);
  for (const p of paths) {
    const t = texts.get(p);
    if (t && (serverNames(t).includes(ctx.shared.domain) || t.includes(ROUTES_BEGIN))) return { path: p, text: t };
  }
  return null;
}

/** A warning per bridge whose websocket path nginx gives to another location than its route (a catch-all regex before it, a `^~` prefix). */
export function shadowNotes(text: string, routes: readonly ColibriRoute[], path: string): string[] {
  const begin = text.indexOf(ROUTES_BEGIN);
  if (begin < 0) return [];
  const end = text.indexOf(ROUTES_END, begin);
  // The locations of the server the block is in (the file may hold the port-80 server too).
  const locs = serverLocations(text, begin);
  return routes.flatMap((r) => {
    const chosen = chosenLocation(locs, r.serverId);
    if (!chosen || (chosen.offset > begin && chosen.offset < end)) return [];
    return [
      `warning: ${path} line ${chosen.line} (${chosen.text}) is the location nginx picks for /colibri-ws/${r.serverId}/, not the route to that bridge: remove it, or make it leave /colibri-ws/ alone`,
    ];
  });
}

export const colibriRoutes: Step<ShardFacts> = {
  id: 'colibri-routes',
  title: "Route each bridge's colibri websockets in the meet host's nginx",
  why:
    'A bridge on jitsi_bridge_channel: websocket advertises wss://<domain>/colibri-ws/<its server-id>/, which reaches the meet host. ' +
    "Its nginx sends that path to that bridge's public HTTP port on its private address, one location per bridge; nginx -t checks the site before it replaces the live one.",
  roles: ['meet'],
  async plan(ctx) {
    const routes = wantedRoutes(ctx);
    const site = await findSite(ctx);
    if (!site) {
      if (!routes.length)
        return { changes: [], skip: 'no bridge uses colibri websockets (jitsi_bridge_channel: sctp)' };
      throw new HostError(
        ctx.spec.name,
        `colibri-routes on ${ctx.spec.name}: no enabled nginx site (sites-enabled/, conf.d/) serves ${ctx.shared.domain}, so the websocket bridges cannot be routed; install Jitsi Meet's nginx site, or set jitsi_bridge_channel: sctp`,
      );
    }
    const edited = editSiteRoutes(site.text, routes, ctx.shared.domain);
    if ('problem' in edited) throw new HostError(ctx.spec.name, `colibri-routes: ${site.path}: ${edited.problem}`);
    const notes = [
      ...routes.map(
        (r) =>
          `/colibri-ws/${r.serverId}/ → ${r.address}:${r.port} (the bridge's public HTTP port; keep TCP ${r.port} on it open to this host)`,
      ),
      ...shadowNotes(edited.text, routes, site.path),
    ];
    const change = fileChange(
      {
        path: site.path,
        description: routes.length
          ? `route /colibri-ws/<server-id>/ to each websocket bridge in ${site.path}`
          : `remove jitsi-scale's colibri-ws routes from ${site.path} (no bridge uses websockets now)`,
        transform: () => edited.text,
        notify: ['reload nginx'],
        write: { validate: nginxValidator(site.path) },
      },
      site.text,
    );
    return { changes: change ? [change] : [], notes };
  },
};

const RELOAD = `
nginx -t -q || exit 1
if [ -d /run/systemd/system ]; then exec systemctl reload nginx; fi
exec service nginx reload`;

/** nginx reloads its config (checked once more first): running connections are kept. */
export const reloadNginx: Handler = {
  description: 'reload nginx',
  async run(host, io) {
    await execChecked(host, shScript(RELOAD), 'reloading nginx', {
      deadline: 'service',
      what: 'reloading nginx',
      onLine: (stream, line) => io.output(stream, line),
    });
  },
};
