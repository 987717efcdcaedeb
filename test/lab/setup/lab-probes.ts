import { DOMAIN, type LabState } from './lab-config.js';
import { inHost } from './run.js';

/** Who is in the brewery, asked from Prosody on the meet host (independently of the tool). */
export async function breweryMembers(lab: LabState): Promise<string[]> {
  const meet = lab.hosts.find((h) => h.role === 'meet')!;
  const lua = `>local r = prosody.hosts["internal.auth.${DOMAIN}"].modules.muc.get_room_from_jid("jvbbrewery@internal.auth.${DOMAIN}"); if not r then return "none" end; local t = {}; for nick in r:each_occupant() do t[#t+1] = nick end; return "members:" .. table.concat(t, ",")`;
  const out = (await inHost(meet.sshdPid, 'prosodyctl shell "$1"', [lua])).stdout;
  return (/members:(.*)/.exec(out)?.[1] ?? '').split(',').filter(Boolean);
}
