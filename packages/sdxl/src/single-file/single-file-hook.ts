/**
 * How the pipeline class reaches loadSingleFile without importing it: the
 * pipeline class is part of the sandbox-safe './blocks' entry, which may not
 * read files, so the `sdxl` family of '@modular-diffusers/sdxl' installs the
 * loader when registered (as `installHub()` installs fromPretrained).
 */
import { InvalidArgumentError, type ModularPipeline } from '@modular-diffusers/core';
import type { LoadSingleFileOptions, SingleFileLoadReport } from './load-single-file.js';

export type SingleFileLoader = (pipeline: ModularPipeline, checkpoint: string, options: LoadSingleFileOptions) => Promise<SingleFileLoadReport>;

let installed: SingleFileLoader | null = null;

export function installSingleFileLoader(loader: SingleFileLoader | null): void {
  installed = loader;
}

export function singleFileLoader(what: string): SingleFileLoader {
  if (!installed) {
    throw new InvalidArgumentError(`${what} reads a checkpoint file: register the sdxl family of '@modular-diffusers/sdxl' (its main entry, not './blocks': \`registerFamily(sdxl)\`) to load single-file checkpoints.`);
  }
  return installed;
}
