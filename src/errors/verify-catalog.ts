import type { CatalogPart } from './catalog-types.js';
import { EXIT } from './exit.js';
import type { VerifyErrorData } from './verify-codes.js';

export const verifyCatalog: CatalogPart<VerifyErrorData> = {
  VERIFY_FAILED: {
    exitCode: EXIT.unpatchable,
    message: (d) =>
      `${d.module}: ${d.violations.length} problem(s) against ${d.against}:\n` +
      d.violations.map((v) => `  ${v.function}: ${v.symbol}: ${v.message} [${v.code}; expected ${v.expected}; actual ${v.actual}]`).join('\n'),
    hint: (d) =>
      d.violations.some((v) => v.code === 'EXPORT_MISSING' || v.code === 'NAMESPACE_NOT_IMPORTED' || v.code === 'KLP_SYM_MISSING' || v.code === 'FUNCTION_MISSING' || v.code === 'OBJECT_UNKNOWN')
        ? 'the module was built for another release or build of the kernel, or by a faulty tool: rebuild it against this release; do not load it'
        : 'do not load this module: the patched code would use other data or functions than the running kernel\'s; if rebootless built it, report the diff and this output',
  },
};
