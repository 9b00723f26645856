/**
 * Refuses a ControlNet made for another UNet before any model runs (the
 * ControlNet input step's validateInputs): the residuals of an SD 1.5
 * ControlNet, or of one for another SDXL size, would not fit the UNet's skip
 * connections, and diffusers would only fail inside the denoise loop. Both
 * configs must be diffusers configs (`_class_name`); an ONNX export without a
 * config.json is checked by its declared inputs when it runs.
 */
import { join } from 'node:path';
import type { PipelineComponents } from '@modular-diffusers/core';
import { checkControlNetMatchesUNet } from '@modular-diffusers/model-builder';
import { OnnxSessionComponent } from '../components/onnx-session-component.js';

export function checkControlNetFitsUNet(components: PipelineComponents): void {
  const controlnet: unknown = components.controlnet;
  const unet: unknown = components.unet;
  if (!(controlnet instanceof OnnxSessionComponent) || !(unet instanceof OnnxSessionComponent)) return;
  if (typeof controlnet.config._class_name !== 'string' || typeof unet.config._class_name !== 'string') return;
  checkControlNetMatchesUNet(
    { config: controlnet.config, file: join(controlnet.folder, 'config.json') },
    { config: unet.config, file: join(unet.folder, 'config.json') },
  );
}
