/**
 * Loaders for the SDXL components that are not ONNX models: the CLIP
 * tokenizers, the scheduler and guider (by diffusers class name, from their
 * registries), and the VAE image processor.
 */
import type { ComponentLoader, ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import { guiderRegistry, schedulerRegistry } from '@modular-diffusers/diffusion';
import { ClipTokenizer, VaeImageProcessor } from '@modular-diffusers/runtime';
import { readJsonConfig } from './read-json-config.js';

export const clipTokenizerLoader: ComponentLoader = {
  type: 'CLIPTokenizer',
  async fromPretrained(_spec: ComponentSpec, context: LoaderContext) {
    const { path } = await context.resolve();
    return ClipTokenizer.fromPretrained(path);
  },
};

/**
 * One loader per registered scheduler class. The spec's type picks the
 * class, as `EulerDiscreteScheduler.from_pretrained` does in diffusers, so a
 * repo's scheduler config can be run with another scheduler.
 */
export function schedulerLoaders(): ComponentLoader[] {
  return schedulerRegistry.names().map((type) => ({
    type,
    fromConfig: (config: Record<string, unknown>) => schedulerRegistry.get(type).fromConfig(config),
    async fromPretrained(_spec: ComponentSpec, context: LoaderContext) {
      const { path } = await context.resolve();
      const config = await readJsonConfig(path, 'scheduler_config.json');
      return schedulerRegistry.get(type).fromConfig(config);
    },
  }));
}

/** One loader per registered guider class; a repo keeps a guider's settings in guider_config.json. */
export function guiderLoaders(): ComponentLoader[] {
  return guiderRegistry.names().map((type) => ({
    type,
    fromConfig: (config: Record<string, unknown>) => guiderRegistry.get(type).fromConfig(config),
    async fromPretrained(_spec: ComponentSpec, context: LoaderContext) {
      const { path } = await context.resolve();
      const config = await readJsonConfig(path, 'guider_config.json');
      return guiderRegistry.get(type).fromConfig(config);
    },
  }));
}

export const vaeImageProcessorLoader: ComponentLoader = {
  type: 'VaeImageProcessor',
  fromConfig: (config: Record<string, unknown>) => VaeImageProcessor.fromConfig(config),
};
