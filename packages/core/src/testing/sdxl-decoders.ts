import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { imageProcessorSpec } from './sdxl-encoders.js';

export class StableDiffusionXLDecodeStep extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return 'Step that decodes the denoised latents into images';
  }

  override get expectedComponents() {
    return [new ComponentSpec('vae', 'AutoencoderKL'), imageProcessorSpec()];
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

  /** `output_type: 'latent'` returns the latents themselves, anything else decodes them. */
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.images = [bs.output_type === 'latent' ? bs.latents : components.vae.decode(bs.latents)];
    this.setBlockState(state, bs);
    return [components, state];
  }
}
