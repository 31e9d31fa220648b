import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

// The iced-x86 decoder (WebAssembly, with a 900 KB CommonJS glue file),
// loaded on first use: it costs about 180 ms, which commands that decode
// nothing never pay, and which a build pays while its compilers run
// (preloadIced). Loaded with require: an ESM import first scans the whole
// file for its export names, which doubles the time the decoder takes to load.

const require = createRequire(import.meta.url);
let loaded: typeof Iced | undefined;

/** The decoder module (loaded by the first call). */
export const loadIced = (): typeof Iced => (loaded ??= require('iced-x86') as typeof Iced);

/** Loads the decoder on the next turn of the event loop, for callers about to wait on other processes. */
export function preloadIced(): void {
  if (!loaded) setImmediate(loadIced);
}

export type { Iced };
