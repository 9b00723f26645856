/**
 * The decode step: latents unscaled (÷ scaling_factor, or through the VAE's
 * latents mean/std) and decoded, then post-processed by `output_type`:
 * 'pil' images with a `save(path)` method, 'np' [H, W, 3] and 'pt'
 * [3, H, W] float32 tensors in [0, 1], or 'latent' (no decoding). Always a
 * list with one entry per image, so `images[0]` is the first image.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { select, type Tensor } from '@modular-diffusers/runtime/tensor';
import type { PipelineImage } from '@modular-diffusers/runtime';
import { imageProcessorComponent, vaeComponent } from '../components/component-specs.js';
import { unscaleLatents } from '../encoders/encode-vae-image.js';
import { SdxlInputError } from '../errors.js';

export const OUTPUT_TYPES = ['pil', 'np', 'pt', 'latent'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** One entry per image: a savable image for 'pil', else a float32 tensor ([H, W, 3] for 'np', [3, H, W] for 'pt', latents for 'latent'). */
export type DecodedImages = PipelineImage[] | Tensor<'float32'>[];

const decodeSpec = blockSpec({
  description: 'Step that decodes the denoised latents into images',
  components: { vae: vaeComponent(), image_processor: imageProcessorComponent() },
  inputs: {
    output_type: input<OutputType>({ default: 'pil' }),
    latents: input<Tensor<'float32'>>({ required: true, typeHint: 'Tensor', description: 'The denoised latents from the denoising step' }),
  },
  outputs: {
    images: output<DecodedImages>({
      typeHint: 'Union[List[PIL.Image.Image], List[Tensor], List[np.array]]',
      description: 'The generated images, can be a PIL.Image.Image, torch.Tensor or a numpy array',
    }),
  },
});

export class StableDiffusionXLDecodeStep extends TypedBlock(decodeSpec) {
  static override modelName = 'stable-diffusion-xl';

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    const outputType = state.get('output_type');
    if (outputType != null && !isOutputType(outputType)) {
      throw new SdxlInputError(`\`output_type\` must be one of ${OUTPUT_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(outputType)}.`);
    }
  }

  override async call(components: ComponentsOf<typeof decodeSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const outputType = bs.output_type;
    const latents = bs.latents;
    if (outputType === 'latent') {
      bs.images = perItem(latents);
    } else {
      const vae = components.vae;
      if (!vae) throw new SdxlInputError("No vae is loaded to decode with; run pipeline.loadComponents(), or ask for output_type 'latent'.");
      const decoded = await vae.decode(unscaleLatents(vae, latents));
      const processor = components.image_processor;
      // Awaited: inside the plugin sandbox the processor is a proxy to the host, whose methods are async.
      bs.images = outputType === 'pil' ? await processor.postprocess(decoded, { outputType: 'pil' }) : perItem(await processor.postprocess(decoded, { outputType }));
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}

function isOutputType(value: unknown): value is OutputType {
  return OUTPUT_TYPES.some((t) => t === value);
}

function perItem(batch: Tensor<'float32'>): Tensor<'float32'>[] {
  return Array.from({ length: batch.shape[0]! }, (_, i) => select(batch, i, 0));
}
