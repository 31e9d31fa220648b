// Error codes of `verify` (the independent check of a finished livepatch module).

/** One violation, as verify reports it (src/klp/verify). */
export interface VerifyViolation {
  code: string;
  function: string;
  symbol: string;
  expected: string;
  actual: string;
  message: string;
}

export interface VerifyErrorData {
  VERIFY_FAILED: { module: string; against: string; violations: VerifyViolation[] };
}
