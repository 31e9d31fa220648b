import { promises as fsp } from 'node:fs';

// Module.symvers: `crc<TAB>symbol<TAB>module<TAB>export type<TAB>namespace`.

export interface Export {
  symbol: string;
  module: string;
  gplOnly: boolean;
  /** EXPORT_SYMBOL_NS namespace ('' for none): a user must MODULE_IMPORT_NS it. */
  namespace: string;
}

export function parseSymvers(text: string): Map<string, Export> {
  const out = new Map<string, Export>();
  for (const line of text.split('\n')) {
    const [, symbol, module, type, namespace] = line.split('\t');
    if (symbol && module) out.set(symbol, { symbol, module: module.replace(/^.*\//, ''), gplOnly: (type ?? '').includes('GPL'), namespace: (namespace ?? '').trim() });
  }
  return out;
}

export async function readSymvers(file: string): Promise<Map<string, Export>> {
  return parseSymvers(await fsp.readFile(file, 'utf8'));
}
