import type { ErrorCode, ErrorDataMap } from './codes.js';

export interface CatalogEntry<C extends ErrorCode> {
  /** Process exit code the CLI uses for this error. */
  exitCode: number;
  message: (data: ErrorDataMap[C]) => string;
  hint: (data: ErrorDataMap[C]) => string;
}

export type Catalog = { [C in ErrorCode]: CatalogEntry<C> };
/** A domain's part of the catalog. */
export type CatalogPart<D> = { [C in keyof D & ErrorCode]: CatalogEntry<C> };
