// Error codes of the VM harness (src/vm).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface VmErrorData {}
