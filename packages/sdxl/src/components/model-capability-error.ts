import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * The loaded ONNX export cannot do what the pipeline asks of it: an ONNX
 * graph has a fixed set of inputs, so a UNet exported without ControlNet
 * residual or IP-Adapter inputs cannot take them later. The message names
 * the export that can.
 */
export class ModelCapabilityError extends ModularDiffusersError {
  static override readonly code: string = 'MODEL_CAPABILITY';
  override name = 'ModelCapabilityError';
}
