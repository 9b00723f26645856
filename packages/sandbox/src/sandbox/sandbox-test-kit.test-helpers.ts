/** Test helpers for the sandbox: a clock the test moves by hand. */
import type { SandboxClock } from './create-sandbox.js';

/** A SandboxClock whose timers fire only when the test calls `advance`: budgets then run out on cue, however busy the machine. */
export function manualClock(): SandboxClock & { now: number; advance(ms: number): void; pending(): number } {
  const timers = new Map<number, { due: number; callback: () => void }>();
  let next = 1;
  const clock = {
    now: 0,
    setTimeout(callback: () => void, ms: number) {
      const id = next++;
      timers.set(id, { due: clock.now + ms, callback });
      return id;
    },
    clearTimeout(handle: unknown) {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      clock.now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].due - b[1].due)) {
        if (timer.due > clock.now || !timers.has(id)) continue;
        timers.delete(id);
        timer.callback();
      }
    },
    pending: () => timers.size,
  };
  return clock;
}
