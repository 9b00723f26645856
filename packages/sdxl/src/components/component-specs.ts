/**
 * The component specs SDXL blocks share, declared once so every block asks
 * for the same thing (same name, type, config and creation method), as
 * diffusers' blocks do.
 */
import { ComponentSpec } from '@modular-diffusers/core';

export const guiderSpec = () =>
  new ComponentSpec('guider', 'ClassifierFreeGuidance', { config: { guidance_scale: 7.5 }, defaultCreationMethod: 'fromConfig' });

export const imageProcessorSpec = () =>
  new ComponentSpec('image_processor', 'VaeImageProcessor', { config: { vae_scale_factor: 8 }, defaultCreationMethod: 'fromConfig' });

export const maskProcessorSpec = () =>
  new ComponentSpec('mask_processor', 'VaeImageProcessor', {
    config: { do_normalize: false, vae_scale_factor: 8, do_binarize: true, do_convert_grayscale: true },
    defaultCreationMethod: 'fromConfig',
  });

export const schedulerSpec = () => new ComponentSpec('scheduler', 'EulerDiscreteScheduler');
export const unetSpec = () => new ComponentSpec('unet', 'UNet2DConditionModel');
export const vaeSpec = () => new ComponentSpec('vae', 'AutoencoderKL');
