export type { ErrorCode, ErrorDataMap, TreeModeChange } from './codes.js';
export { catalog, EXIT } from './catalog.js';
export type { Catalog, CatalogEntry } from './catalog.js';
export { RebootlessError, isRebootlessError, formatLocation } from './error.js';
export type { ErrorLocation, RebootlessErrorJson } from './error.js';
export type { BlockerSummary } from './runtime-codes.js';
export type { VerifyViolation } from './verify-codes.js';
