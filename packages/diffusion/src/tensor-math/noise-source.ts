/**
 * The random source stochastic schedulers draw from. Only the interface
 * lives here: a generator that reproduces torch's randn (or any other
 * normal sampler) is supplied by the caller.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import { DiffusionInputError } from '../errors.js';
import { requireFloat32, type Float32Tensor } from './latent-checks.js';

export interface NoiseGenerator {
  /** Standard normal samples in a float32 tensor of exactly this shape. */
  randn(shape: number[]): Tensor;
}

export function drawNoise(generator: NoiseGenerator | undefined, shape: readonly number[], who: string): Float32Tensor {
  if (!generator || typeof generator.randn !== 'function') {
    throw new DiffusionInputError(
      `${who} needs random noise: pass options.generator, an object with randn(shape) returning a float32 Tensor.`,
    );
  }
  const noise = requireFloat32(generator.randn([...shape]), 'generator.randn(shape)', who);
  if (noise.shape.length !== shape.length || noise.shape.some((d, i) => d !== shape[i])) {
    throw new DiffusionInputError(
      `${who}: generator.randn([${shape.join(', ')}]) returned shape [${noise.shape.join(', ')}]; it must return the shape asked for.`,
    );
  }
  return noise;
}
