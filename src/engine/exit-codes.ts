/** The CLI's exit codes; the README documents them. */
export const EXIT = {
  ok: 0,
  usage: 1,
  hostFailed: 2,
  unreachable: 3,
  interrupted: 130,
} as const;
