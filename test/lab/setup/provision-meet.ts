import { CLIENT_KEY, DEBIAN_REPO_DIR, DOMAIN, KNOWN_HOSTS, LAB_SECRET, REPO_DIR, type Era } from './lab-config.js';
import { inHost, run } from './run.js';

/*
 * Makes the lab's meet host look like a Jitsi Meet server of the chosen era: Debian's Prosody with a
 * Jitsi-style site config (auth.<domain> with internal_hashed accounts focus and jvb, the
 * internal MUC that holds the brewery, a self-signed auth.<domain> certificate that the system
 * trusts), jicofo.conf with the brewery JID, and its own bridge: the era's stand-in package,
 * preseeded with the shared secret, which writes jvb.conf (current era) or
 * sip-communicator.properties and the old-style config file (legacy era) and joins the brewery.
 */
const PROVISION = `
set -e
domain=$1 secret=$2 era=$3 c2s=$4
if [ "$c2s" = loopback ]; then
  # Prosody listening for clients on loopback only, as some hardened servers have it: the bind
  # step then has real work to do.
  sed -i '1i c2s_interfaces = { "127.0.0.1" }' /etc/prosody/prosody.cfg.lua
fi
mkdir -p /etc/prosody/conf.avail /etc/prosody/conf.d /etc/prosody/certs
cat > "/etc/prosody/conf.avail/$domain.cfg.lua" <<CONF
-- Jitsi Meet site config of the jitsi-scale lab (written by the lab, shaped like a real one).
plugin_paths = { }
muc_mapper_domain_base = "$domain";

VirtualHost "$domain"
    authentication = "anonymous"
    ssl = {
        key = "/etc/prosody/certs/auth.$domain.key";
        certificate = "/etc/prosody/certs/auth.$domain.crt";
    }
    c2s_require_encryption = false

Component "conference.$domain" "muc"
    restrict_room_creation = true

Component "internal.auth.$domain" "muc"
    modules_enabled = { "ping"; }
    admins = { "focus@auth.$domain", "jvb@auth.$domain" }
    muc_room_locking = false
    muc_room_default_public_jids = true

VirtualHost "auth.$domain"
    ssl = {
        key = "/etc/prosody/certs/auth.$domain.key";
        certificate = "/etc/prosody/certs/auth.$domain.crt";
    }
    authentication = "internal_hashed"
CONF
ln -sf "../conf.avail/$domain.cfg.lua" "/etc/prosody/conf.d/$domain.cfg.lua"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \\
  -subj "/CN=auth.$domain" -addext "subjectAltName=DNS:auth.$domain,DNS:$domain" \\
  -keyout "/etc/prosody/certs/auth.$domain.key" -out "/etc/prosody/certs/auth.$domain.crt" 2>/dev/null
chown root:prosody "/etc/prosody/certs/auth.$domain.key"
chmod 0640 "/etc/prosody/certs/auth.$domain.key"
# Debian 12's init script stops "lua5.2" while prosody runs on lua5.4, so without systemd a
# restart never stops the old server; the lab's meet host gets the name it really runs under.
lua=$(sed -n '1s/.*\\(lua5\\.[0-9]\\).*/\\1/p' /usr/bin/prosody)
sed -i "s/--name lua5[0-9.]*/--name \${lua:-lua5.4}/g" /etc/init.d/prosody
# Prosody and the meet host's own bridge are started later, through the host's sshd (startMeet);
# under systemd Prosody starts at boot too, as its package sets it up.
service prosody stop >/dev/null 2>&1 || true
if [ -d /run/systemd/system ]; then systemctl enable prosody.service >/dev/null 2>&1; fi
prosodyctl register jvb "auth.$domain" "$secret"
prosodyctl register focus "auth.$domain" "focus-$secret"

mkdir -p /etc/jitsi/jicofo /etc/jitsi/videobridge
cat > /etc/jitsi/jicofo/jicofo.conf <<CONF
jicofo {
  xmpp {
    client {
      client-proxy = "focus.$domain"
      xmpp-domain = "$domain"
      domain = "auth.$domain"
      username = "focus"
      password = "focus-$secret"
    }
    trusted-domains = [ "recorder.$domain" ]
  }
  bridge {
    brewery-jid = "JvbBrewery@internal.auth.$domain"
  }
}
CONF
# nginx from the lab's repository, as jitsi-meet-web-config depends on it; kept from starting here
# (startMeet starts it through the host's sshd, like the other daemons).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx >/dev/null
rm -f /usr/sbin/policy-rc.d /etc/nginx/sites-enabled/default
mkdir -p /etc/nginx/sites-available /etc/nginx/sites-enabled /etc/jitsi/meet
cp "/etc/prosody/certs/auth.$domain.crt" "/etc/jitsi/meet/$domain.crt"
cp "/etc/prosody/certs/auth.$domain.key" "/etc/jitsi/meet/$domain.key"
# The site in the shape of jitsi-meet's 2026 template (doc/debian/jitsi-meet/jitsi-meet.example after
# jitsi-meet PR #17431): the local bridge's upstream and colibri-ws location commented out.
cat > "/etc/nginx/sites-available/$domain.conf" <<CONF
server_names_hash_bucket_size 64;

upstream prosody {
    zone upstreams 64K;
    server 127.0.0.1:5280;
    keepalive 2;
}
# colibri websockets of the local bridge: uncomment when they are enabled on it
#upstream jvb1 {
#    zone upstreams 64K;
#    server 127.0.0.1:9090;
#    keepalive 2;
#}
server {
    listen 80;
    server_name $domain;
    location / {
        return 301 https://\\$host\\$request_uri;
    }
}
server {
    listen 443 ssl;
    server_name $domain;
    ssl_certificate /etc/jitsi/meet/$domain.crt;
    ssl_certificate_key /etc/jitsi/meet/$domain.key;
    root /usr/share/jitsi-meet;

    location = /xmpp-websocket {
        proxy_pass http://prosody/xmpp-websocket;
        proxy_http_version 1.1;
        proxy_set_header Upgrade \\$http_upgrade;
        proxy_set_header Connection "upgrade";
    }

    # colibri (JVB) websockets for jvb1: uncomment when they are enabled on the bridge
    #location ~ ^/colibri-ws/default-id/(.*) {
    #    proxy_pass http://jvb1/colibri-ws/default-id/\\$1\\$is_args\\$args;
    #    proxy_http_version 1.1;
    #    proxy_set_header Upgrade \\$http_upgrade;
    #    proxy_set_header Connection "upgrade";
    #    tcp_nodelay on;
    #}

    # Rooms under a tenant path (/<tenant>/<room>), as the template ends its server: a regex that
    # would take /colibri-ws/<id>/ too, were the routes after it
    location ~ ^/([^/?&:'"]+)/(.*)\\$ {
        rewrite ^/([^/?&:'"]+)/(.*)\\$ /\\$2;
    }
}
CONF
ln -sf "../sites-available/$domain.conf" "/etc/nginx/sites-enabled/$domain.conf"
nginx -t -q
# Jitsi's Prosody package puts the auth certificate in the system trust store, so the meet host's
# own bridge can verify it.
cp "/etc/prosody/certs/auth.$domain.crt" "/usr/local/share/ca-certificates/auth.$domain.crt"
update-ca-certificates >/dev/null 2>&1
# The meet host's own bridge is installed from the lab repository like any package (startMeet).
printf '%s\n' "jitsi-videobridge2 jitsi-videobridge/jvb-hostname string $domain" "jitsi-videobridge2 jitsi-videobridge/jvbsecret password $secret" | debconf-set-selections
chmod 0640 /etc/jitsi/jicofo/jicofo.conf
`;

