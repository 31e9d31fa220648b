/** Process exit codes: a contract with scripts and CI. */
export const EXIT = {
  ok: 0,
  error: 1,
  unpatchable: 2,
  noChange: 3,
  usage: 64,
  /** A live patch transition ran out of time and was reversed: the kernel is as it was (EX_TEMPFAIL). */
  unchanged: 75,
  /** The guest kernel crashed, oopsed or warned (VM harness). */
  kernelTrouble: 90,
  /** A VM boot or command ran out of time (as coreutils `timeout`). */
  timeout: 124,
  interrupted: 130,
} as const;
