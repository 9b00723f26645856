import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * A float16 export produced NaN or infinity. SDXL's original VAE is the known
 * case: its decoder's activations exceed float16's range (65504), so an fp16
 * export of it decodes to NaN. diffusers avoids it by upcasting the VAE to
 * float32 (`force_upcast`); an ONNX graph has its precision baked in, so the
 * fix is to load another VAE.
 */
export class Float16OverflowError extends ModularDiffusersError {
  static override readonly code: string = 'FLOAT16_OVERFLOW';
  override name = 'Float16OverflowError';
}
