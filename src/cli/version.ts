import { createRequire } from 'node:module';

// package.json through require: an ESM import of node:fs loads file streams.
// (src/cli/ and the bundle's dist/bin/ are both two folders below it.)
const require = createRequire(import.meta.url);

export function packageVersion(): string {
  return (require('../../package.json') as { version: string }).version;
}
