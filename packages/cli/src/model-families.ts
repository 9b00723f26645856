/**
 * The one place the CLI composes what it runs: the Hub integration, the sandbox loader for trusted
 * remote code and the model families it knows. Importing a package registers nothing, so
 * `modular run`/`inspect` call this before they load a repo. SDXL is imported on demand because
 * onnxruntime is heavy for `hub`, `build` and `trust`.
 */
import { registerFamily, type ModelFamily } from '@modular-diffusers/core';
import { installHub } from '@modular-diffusers/hub';
import { installSandbox } from '@modular-diffusers/sandbox';

/** The families the CLI registers, in order. */
export async function defaultModelFamilies(): Promise<ModelFamily[]> {
  const { sdxl } = await import('@modular-diffusers/sdxl');
  return [sdxl];
}

/** Installs the Hub integration and the sandbox loader, and registers the default families (idempotent). */
export async function composeModelFamilies(): Promise<void> {
  installHub();
  installSandbox();
  for (const family of await defaultModelFamilies()) registerFamily(family);
}
