import type { RuntimeEvent } from '../runtime/events.js';
import type { TransitionSnapshot } from '../runtime/transition.js';
import { formatFrame } from '../runtime/stack.js';
import { formatDuration } from '../util/progress.js';
import { shieldSignals } from './context.js';
import { paint } from './render.js';

// The live view of a transition on stderr: which tasks are not switched yet
// and, for those with a patched function on their stack, the whole stack with
// those frames marked. A new view is printed when the set of blockers
// changes, and a one-line reminder every few seconds otherwise.

const STATE: Record<string, string> = { S: 'sleeping', D: 'uninterruptible', R: 'running', T: 'stopped', t: 'traced', I: 'idle', Z: 'zombie' };
const REMIND_MS = 5000;
const MAX_SHOWN = 8;

export function renderSnapshot(s: TransitionSnapshot, color: boolean): string {
  const blocking = s.tasks.filter((t) => t.hits.length);
  const lines = [`transition to ${s.target} (${formatDuration(s.elapsedMs)}): ${s.pending} task${s.pending === 1 ? '' : 's'} not yet switched, ${blocking.length} with a patched function on the stack`];
  for (const t of blocking.slice(0, MAX_SHOWN)) {
    lines.push(`  ${paint(color, '1', `${t.pid}${t.tid !== t.pid ? `/${t.tid}` : ''} ${t.comm}`)} (${STATE[t.state] ?? t.state}${t.kthread ? ', kernel thread' : ''})`);
    t.stack.forEach((f, i) => {
      const hit = t.hits.includes(i);
      lines.push(hit ? `      ${paint(color, '31;1', formatFrame(f))}  <- patched function` : `      ${formatFrame(f)}`);
    });
  }
  if (blocking.length > MAX_SHOWN) lines.push(`  … and ${blocking.length - MAX_SHOWN} more blocking tasks`);
  const others = s.pending - blocking.length;
  if (others > 0) lines.push(`  ${others} other task${others === 1 ? '' : 's'} switch on their next return to user space or stack check`);
  return `${lines.join('\n')}\n`;
}

/** A stateful event printer for apply, revert and load-installed. */
export function transitionView(out: NodeJS.WritableStream, color: boolean, now: () => number = Date.now): (e: RuntimeEvent) => void {
  let lastKey = '';
  let lastAt = 0;
  return (e) => {
    switch (e.kind) {
      case 'transition': {
        const s = e.snapshot;
        if (s.pending === 0) return;
        const key = `${s.target}:${s.tasks.filter((t) => t.hits.length).map((t) => `${t.tid}@${t.hits.map((i) => t.stack[i]!.func).join(',')}`).join(' ')}`;
        if (key !== lastKey) {
          out.write(renderSnapshot(s, color));
          lastKey = key;
          lastAt = now();
        } else if (now() - lastAt >= REMIND_MS) {
          out.write(`still waiting (${formatDuration(s.elapsedMs)}): ${s.pending} task(s) not switched\n`);
          lastAt = now();
        }
        return;
      }
      case 'note':
        out.write(`note: ${e.text}\n`);
        return;
      case 'waiting-for-other':
        out.write(`waiting: live patch ${e.patch} is in transition (one at a time)\n`);
        return;
      case 'loading':
        out.write(`loading ${e.file}\n`);
        return;
      case 'disabling':
        out.write(`disabling ${e.name}\n`);
        return;
      case 'retry':
        out.write(`retrying ${e.what}: ${e.reason}\n`);
        return;
      case 'reversing':
        shieldSignals(true);
        out.write(paint(color, '33', `${e.why === 'timeout' ? 'time is up' : 'interrupted'}: reversing the transition of ${e.name}\n`));
        lastKey = '';
        return;
      case 'forcing':
        out.write(paint(color, '31', `forcing ${e.name}: the remaining tasks are switched without a stack check; modules of patches it replaces can never be removed\n`));
        return;
      case 'unloading':
        out.write(`unloading ${e.name}\n`);
        return;
    }
  };
}
