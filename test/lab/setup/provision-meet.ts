import { DOMAIN, LAB_SECRET, type Era } from './lab-config.js';
import { inHost } from './run.js';

/*
 * Makes the lab's meet host look like a Jitsi Meet server of the chosen era: Debian's Prosody with
 * a Jitsi-style site config (auth.<domain> with internal_hashed accounts focus and jvb, the
 * internal MUC that holds the brewery, a self-signed auth.<domain> certificate), jicofo.conf with
 * the brewery JID, and the host's own bridge config holding the shared secret (jvb.conf for the
 * current era; sip-communicator.properties and the old-style config file for the legacy era).
 */
const PROVISION = `
set -e
domain=$1 secret=$2 era=$3
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
service prosody stop >/dev/null 2>&1 || true
service prosody start >/dev/null
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
if [ "$era" = current ]; then
  cat > /etc/jitsi/videobridge/jvb.conf <<CONF
videobridge {
    http-servers {
        public {
            port = 9090
        }
    }
    websockets {
        enabled = true
        domain = "$domain:443"
        tls = true
    }
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.$domain"
            USERNAME=jvb
            PASSWORD="$secret"
            MUC_JIDS="JvbBrewery@internal.auth.$domain"
            MUC_NICKNAME=$(cat /proc/sys/kernel/random/uuid)
        }
    }
}
CONF
  cat > /etc/jitsi/videobridge/config <<'CONF'
# adds java system props that are passed to jvb (default are for home and logging config file)
JAVA_SYS_PROPS="-Dconfig.file=/etc/jitsi/videobridge/jvb.conf -Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi -Dnet.java.sip.communicator.SC_HOME_DIR_NAME=videobridge -Dnet.java.sip.communicator.SC_LOG_DIR_LOCATION=/var/log/jitsi"
CONF
else
  cat > /etc/jitsi/videobridge/sip-communicator.properties <<CONF
org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.STATISTICS_TRANSPORT=muc
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.$domain
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=$secret
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.$domain
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=$(cat /proc/sys/kernel/random/uuid)
CONF
  cat > /etc/jitsi/videobridge/config <<CONF
# Jitsi Videobridge settings
JVB_HOSTNAME=$domain
JVB_HOST=
JVB_PORT=5347
JVB_SECRET=$secret
JVB_OPTS="--apis=,"
JAVA_SYS_PROPS="-Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi -Dnet.java.sip.communicator.SC_HOME_DIR_NAME=videobridge -Dnet.java.sip.communicator.SC_LOG_DIR_LOCATION=/var/log/jitsi"
CONF
fi
chmod 0640 /etc/jitsi/videobridge/* /etc/jitsi/jicofo/jicofo.conf
`;

export async function provisionMeet(sshdPid: number, era: Era): Promise<void> {
  await inHost(sshdPid, PROVISION, [DOMAIN, LAB_SECRET, era]);
}

/** Lets a bridge host install from the lab's apt repository without any network. */
export async function preparePackageHost(sshdPid: number): Promise<void> {
  // Debian's own sources point at mirrors a lab host cannot reach; apt-get update must not fail
  // on them, so each host keeps only the sources the tool adds.
  await inHost(sshdPid, 'rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; rm -rf /var/lib/apt/lists/*; mkdir -p /var/lib/apt/lists/partial');
}
