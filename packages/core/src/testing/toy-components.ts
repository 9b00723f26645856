import { ComponentLoaderRegistry, type ComponentLoader } from '../components/loader-registry.js';
import type { ComponentSpec } from '../components/component-spec.js';

// Stand-ins for the SDXL models, doing small number arithmetic on plain
// number arrays, so the engine's flows (composition, state, loops, loading,
// sharing) can be run and checked by hand without any model. "Latents" and
// "images" are number[]; text embeddings are single numbers.

/** Embeds a prompt as its length: easy to predict in a test. */
export class ToyTextEncoder {
  constructor(readonly config: Record<string, unknown> = {}) {}
  encode(text: string): number {
    return text.length;
  }
}

export class ToyTokenizer {
  constructor(readonly config: Record<string, unknown> = {}) {}
  tokenize(text: string): string[] {
    return [...text];
  }
}

/** Predicts noise that pulls each latent towards `embedding / 10`: (x - e/10) / 2. */
export class ToyUNet {
  constructor(readonly config: Record<string, unknown> = {}) {}
  predict(latents: readonly number[], _t: number, embedding: number, residual: readonly number[] | null = null): number[] {
    return latents.map((x, j) => (x - embedding / 10) / 2 + (residual?.[j] ?? 0));
  }
}

/** Encodes by scaling with `scalingFactor` and decodes by dividing it back out. */
export class ToyVae {
  readonly config: { scalingFactor: number };
  constructor(config: Record<string, unknown> = {}) {
    this.config = { scalingFactor: typeof config.scalingFactor === 'number' ? config.scalingFactor : 0.5 };
  }
  encode(image: readonly number[]): number[] {
    return image.map((v) => v * this.config.scalingFactor);
  }
  decode(latents: readonly number[]): number[] {
    return latents.map((v) => v / this.config.scalingFactor);
  }
}

/**
 * Timesteps 1000, 1000 - 1000/n, ...; noise is "+ t/1000"; a step subtracts
 * the noise prediction. Enough structure to check the order of operations.
 */
export class ToyScheduler {
  constructor(readonly config: Record<string, unknown> = {}) {}
  timestepsFor(numInferenceSteps: number): number[] {
    return Array.from({ length: numInferenceSteps }, (_, k) => 1000 - k * (1000 / numInferenceSteps));
  }
  addNoise(latents: readonly number[], t: number): number[] {
    return latents.map((v) => v + t / 1000);
  }
  scaleModelInput(latents: readonly number[], _t: number): number[] {
    return [...latents];
  }
  step(noisePred: readonly number[], _t: number, latents: readonly number[]): number[] {
    return latents.map((v, j) => v - noisePred[j]!);
  }
}

/** Classifier-free guidance on arrays: uncond + scale * (cond - uncond). */
export class ToyGuider {
  readonly config: { guidance_scale: number };
  constructor(config: Record<string, unknown> = {}) {
    this.config = { guidance_scale: typeof config.guidance_scale === 'number' ? config.guidance_scale : 7.5 };
  }
  combine(cond: readonly number[], uncond: readonly number[]): number[] {
    return cond.map((c, j) => uncond[j]! + this.config.guidance_scale * (c - uncond[j]!));
  }
}

/** Clamps values to [0, 1] (an image/mask preprocessor). */
export class ToyImageProcessor {
  constructor(readonly config: Record<string, unknown> = {}) {}
  preprocess(image: readonly number[]): number[] {
    return image.map((v) => Math.min(1, Math.max(0, v)));
  }
}

export class ToyImageEncoder {
  constructor(readonly config: Record<string, unknown> = {}) {}
  encode(image: readonly number[]): number {
    return image.reduce((a, b) => a + b, 0);
  }
}

/** A residual of `scale * control` per latent. */
export class ToyControlNet {
  constructor(readonly config: Record<string, unknown> = {}) {}
  residual(control: readonly number[], scale: number): number[] {
    return control.map((c) => c * scale);
  }
}

const PRETRAINED: Record<string, new (config: Record<string, unknown>) => unknown> = {
  CLIPTextModel: ToyTextEncoder,
  CLIPTextModelWithProjection: ToyTextEncoder,
  CLIPTokenizer: ToyTokenizer,
  UNet2DConditionModel: ToyUNet,
  AutoencoderKL: ToyVae,
  EulerDiscreteScheduler: ToyScheduler,
  CLIPVisionModelWithProjection: ToyImageEncoder,
  ControlNetModel: ToyControlNet,
  ControlNetUnionModel: ToyControlNet,
};

const FROM_CONFIG: Record<string, new (config: Record<string, unknown>) => unknown> = {
  ClassifierFreeGuidance: ToyGuider,
  VaeImageProcessor: ToyImageProcessor,
  CLIPImageProcessor: ToyImageProcessor,
  EulerDiscreteScheduler: ToyScheduler,
};

export interface ToyLoaderRegistry extends ComponentLoaderRegistry {
  /** Load ids of every fromPretrained load, in order: lets tests see sharing and skipping. */
  readonly loads: string[];
}

/** A loader registry that "loads" the toy components for the SDXL type names, recording each load. */
export function createToyLoaderRegistry(parent: ComponentLoaderRegistry | null = null): ToyLoaderRegistry {
  const registry = new ComponentLoaderRegistry(parent) as ToyLoaderRegistry;
  const loads: string[] = [];
  Object.defineProperty(registry, 'loads', { value: loads });
  const types = new Set([...Object.keys(PRETRAINED), ...Object.keys(FROM_CONFIG)]);
  for (const type of types) {
    const loader: ComponentLoader = { type };
    const pretrained = PRETRAINED[type];
    const fromConfig = FROM_CONFIG[type];
    if (pretrained) {
      loader.fromPretrained = async (spec: ComponentSpec, context) => {
        loads.push(spec.loadId);
        return new pretrained({ ...(spec.config ?? {}), ...context.options });
      };
    }
    if (fromConfig) loader.fromConfig = (config) => new fromConfig(config);
    registry.register(loader);
  }
  return registry;
}