const START = `
set -e
service prosody start >/dev/null
if [ -d /run/systemd/system ]; then systemctl start nginx; else nginx; fi
DEBIAN_FRONTEND=noninteractive dpkg -i "$1" >/dev/null
`;

/**
 * Writes the meet host's configs and accounts; startMeet then starts Prosody and installs the
 * meet host's own bridge. `c2sLoopback`: Prosody takes clients on loopback only until the tool
 * binds it everywhere.
 */
export async function provisionMeet(sshdPid: number, era: Era, c2sLoopback = false): Promise<void> {
  await inHost(sshdPid, PROVISION, [DOMAIN, LAB_SECRET, era, c2sLoopback ? 'loopback' : 'all']);
}

/**
 * Points a host's apt at the lab's own Debian repository, its one distribution source (Debian's
 * mirrors are out of a lab host's reach), with the package lists current, as on a maintained server.
 * The host must see the repository whole before apt is asked; apt is then tried again on failure
 * (a busy machine has made a refresh fail), up to a deadline, and a failure says what apt said.
 */
export async function preparePackageHost(
  sshdPid: number,
  deadlineMs = 120_000,
  repoDir = DEBIAN_REPO_DIR,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    const r = await inHost(sshdPid, PREPARE_APT, [repoDir], { allowFail: true });
    if (r.code === 0) return;
    last = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
    if (r.code === 3 || Date.now() + 2000 > until)
      throw new Error(
        `apt-get update from the lab's repository failed on a host after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${last}`,
      );
    await new Promise((res) => setTimeout(res, 2000));
  }
}

