/** A short, bounded list for messages. */
export const list = (items: string[], max = 12): string =>
  items.length === 0 ? '(none)' : items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length - max} more)` : '');
