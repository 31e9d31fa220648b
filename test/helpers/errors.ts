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

/** The RebootlessError `p` rejects with; throws when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<RebootlessError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RebootlessError) return e;
    throw e;
  }
  throw new Error('expected a RebootlessError, but it resolved');
}
