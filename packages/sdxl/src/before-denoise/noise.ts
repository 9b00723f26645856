/** Fresh latent noise as diffusers draws it: in the model's dtype (fp16 noise for an fp16 UNet), held as float32. */
import { InvalidArgumentError } from '@modular-diffusers/core';
import { Generator, Tensor, cast, randnTensor } from '@modular-diffusers/runtime';
import { SdxlInputError } from '../errors.js';

export type GeneratorInput = Generator | readonly Generator[] | null | undefined;

export function randnLatents(shape: readonly number[], generator: GeneratorInput, dtype: 'float32' | 'float16' = 'float32'): Tensor<'float32'> {
  checkGenerators(generator, shape[0]!);
  const noise = randnTensor(shape, { generator: generator ?? undefined, dtype });
  return asFloat32(noise);
}

/** A list of generators must have one per image of the final batch. */
export function checkGenerators(generator: GeneratorInput, batch: number): void {
  if (generator == null || generator instanceof Generator) return;
  if (!Array.isArray(generator) || !generator.every((g) => g instanceof Generator)) {
    throw new InvalidArgumentError('`generator` must be a runtime Generator or a list of them (one per image).');
  }
  if (generator.length !== 1 && generator.length !== batch) {
    throw new SdxlInputError(
      `You have passed a list of generators of length ${generator.length}, but requested an effective batch size of ${batch}. ` +
        'Make sure the batch size matches the length of the generators.',
    );
  }
}

/** Any float tensor as float32 (latents passed in by the caller may be float16). */
export function asFloat32(t: Tensor): Tensor<'float32'> {
  return isFloat32(t) ? t : cast(t, 'float32');
}

function isFloat32(t: Tensor): t is Tensor<'float32'> {
  return t.dtype === 'float32';
}
