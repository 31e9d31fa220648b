/** commander collector for repeatable options (`--module a --module b`). */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];
