/** Text-to-image latents: Gaussian noise [B * n, 4, H/8, W/8] (or the given latents), scaled by the scheduler's init sigma. */
import { InputParam, OutputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { Tensor, scale, scaleInPlace } from '@modular-diffusers/runtime';
import { schedulerSpec, vaeSpec } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { defaultSampleSize, numChannelsLatents, unetDtype, vaeScaleFactor } from '../pipeline/sdxl-pipeline-properties.js';
import { asFloat32, randnLatents } from './noise.js';
import { MODEL, batchSizeInput, latentsOutput } from './params.js';
import { requireScheduler } from './set-timesteps-step.js';

export class StableDiffusionXLPrepareLatentsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Prepare latents step that prepares the latents for the text-to-image generation process';
  }

  override get expectedComponents() {
    return [schedulerSpec(), vaeSpec()];
  }

  override get inputs() {
    return [new InputParam('height'), new InputParam('width'), new InputParam('latents'), new InputParam('num_images_per_prompt', { default: 1 })];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      batchSizeInput('. Can be generated in input step.'),
      new InputParam('dtype', { typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    ];
  }

  override get intermediatesOutputs() {
    return [latentsOutput()];
  }

  override validateInputs(components: PipelineComponents, state: PipelineState): void {
    const factor = vaeScaleFactor(components);
    for (const name of ['height', 'width']) {
      const value = state.get(name);
      if (value == null) continue;
      if (!(Number.isInteger(value) && (value as number) > 0)) {
        throw new SdxlInputError(`\`${name}\` must be a whole number of pixels above 0 (a multiple of ${factor}), got ${showInputValue(value)}.`);
      }
      if ((value as number) % factor !== 0) {
        throw new SdxlInputError(`\`height\` and \`width\` have to be divisible by ${factor} but ${name} is ${String(value)}.`);
      }
    }
    const latents = state.get('latents');
    if (latents != null && !(latents instanceof Tensor && latents.rank === 4)) {
      throw new SdxlInputError('`latents` must be a [batch, 4, height / 8, width / 8] Tensor.');
    }
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const scheduler = requireScheduler(components);
    const factor = vaeScaleFactor(components);
    const height: number = bs.height ?? defaultSampleSize(components) * factor;
    const width: number = bs.width ?? defaultSampleSize(components) * factor;
    const shape = [bs.batch_size * bs.num_images_per_prompt, numChannelsLatents(components), Math.trunc(height / factor), Math.trunc(width / factor)];
    let latents: Tensor<'float32'>;
    let fresh = false;
    if (bs.latents != null) {
      latents = asFloat32(bs.latents);
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
