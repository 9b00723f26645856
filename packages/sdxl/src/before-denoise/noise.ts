/** Fresh latent noise as diffusers draws it: in the model's dtype (fp16 noise for an fp16 UNet), held as float32. */
import { InvalidArgumentError } from '@modular-diffusers/core';
import { Generator, Tensor, cast, randnTensor } from '@modular-diffusers/runtime';
import { SdxlInputError } from '../errors.js';

export type GeneratorInput = Generator | readonly Generator[] | null | undefined;

export function randnLatents(shape: readonly number[], generator: GeneratorInput, dtype: 'float32' | 'float16' = 'float32'): Tensor<'float32'> {
  checkGenerators(generator, shape[0]!);
  const noise = randnTensor(shape, { generator: generator ?? undefined, dtype });
  return cast(noise, 'float32');
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

