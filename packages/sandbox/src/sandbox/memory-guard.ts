/**
 * Watches the sandbox process's resident memory while the host waits on it.
 *
 * `--max-old-space-size` caps the V8 heap only: ArrayBuffer backing stores live outside it, so a
 * plugin could fill gigabytes of typed arrays inside a 64 MB heap. The process checks its own
 * exact ArrayBuffer total after every entry; this guard covers the time *during* an entry, when
 * the process is busy running plugin code and cannot look at itself. The sandbox process holds
 * nothing but the sandbox, so its RSS is the plugin's: the guard compares it with the RSS the
 * process had once loaded plus the heap and ArrayBuffer budgets.
 */
import { processRss } from './sandbox-process.js';

export interface MemoryGuardOptions {
  pid: number;
  /** True while the host waits on the process (a call or the load in flight); idle processes are not polled. */
  busy: () => boolean;
  /** RSS above which the process is stopped, in bytes (baseline + budgets). */
  limitBytes: () => number;
  intervalMs?: number;
  onExceeded: (rssBytes: number) => void;
}

export interface MemoryGuard {
  stop(): void;
}

export function startMemoryGuard(options: MemoryGuardOptions): MemoryGuard {
  let reading = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || reading || !options.busy()) return;
    reading = true;
    void processRss(options.pid).then((rss) => {
      reading = false;
      if (stopped || rss === null) return;
      if (rss > options.limitBytes()) {
        stopped = true;
        clearInterval(timer);
        options.onExceeded(rss);
      }
    });
  }, options.intervalMs ?? 10);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
