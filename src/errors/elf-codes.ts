// Error codes of the ELF layer (src/elf, src/arch/x86_64).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ElfErrorData {}
