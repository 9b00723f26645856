/**
 * The decode step: latents unscaled (÷ scaling_factor, or through the VAE's
 * latents mean/std) and decoded, then post-processed by `output_type`:
 * 'pil' images with a `save(path)` method, 'np' [H, W, 3] and 'pt'
 * [3, H, W] float32 tensors in [0, 1], or 'latent' (no decoding). Always a
 * list with one entry per image, so `images[0]` is the first image.
 */
import { InputParam, OutputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { select, type Tensor } from '@modular-diffusers/runtime/tensor';
import type { VaeImageProcessor } from '@modular-diffusers/runtime';
import type { AutoencoderKL } from '../components/autoencoder-kl.js';
import { imageProcessorSpec, vaeSpec } from '../components/component-specs.js';
import { unscaleLatents } from '../encoders/encode-vae-image.js';
import { SdxlInputError } from '../errors.js';

export const OUTPUT_TYPES = ['pil', 'np', 'pt', 'latent'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

export class StableDiffusionXLDecodeStep extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return 'Step that decodes the denoised latents into images';
  }

  override get expectedComponents() {
    return [vaeSpec(), imageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('output_type', { default: 'pil' })];
  }

  override get intermediatesInputs() {
    return [new InputParam('latents', { required: true, typeHint: 'Tensor', description: 'The denoised latents from the denoising step' })];
  }

  override get intermediatesOutputs() {
    return [
      new OutputParam('images', {
        typeHint: 'Union[List[PIL.Image.Image], List[Tensor], List[np.array]]',
        description: 'The generated images, can be a PIL.Image.Image, torch.Tensor or a numpy array',
      }),
    ];
  }

  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    const outputType = state.get('output_type');
    if (outputType != null && !OUTPUT_TYPES.includes(outputType as OutputType)) {
      throw new SdxlInputError(`\`output_type\` must be one of ${OUTPUT_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(outputType)}.`);
    }
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const outputType: OutputType = bs.output_type ?? 'pil';
    const latents = bs.latents as Tensor<'float32'>;
    if (outputType === 'latent') {
      bs.images = perItem(latents);
    } else {
      const vae = components.vae as AutoencoderKL | null;
      if (!vae) throw new SdxlInputError("No vae is loaded to decode with; run pipeline.loadComponents(), or ask for output_type 'latent'.");
      const decoded = await vae.decode(unscaleLatents(vae, latents));
      const processor = components.image_processor as VaeImageProcessor;
      // Awaited: inside the plugin sandbox the processor is a proxy to the host, whose methods are async.
      bs.images = outputType === 'pil' ? await processor.postprocess(decoded, { outputType: 'pil' }) : perItem(await processor.postprocess(decoded, { outputType }));
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}

function perItem(batch: Tensor<'float32'>): Tensor<'float32'>[] {
  return Array.from({ length: batch.shape[0]! }, (_, i) => select(batch, i, 0));
}
