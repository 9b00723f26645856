/**
 * What an SDXL pipeline's `run({ output })` resolves to, by output name, so
 * `await pipeline({ prompt, output: 'images' })` is typed without a cast:
 * images with `save(path)` by default, tensors for `output_type: 'np' | 'pt' | 'latent'`.
 */
import type { PipelineImage } from '@modular-diffusers/runtime';
import type { Tensor } from '@modular-diffusers/runtime/tensor';

/** `images` for a run given `inputs`: PipelineImage[] unless `output_type` asks for tensors; both when unknown. */
export type SdxlImagesFor<Inputs> = Inputs extends { readonly output_type: infer T }
  ? [T] extends ['pil']
    ? PipelineImage[]
    : 'pil' extends T
      ? PipelineImage[] | Tensor<'float32'>[]
      : Tensor<'float32'>[]
  : PipelineImage[];

export interface SdxlPipelineOutputs {
  /** Type-level only: the run's inputs, which the output types below read. */
  readonly '~inputs'?: unknown;
  /** The decode step's images, one entry per image. */
  readonly images: SdxlImagesFor<NonNullable<this['~inputs']>>;
  /** The denoised latents, [batch, 4, H/8, W/8]. */
  readonly latents: Tensor<'float32'>;
}
