/**
 * Watches process RSS while a sandbox worker is inside its context.
 *
 * Worker `resourceLimits` cap the V8 heap only: ArrayBuffer backing stores live outside it, so a
 * plugin could fill gigabytes of typed arrays inside a 64 MB-heap worker. The worker checks its own
 * exact ArrayBuffer total after every entry; this guard covers the time *during* an entry, when the
 * worker's thread is busy running plugin code. The worker publishes [inside-context flag, entry
 * number] in a SharedArrayBuffer that never enters the context. RSS is process-wide, so the guard
 * measures growth since it first saw the current entry and allows generous slack.
 */
export interface MemoryGuardOptions {
  /** Int32Array over the worker's SharedArrayBuffer: [0] = 1 while inside the context, [1] = entry number. */
  busy: Int32Array;
  /** Growth of RSS during one entry beyond which the worker is stopped. */
  limitBytes: number;
  intervalMs?: number;
  onExceeded: (grownBytes: number) => void;
}

export interface MemoryGuard {
  stop(): void;
}

export function startMemoryGuard(options: MemoryGuardOptions): MemoryGuard {
  const { busy, limitBytes, onExceeded } = options;
  let entry = -1;
  let baseline = 0;
  let fired = false;
  const timer = setInterval(() => {
    if (fired || Atomics.load(busy, 0) !== 1) return;
    const current = Atomics.load(busy, 1);
    const rss = process.memoryUsage.rss();
    if (current !== entry) {
      entry = current;
      baseline = rss;
      return;
    }
    if (rss - baseline > limitBytes) {
      fired = true;
      onExceeded(rss - baseline);
    }
  }, options.intervalMs ?? 10);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
