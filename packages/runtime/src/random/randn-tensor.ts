/**
 * diffusers' `randn_tensor(shape, generator=...)`: with one generator (or
 * a list of one) the whole tensor is drawn at once; with a list of
 * generators, one per batch item, item i is drawn from generator i with
 * batch size 1 and the items are concatenated, so each image of a batch is
 * reproducible on its own. Without a generator a freshly seeded one is used.
 */
import { TensorShapeError, type Tensor } from '../tensor/tensor.js';
import { concat } from '../tensor/concat.js';
import { Generator, type RandomOptions } from './generator.js';

export interface RandnTensorOptions extends RandomOptions {
  generator?: Generator | readonly Generator[];
}

export function randnTensor(shape: readonly number[], options: RandnTensorOptions = {}): Tensor<'float32' | 'float16'> {
  const { generator, dtype } = options;
  if (generator === undefined) {
    const fresh = new Generator();
    fresh.seed();
    return fresh.randn(shape, { dtype });
  }
  if (!Array.isArray(generator)) return (generator as Generator).randn(shape, { dtype });
  const generators = generator as readonly Generator[];
  if (generators.length === 1) return generators[0].randn(shape, { dtype });
  const batch = shape[0];
  if (generators.length !== batch) {
    throw new TensorShapeError(
      `randnTensor: ${generators.length} generators were given for a batch of ${batch}; pass one generator per batch item, or a single generator.`,
    );
  }
  const itemShape = [1, ...shape.slice(1)];
  return concat(generators.map((g) => g.randn(itemShape, { dtype })));
}
