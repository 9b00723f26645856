import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * An IP-Adapter that cannot be loaded as given: pickle weights, a missing
 * file, or weights that do not fit the UNet or the image encoder. Raised
 * before anything is loaded or run; `file` and `key` say where.
 */
export class IpAdapterLoadError extends ModularDiffusersError {
  static override readonly code: string = 'IP_ADAPTER_LOAD';
  override name = 'IpAdapterLoadError';
  constructor(
    message: string,
    /** The file the problem is in (the adapter's safetensors, a config.json). */
    readonly file: string | null = null,
    /** The tensor or config field, when there is one. */
    readonly key: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
