import { RebootlessError } from '../../src/errors/index.js';

/** The code of the RebootlessError `f` throws, or undefined when it does not throw. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof RebootlessError ? e.code : 'not a RebootlessError';
  }
  return undefined;
}
