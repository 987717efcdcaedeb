/*
 * The bridge config files as the videobridge package writes them, one set per era, for the
 * stand-in package's postinst (the lab's meet host gets its own through that package too). They
 * are shell heredoc bodies: $host (the Jitsi domain), $secret and $uuid are filled in by the
 * postinst.
 */

const WEBSOCKETS_AND_PORT = `    http-servers {
        public {
            port = 9090
        }
    }
    websockets {
        enabled = true
        domain = "$host:443"
        tls = true
    }`;

/** jvb.conf: with the shard block (current era) or without it (legacy era, shard in properties). */
export function jvbConf(withShard: boolean): string {
  const shard = `
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.$host"
            USERNAME=jvb
            PASSWORD="$secret"
            MUC_JIDS="jvbbrewery@internal.auth.$host"
            MUC_NICKNAME=$uuid
        }
    }`;
  // The current era's postinst also writes the STUN mapping (jitsi-videobridge debian/postinst).
  const ice4j = withShard
    ? `ice4j {\n    harvest {\n        mapping {\n            aws {\n                enabled = false\n            }\n            stun {\n                addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]\n            }\n        }\n    }\n}\n`
    : '';
  return `videobridge {\n${WEBSOCKETS_AND_PORT}${withShard ? shard : ''}\n}\n${ice4j}`;
}

export const LEGACY_PROPERTIES = `org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true
org.jitsi.videobridge.ENABLE_STATISTICS=true
org.jitsi.videobridge.STATISTICS_TRANSPORT=muc
org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost
org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.$host
org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb
org.jitsi.videobridge.xmpp.user.shard.PASSWORD=$secret
org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.$host
org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=$uuid
`;

const SYS_PROPS =
  'JAVA_SYS_PROPS="-Dconfig.file=/etc/jitsi/videobridge/jvb.conf -Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi -Dnet.java.sip.communicator.SC_HOME_DIR_NAME=videobridge -Dnet.java.sip.communicator.SC_LOG_DIR_LOCATION=/var/log/jitsi"';

/** /etc/jitsi/videobridge/config: only JAVA_SYS_PROPS now; the JVB_* variables in the old layout. */
export function daemonConfig(legacy: boolean): string {
  if (!legacy)
    return `# adds java system props that are passed to jvb (default are for home and logging config file)\n${SYS_PROPS}\n`;
  return [
    '# Jitsi Videobridge settings',
    '',
    '# sets the XMPP domain (default: none)',
    'JVB_HOSTNAME=$host',
    '',
    '# sets the hostname of the XMPP server (default: domain if set, localhost otherwise)',
    'JVB_HOST=',
    '',
    '# sets the port of the XMPP server (default: 5275)',
    'JVB_PORT=5347',
    '',
    '# sets the shared secret used to authenticate to the XMPP server',
    'JVB_SECRET=$secret',
    '',
    '# extra options to pass to the JVB daemon',
    'JVB_OPTS="--apis=,"',
    '',
    '# adds java system props that are passed to jvb (default are for home and logging config file)',
    SYS_PROPS,
    '',
  ].join('\n');
}

/** Shell lines that write `path` from `body` when the file is missing (as the postinst does). */
export function writeIfMissing(path: string, body: string): string {
  return `if [ ! -f ${path} ]; then\n  cat > ${path} <<CONF\n${body}CONF\nfi\n`;
}

/** The era's bridge files, as shell that writes each one only when it is missing. */
export function bridgeFilesScript(era: 'current' | 'legacy'): string {
  const dir = '/etc/jitsi/videobridge';
  if (era === 'current')
    return writeIfMissing(`${dir}/jvb.conf`, jvbConf(true)) + writeIfMissing(`${dir}/config`, daemonConfig(false));
  return (
    writeIfMissing(`${dir}/sip-communicator.properties`, LEGACY_PROPERTIES) +
    writeIfMissing(`${dir}/jvb.conf`, jvbConf(false)) +
    writeIfMissing(`${dir}/config`, daemonConfig(true))
  );
}
