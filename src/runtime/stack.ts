// A task's kernel stack as /proc/PID/task/TID/stack shows it:
//   [<0>] pipe_read+0x318/0x450
//   [<0>] cmdline_proc_show+0x10/0x30 [livepatch_cmdline]

export interface StackFrame {
  func: string;
  offset: number;
  size: number;
  /** The module the function lives in; undefined for vmlinux. */
  module?: string;
}

const FRAME = /^\[<[0-9a-fx]+>\]\s+([^\s+]+)\+0x([0-9a-f]+)\/0x([0-9a-f]+)(?:\s+\[([^\]]+)\])?/;

export function parseStack(text: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of text.split('\n')) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    frames.push({
      func: m[1]!,
      offset: parseInt(m[2]!, 16),
      size: parseInt(m[3]!, 16),
      ...(m[4] ? { module: m[4] } : {}),
    });
  }
  return frames;
}

export const formatFrame = (f: StackFrame): string =>
  `${f.func}+0x${f.offset.toString(16)}/0x${f.size.toString(16)}${f.module ? ` [${f.module}]` : ''}`;
