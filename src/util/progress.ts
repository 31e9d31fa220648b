// Progress for long work: one updating line on a terminal, plain log lines
// otherwise. Library code reports through this interface and never prints.

export interface Progress {
  /** A named stage starts. */
  stage(name: string, detail?: string): void;
  /** Bytes done in the current stage (total when known). */
  bytes(done: number, total?: number): void;
  /** The current stage finished. */
  stageDone(name: string, ms: number, skipped?: boolean): void;
  /** A message worth a line of its own. */
  log(message: string): void;
  /** Stop redrawing (call before printing the result). */
  close(): void;
}

export const silentProgress: Progress = {
  stage: () => undefined,
  bytes: () => undefined,
  stageDone: () => undefined,
  log: () => undefined,
  close: () => undefined,
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

interface Writable {
  write(chunk: string): unknown;
  columns?: number;
}

/** Plain lines: `rebootless: download: started`, suitable for logs and CI. */
export function createLineProgress(out: Writable, prefix = 'rebootless'): Progress {
  return {
    stage: (name, detail) => out.write(`${prefix}: ${name}: started${detail ? ` (${detail})` : ''}\n`),
    bytes: () => undefined,
    stageDone: (name, ms, skipped) =>
      out.write(`${prefix}: ${name}: ${skipped ? 'already done' : `done in ${formatDuration(ms)}`}\n`),
    log: (message) => out.write(`${prefix}: ${message}\n`),
    close: () => undefined,
  };
}

/** One line redrawn in place: stage, bytes, elapsed time. */
export function createTtyProgress(out: Writable, now: () => number = Date.now): Progress {
  let current = '';
  let detail = '';
  let started = now();
  let bytesText = '';
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    const line = `  ${current}${detail ? ` ${detail}` : ''}${bytesText ? `  ${bytesText}` : ''}  ${formatDuration(now() - started)}`;
    const width = out.columns !== undefined && out.columns >= 20 ? out.columns : 100;
    out.write(`\r\x1b[K${line.slice(0, width - 1)}`);
  };
  const clear = (): void => {
    out.write('\r\x1b[K');
  };
  return {
    stage(name, d) {
      current = name;
      detail = d ?? '';
      bytesText = '';
      started = now();
      draw();
      if (!timer) {
        timer = setInterval(draw, 250);
        timer.unref();
      }
    },
    bytes(done, total) {
      bytesText = total ? `${formatBytes(done)} / ${formatBytes(total)}` : formatBytes(done);
    },
    stageDone(name, ms, skipped) {
      clear();
      out.write(`✓ ${name}${skipped ? ' (cached)' : ` ${formatDuration(ms)}`}\n`);
      current = '';
    },
    log(message) {
      clear();
      out.write(`${message}\n`);
      if (current) draw();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (current) clear();
    },
  };
}
