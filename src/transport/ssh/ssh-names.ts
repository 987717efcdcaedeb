import { SshConfigError } from './ssh-config.js';

/*
 * Host and user names as OpenSSH's client accepts them from its command line (readconf.c,
 * ssh_valid_hostname and ssh_valid_ruser, OpenSSH 10.x): they end up in %h and %r of a
 * ProxyCommand, a Match exec or a LocalCommand, which a shell reads. The inventory gives ssh both
 * on its command line (the host, and -o User=), so the same names are refused here, by name of
 * the inventory host, before anything is resolved or run.
 */

/** Characters ssh refuses anywhere in a host name (OpenSSH 10.0 added the comma). */
const HOST_FORBIDDEN = `'\`"$\\;&<>|(){},`;
/** Characters ssh refuses anywhere in a user name. */
const USER_FORBIDDEN = `'\`";&<>|(){}`;

const isControl = (c: string) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

/** Does the text hold a control character (a newline, a tab, NUL …)? */
export const hasControl = (s: string): boolean => [...s].some(isControl);
/** C's isspace in the C locale. */
const isSpace = (c: string) => ' \t\n\v\f\r'.includes(c);

const shown = (c: string) => (isControl(c) ? JSON.stringify(c).slice(1, -1) : c);

/** Pure: why ssh would refuse this host name, or null when it accepts it. */
export function hostNameProblem(s: string): string | null {
  if (s.startsWith('-')) return 'it starts with "-", which ssh would read as an option';
  for (const c of s) {
    if (HOST_FORBIDDEN.includes(c)) return `it holds "${c}", which a shell reads`;
    if (isSpace(c) || isControl(c)) return `it holds "${shown(c)}" (a space or a control character)`;
  }
  return null;
}

/** Pure: why ssh would refuse this user name given on its command line, or null when it accepts it. */
export function userNameProblem(s: string): string | null {
  if (s.startsWith('-')) return 'it starts with "-", which ssh would read as an option';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (isControl(c)) return `it holds "${shown(c)}" (a control character)`;
    if (USER_FORBIDDEN.includes(c)) return `it holds "${c}", which a shell reads`;
    if (isSpace(c) && s[i + 1] === '-') return 'a "-" follows a space in it, which ssh would read as an option';
    if (c === '\\' && i === s.length - 1) return 'it ends in "\\"';
  }
  return null;
}

/** A name ssh would refuse; the message names the inventory host and where the name came from. */
export class SshNameError extends SshConfigError {
  override name = 'SshNameError';
}

/** Throws SshNameError when ssh would refuse the host name `value` given as `what` for inventory host `host`. */
export function checkHostName(host: string, what: string, value: string): void {
  const why = hostNameProblem(value);
  if (why) throw new SshNameError(`${what} ${JSON.stringify(value)} of ${host} is not a host name ssh accepts: ${why}`);
}

/** Throws SshNameError when ssh would refuse the user name `value` given as `what` for inventory host `host`. */
export function checkUserName(host: string, what: string, value: string): void {
  const why = userNameProblem(value);
  if (why) throw new SshNameError(`${what} ${JSON.stringify(value)} of ${host} is not a user name ssh accepts: ${why}`);
}
