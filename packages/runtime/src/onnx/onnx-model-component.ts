/**
 * A pipeline component backed by one ONNX model in a diffusers-layout repo
 * folder (`<dir>/<subfolder>/model.onnx` + `config.json`), the shape of
 * Optimum's and stabilityai's ONNX exports. The engine's loader registry
 * creates these through `fromPretrained`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import type { Device } from './execution-provider.js';
import { loadOnnxModel, type LoadOnnxModelOptions, type OnnxModel, type OnnxRunOptions } from './onnx-model.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

export interface OnnxComponentOptions extends LoadOnnxModelOptions {
  /** Folder inside `dir` holding the model (e.g. 'unet'); default: `dir` itself. */
  subfolder?: string;
  /** Diffusers-style variant: 'fp16' loads `model.fp16.onnx`. */
  variant?: string;
  /** Model file name (default 'model.onnx', or `model.<variant>.onnx`). */
  fileName?: string;
}

export class OnnxComponentConfigError extends ModularDiffusersError {
  static override readonly code: string = 'ONNX_COMPONENT_CONFIG';
  override name = 'OnnxComponentConfigError';
}

export class OnnxModelComponent {
  constructor(
    readonly model: OnnxModel,
    /** The folder's config.json, or {} when it has none. */
    readonly config: Readonly<Record<string, unknown>>,
    readonly folder: string,
  ) {}

  static async fromPretrained(dir: string, options: OnnxComponentOptions = {}): Promise<OnnxModelComponent> {
    const folder = options.subfolder ? join(dir, options.subfolder) : dir;
    const fileName = options.fileName ?? (options.variant ? `model.${options.variant}.onnx` : 'model.onnx');
    const config = await readConfig(join(folder, 'config.json'));
    const model = await loadOnnxModel(join(folder, fileName), options);
    return new OnnxModelComponent(model, config, folder);
  }

  get provider(): OnnxModel['provider'] {
    return this.model.provider;
  }

  get sizeBytes(): number {
    return this.model.sizeBytes;
  }

  get isResident(): boolean {
    return this.model.isResident;
  }

  /** Re-creates the session after an offload, or moves it to `device` (see OnnxModel.ensureResident). */
  ensureResident(device?: Device): Promise<void> {
    return this.model.ensureResident(device);
  }

  offload(): Promise<void> {
    return this.model.offload();
  }

  setResidencyHook(hook: (() => Promise<void>) | null): void {
    this.model.setResidencyHook(hook);
  }

  run(feeds: Readonly<Record<string, Tensor>>, options?: OnnxRunOptions): Promise<Record<string, Tensor>> {
    return this.model.run(feeds, options);
  }

  release(): Promise<void> {
    return this.model.release();
  }
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the typed error below
  }
  throw new OnnxComponentConfigError(`${path} is not a JSON object; fix or delete it (the model loads without a config).`);
}
