import { InvalidArgumentError } from '@modular-diffusers/core';

/**
 * A LoRA file the pipeline cannot use: not safetensors, a key layout it does not know, a layer
 * without its other half, a module the model does not have or a shape that does not fit it.
 * Raised while loading, before any model runs; names the file and the key.
 */
export class LoraLoadError extends InvalidArgumentError {
  static override readonly code: string = 'LORA_LOAD';
  override name = 'LoraLoadError';
  constructor(
    message: string,
    /** The LoRA file (or the folder searched). */
    readonly file: string | null = null,
    /** The tensor key the problem is about, when there is one. */
    readonly key: string | null = null,
  ) {
    super(message);
  }
}
