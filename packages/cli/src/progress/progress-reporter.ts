/// <reference path="../types/cli-progress.d.ts" />
/**
 * Progress of downloads and denoise steps. On a terminal it draws bars with
 * cli-progress; elsewhere (CI logs, tests) it prints a line per finished
 * file and per quarter of the steps, so logs stay short and readable.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '@modular-diffusers/core';
import type { DownloadProgress } from '@modular-diffusers/hub';
import type { CliIo } from '../program.js';

export interface ProgressReporter {
  download(progress: DownloadProgress): void;
  step(event: ProgressEvent): void;
  /** Removes the bars (call before printing anything else, and at the end). */
  stop(): void;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function createProgressReporter(io: CliIo): ProgressReporter {
  const bars = io.progressBars ?? Boolean(process.stderr.isTTY);
  return bars ? barReporter() : lineReporter(io);
}

function lineReporter(io: CliIo): ProgressReporter {
  const finished = new Set<string>();
  let lastQuarter = -1;
  return {
    download(p) {
      if (p.fileSize > 0 && p.fileBytes < p.fileSize) return;
      if (finished.has(p.path)) return;
      finished.add(p.path);
      io.err(`downloaded ${p.path} (${mib(p.fileSize)})\n`);
    },
    step(e) {
      if (!e.total) return;
      if (e.step === 1) lastQuarter = -1;
      const quarter = Math.floor((4 * e.step) / e.total);
      if (quarter === lastQuarter && e.step !== e.total) return;
      lastQuarter = quarter;
      io.err(`${e.block}: step ${e.step}/${e.total}\n`);
    },
    stop() {},
  };
}

function barReporter(): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      format: '{label} |{bar}| {percentage}% {detail}',
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let downloads: cliProgress.SingleBar | null = null;
  let steps: cliProgress.SingleBar | null = null;
  let stepsBlock = '';
  return {
    download(p) {
      const total = Math.max(1, p.totalBytes);
      const detail = `${mib(p.bytes)}/${mib(p.totalBytes)} ${p.path}`;
      if (!downloads) downloads = multi.create(total, 0, { label: 'download', detail });
      downloads.setTotal(total);
      downloads.update(p.bytes, { detail });
    },
    step(e) {
      const total = e.total ?? e.step;
      if (!steps || e.block !== stepsBlock || e.step === 1) {
        if (steps) multi.remove(steps);
        stepsBlock = e.block;
        steps = multi.create(total, 0, { label: 'denoise ', detail: e.block });
      }
      steps.update(e.step, { detail: `${e.step}/${total} ${e.block}` });
    },
    stop() {
      multi.stop();
    },
  };
}
