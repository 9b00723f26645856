/** Text-to-image latents: Gaussian noise [B * n, 4, H/8, W/8] (or the given latents), scaled by the scheduler's init sigma. */
import { TypedBlock, blockSpec, input, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { Tensor, cast, scale, scaleInPlace } from '@modular-diffusers/runtime';
import { schedulerComponent, vaeComponent } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { defaultSampleSize, numChannelsLatents, unetDtype, vaeScaleFactor } from '../pipeline/sdxl-pipeline-properties.js';
import { randnLatents } from './noise.js';
import { MODEL, batchSizeInput, generatorInput, latentsOutput, numImagesPerPromptInput, type ModelDType } from './params.js';
import { requireScheduler } from './set-timesteps-step.js';

const prepareLatentsSpec = blockSpec({
  description: 'Prepare latents step that prepares the latents for the text-to-image generation process',
  components: { scheduler: schedulerComponent(), vae: vaeComponent() },
  inputs: {
    height: input<number | null>(),
    width: input<number | null>(),
    latents: input<Tensor | null>(),
    num_images_per_prompt: numImagesPerPromptInput(),
    generator: generatorInput(),
    batch_size: batchSizeInput('. Can be generated in input step.'),
    dtype: input<ModelDType | null>({ typeHint: 'dtype', description: 'The dtype of the model inputs' }),
  },
  outputs: { latents: latentsOutput() },
});

export class StableDiffusionXLPrepareLatentsStep extends TypedBlock(prepareLatentsSpec) {
  static override modelName = MODEL;

  override validateInputs(components: ModularPipeline, state: PipelineState): void {
    const factor = vaeScaleFactor(components);
    for (const name of ['height', 'width']) {
      const value = state.get(name);
      if (value == null) continue;
      if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
        throw new SdxlInputError(`\`${name}\` must be a whole number of pixels above 0 (a multiple of ${factor}), got ${showInputValue(value)}.`);
      }
      if (value % factor !== 0) {
        throw new SdxlInputError(`\`height\` and \`width\` have to be divisible by ${factor} but ${name} is ${String(value)}.`);
      }
    }
    const latents = state.get('latents');
    if (latents != null && !(latents instanceof Tensor && latents.rank === 4)) {
      throw new SdxlInputError('`latents` must be a [batch, 4, height / 8, width / 8] Tensor.');
    }
  }

  override async call(components: ComponentsOf<typeof prepareLatentsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const scheduler = requireScheduler(components);
    const factor = vaeScaleFactor(components);
    const height = bs.height ?? defaultSampleSize(components) * factor;
    const width = bs.width ?? defaultSampleSize(components) * factor;
    const shape = [bs.batch_size * bs.num_images_per_prompt, numChannelsLatents(components), Math.trunc(height / factor), Math.trunc(width / factor)];
    let latents: Tensor<'float32'>;
    let fresh = false;
    if (bs.latents != null) {
      latents = cast(bs.latents, 'float32');
      if (latents.shape.join() !== shape.join()) {
        throw new SdxlInputError(`\`latents\` has shape [${latents.shape.join(', ')}], but this run needs [${shape.join(', ')}].`);
      }
    } else {
      latents = randnLatents(shape, bs.generator, bs.dtype ?? unetDtype(components));
      fresh = true;
    }
    // Noise drawn here is ours to scale in place; the caller's latents are left as they were given.
    bs.latents = fresh ? scaleInPlace(latents, scheduler.initNoiseSigma) : scale(latents, scheduler.initNoiseSigma);
    this.setBlockState(state, bs);
    return [components, state];
  }
}
