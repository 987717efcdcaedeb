import { randomUUID } from 'node:crypto';

export interface NicknameInput {
  bridge: string;
  /** jitsi_nickname from the inventory. */
  wanted?: string;
  /** MUC_NICKNAME the bridge's config holds today. */
  existing?: string;
}

export type NicknameResult =
  { ok: true; nicknames: Map<string, string> } | { ok: false; host: string; message: string };

/**
 * Pure: one nickname per bridge, unique across the shard (the meet host's own bridge included).
 * A nickname the inventory names wins; otherwise a bridge keeps the one it has, unless another
 * bridge already claimed it (cloned machines share one) — then it gets a fresh id, written once.
 */
export function assignNicknames(
  bridges: NicknameInput[],
  taken: readonly string[],
  newId: () => string = randomUUID,
): NicknameResult {
  const used = new Map<string, string>(taken.map((n) => [n.toLowerCase(), "the meet host's own bridge"]));
  const out = new Map<string, string>();
  for (const b of bridges) {
    if (!b.wanted) continue;
    const owner = used.get(b.wanted.toLowerCase());
    if (owner)
      return {
        ok: false,
        host: b.bridge,
        message: `${b.bridge}: jitsi_nickname "${b.wanted}" is already used by ${owner}; two bridges with one nickname look like one bridge to Jicofo`,
      };
    used.set(b.wanted.toLowerCase(), b.bridge);
    out.set(b.bridge, b.wanted);
  }
  for (const b of bridges) {
    if (b.wanted) continue;
    let nick = b.existing && !used.has(b.existing.toLowerCase()) ? b.existing : undefined;
    while (!nick || used.has(nick.toLowerCase())) nick = newId();
    used.set(nick.toLowerCase(), b.bridge);
    out.set(b.bridge, nick);
  }
  return { ok: true, nicknames: out };
}
