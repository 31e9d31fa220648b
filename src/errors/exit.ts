/** Process exit codes: a contract with scripts and CI. */
export const EXIT = {
  ok: 0,
  error: 1,
  unpatchable: 2,
  noChange: 3,
  usage: 64,
  interrupted: 130,
} as const;
