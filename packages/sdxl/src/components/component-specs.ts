/**
 * The components SDXL blocks share, declared once so every block asks for
 * the same thing (same name, type, config and creation method), as
 * diffusers' blocks do. Each is a typed declaration (`component<T>()`) for
 * a TypedBlock spec, with a `...Spec()` twin for code that wants the
 * ComponentSpec itself.
 *
 * A model loaded from the repo (`fromPretrained`) is null until
 * `loadComponents()`; one created from a config (`fromConfig`) exists from
 * the start, so its type has no null.
 */
import { component, componentSpecOf } from '@modular-diffusers/core';
import type { Guider, Scheduler } from '@modular-diffusers/diffusion';
import type { ClipTokenizer, VaeImageProcessor } from '@modular-diffusers/runtime';
import type { AutoencoderKL } from './autoencoder-kl.js';
import type { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import type { UNet2DConditionModel } from './unet.js';
import type { ControlNetModel, ControlNetUnionModel } from './controlnet.js';
import type { CLIPVisionModelWithProjection } from './image-encoder.js';

export const guiderComponent = () =>
  component<Guider>('ClassifierFreeGuidance', { config: { guidance_scale: 7.5 }, defaultCreationMethod: 'fromConfig' });

export const imageProcessorComponent = () =>
  component<VaeImageProcessor>('VaeImageProcessor', { config: { vae_scale_factor: 8 }, defaultCreationMethod: 'fromConfig' });

export const maskProcessorComponent = () =>
  component<VaeImageProcessor>('VaeImageProcessor', {
    config: { do_normalize: false, vae_scale_factor: 8, do_binarize: true, do_convert_grayscale: true },
    defaultCreationMethod: 'fromConfig',
  });

export const schedulerComponent = () => component<Scheduler | null>('EulerDiscreteScheduler');
export const unetComponent = () => component<UNet2DConditionModel | null>('UNet2DConditionModel');
export const vaeComponent = () => component<AutoencoderKL | null>('AutoencoderKL');

export const guiderSpec = () => componentSpecOf('guider', guiderComponent());
export const imageProcessorSpec = () => componentSpecOf('image_processor', imageProcessorComponent());
export const maskProcessorSpec = () => componentSpecOf('mask_processor', maskProcessorComponent());
export const schedulerSpec = () => componentSpecOf('scheduler', schedulerComponent());
export const unetSpec = () => componentSpecOf('unet', unetComponent());
export const vaeSpec = () => componentSpecOf('vae', vaeComponent());

/** The text encoder step's models: both CLIP encoders and their tokenizers (null until loaded). */
export const textEncoderComponent = () => component<CLIPTextModel | null>('CLIPTextModel');
export const textEncoder2Component = () => component<CLIPTextModelWithProjection | null>('CLIPTextModelWithProjection');
export const tokenizerComponent = () => component<ClipTokenizer | null>('CLIPTokenizer');

// ControlNet and IP-Adapter blocks' models: loaded from the repo, so null until loadComponents().
export const controlnetComponent = () => component<ControlNetModel | null>('ControlNetModel');
export const controlnetUnionComponent = () => component<ControlNetUnionModel | null>('ControlNetUnionModel');
export const imageEncoderComponent = () => component<CLIPVisionModelWithProjection | null>('CLIPVisionModelWithProjection');
