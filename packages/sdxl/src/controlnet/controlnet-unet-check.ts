/**
 * Refuses a ControlNet made for another UNet before any model runs (the
 * ControlNet input step's validateInputs): the residuals of an SD 1.5
 * ControlNet, or of one for another SDXL size, would not fit the UNet's skip
 * connections, and diffusers would only fail inside the denoise loop. Both
 * configs must be diffusers configs (`_class_name`); an ONNX export without a
 * config.json is checked by its declared inputs when it runs.
 */
// This module is part of the blocks' sandbox bundle: no Node built-ins, and only the model
// builder's pure config check (its subpath export), not the builder itself.
import type { ModularPipeline } from '@modular-diffusers/core';
import { checkControlNetMatchesUNet } from '@modular-diffusers/model-builder/controlnet-unet-match';

interface ConfiguredComponent {
  readonly config: Readonly<Record<string, unknown>>;
  readonly folder: string;
}

export function checkControlNetFitsUNet(components: ModularPipeline): void {
  const controlnet = configured(components.componentNames.includes('controlnet') ? components.getComponent('controlnet') : null);
  const unet = configured(components.componentNames.includes('unet') ? components.getComponent('unet') : null);
  if (!controlnet || !unet) return;
  if (typeof controlnet.config._class_name !== 'string' || typeof unet.config._class_name !== 'string') return;
  checkControlNetMatchesUNet(
    { config: controlnet.config, file: configFile(controlnet.folder) },
    { config: unet.config, file: configFile(unet.folder) },
  );
}

/** A component that carries its diffusers config and folder (the SDXL session components do). */
function configured(value: unknown): ConfiguredComponent | null {
  if (!value || typeof value !== 'object') return null;
  const { config, folder } = value as Partial<ConfiguredComponent>;
  return config && typeof config === 'object' && typeof folder === 'string' ? { config, folder } : null;
}

function configFile(folder: string): string {
  return `${folder.replace(/[\\/]+$/, '')}/config.json`;
}
