import type { CatalogPart } from './catalog-types.js';
import type { ElfErrorData } from './elf-codes.js';

export const elfCatalog: CatalogPart<ElfErrorData> = {};
