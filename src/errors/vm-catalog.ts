import type { CatalogPart } from './catalog-types.js';
import type { VmErrorData } from './vm-codes.js';

export const vmCatalog: CatalogPart<VmErrorData> = {};