// Exit 3: the repository is not whole where the host sees it (a lab bug, not worth retrying).
const PREPARE_APT = `
for f in Release Packages; do [ -r "$1/$f" ] || { echo "the lab's repository has no readable $1/$f" >&2; exit 3; }; done
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
rm -rf /var/lib/apt/lists/*; mkdir -p /var/lib/apt/lists/partial
echo "deb [trusted=yes] file:$1 ./" > /etc/apt/sources.list.d/lab-debian.list
out=$(apt-get update -q -o Acquire::Retries=3 2>&1); rc=$?
# apt may say E: or W: and still exit 0 (a list it could not read): that is a failure here too
if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -qE '^(E|W): '; then printf '%s\n' "$out" | tail -n 5 >&2; exit 1; fi`;

/**
 * Starts Prosody, then installs (and so starts) the meet host's own bridge, through the host's own
 * sshd: the daemons then descend from the host's first process, which reaps them the moment they
 * exit, as init does on a server (see startHost). Started from outside, they would be this
 * machine's orphans.
 */
export async function startMeet(address: string, deb: string): Promise<void> {
  await overSsh(address, START, [deb], "starting Prosody and the bridge on the lab's meet host");
}

/*
 * The handbook's scalable layout: Prosody and Jicofo on the meet host, no bridge. The meet host
 * was installed from the Jitsi repository, so that repository is among its apt sources ($2), as
 * jitsi-meet's install guide has it; Jicofo's stand-in ($1) is installed and started.
 */
const START_WITHOUT_BRIDGE = `
set -e
service prosody start >/dev/null
echo "deb [trusted=yes] file:$2 ./" > /etc/apt/sources.list.d/jitsi-stable.list
apt-get update -q >/dev/null 2>&1
DEBIAN_FRONTEND=noninteractive dpkg -i "$1" >/dev/null
`;

/** Starts Prosody and Jicofo's stand-in on a meet host that has no bridge of its own (see startMeet). */
export async function startMeetWithoutBridge(address: string, jicofoDeb: string): Promise<void> {
  await overSsh(
    address,
    START_WITHOUT_BRIDGE,
    [jicofoDeb, REPO_DIR],
    "starting Prosody and Jicofo on the lab's meet host without a bridge",
  );
}

/**
 * Runs a script on a lab host through its own sshd (its daemons are then that host's children);
 * a failure is one line naming `what`.
 */
export async function overSsh(address: string, script: string, args: string[], what: string): Promise<void> {
  const r = await sshTo(address, ['sh', '-s', '--', ...args], script);
  if (r.code !== 0) throw new Error(`${what} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
}

/** A command run as root on a lab host through its own sshd, with the lab's key; its answer, failed or not. */
export function sshTo(address: string, command: string[], input?: string) {
  return run(
    'ssh',
    ['-i', CLIENT_KEY, '-o', `UserKnownHostsFile=${KNOWN_HOSTS}`, '-o', 'BatchMode=yes', `root@${address}`, ...command],
    { ...(input !== undefined ? { input } : {}), allowFail: true },
  );
}
