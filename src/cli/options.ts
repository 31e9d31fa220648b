// What command registration needs to describe options. Registration runs on
// every start, `--help` included, so nothing here may load more (values are
// checked when a command runs, by actions/option-values.ts).

/** commander collector for repeatable options (`--module a --module b`). */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];
