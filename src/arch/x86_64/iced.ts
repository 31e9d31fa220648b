import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

// The iced-x86 decoder (WebAssembly, with a 900 KB CommonJS glue file). Loaded
// with require: an ESM import first scans the whole file for its export names,
// which doubles the time the decoder takes to load.

export const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
export type { Iced };
