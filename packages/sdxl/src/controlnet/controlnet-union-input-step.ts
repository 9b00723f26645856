/**
 * Prepares the ControlNet-Union inputs: as the plain ControlNet step, plus
 * `control_mode` (one or more control-type indices, one control image each)
 * turned into the one-hot `control_type` [batch, num_control_type] the
 * union model takes, passed to the ControlNet as `controlnet_kwargs`.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { Tensor, repeatInterleave } from '@modular-diffusers/runtime';
import { controlnetUnionComponent } from '../components/component-specs.js';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import { MODEL_NAME, requireLoaded, timestepList } from '../denoise/loop-params.js';
import { SdxlInputError } from '../errors.js';
import {
  checkControlNetInputs,
  controlImageInput,
  controlImageList,
  controlImageProcessorComponent,
  controlImageSize,
  controlNetInputs,
  controlNetIntermediates,
  controlNetOutputs,
  controlnetKeep,
  guidanceWindow,
  prepareControlImage,
} from './controlnet-inputs.js';
import { checkControlNetFitsUNet } from './controlnet-unet-check.js';

const controlNetUnionInputSpec = blockSpec({
  description: 'step that prepares inputs for the ControlNetUnion model',
  components: { controlnet: controlnetUnionComponent(), control_image_processor: controlImageProcessorComponent() },
  inputs: {
    control_image: controlImageInput(),
    // Checked by validateInputs: non-negative integers, one per control image.
    control_mode: input<number | readonly number[]>({ required: true }),
    ...controlNetInputs(),
    ...controlNetIntermediates(),
    dtype: input<Tensor['dtype']>({ required: true, typeHint: 'dtype', description: 'The dtype of model tensor inputs' }),
  },
  outputs: {
    ...controlNetOutputs(),
    control_type_idx: output<number[]>({ typeHint: 'List[int]', kwargsType: 'controlnet_kwargs', description: 'The control mode indices' }),
    control_type: output<Tensor<'float32'>>({ typeHint: 'Tensor', kwargsType: 'controlnet_kwargs', description: 'The control type tensor' }),
  },
});

export class StableDiffusionXLControlNetUnionInputStep extends TypedBlock(controlNetUnionInputSpec) {
  static override modelName = MODEL_NAME;

  override validateInputs(components: ModularPipeline, state: PipelineState): void {
    checkControlNetInputs(state);
    const modes = state.get('control_mode');
    if (modes == null) return;
    if (state.get('control_image') != null) checkControlNetFitsUNet(components);
    const list = Array.isArray(modes) ? modes : [modes];
    if (list.length === 0 || !list.every((m) => Number.isInteger(m) && m >= 0)) {
      throw new SdxlInputError(`\`control_mode\` must be a control-type index (a non-negative integer) or a list of them, got ${JSON.stringify(modes)}.`);
    }
    const images = state.get('control_image');
    const imageCount = images == null ? list.length : Array.isArray(images) ? images.length : 1;
    if (imageCount !== list.length) {
      throw new SdxlInputError(`Expected one control image per control_mode, got ${imageCount} image(s) for ${list.length} mode(s).`);
    }
  }

  override async call(components: ComponentsOf<typeof controlNetUnionInputSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const controlnet = requireLoaded(components.controlnet, 'controlnet', this.className);
    const processor = requireLoaded(components.control_image_processor, 'control_image_processor', this.className);
    const images = controlImageList(bs.control_image);
    const modes = typeof bs.control_mode === 'number' ? [bs.control_mode] : [...bs.control_mode];
    const total = bs.batch_size * bs.num_images_per_prompt;

    const numControlType = controlnet.numControlType;
    if (numControlType === null) {
      throw new ModelCapabilityError(
        `control_mode needs a ControlNet-Union model, but the loaded controlnet (${controlnet.folder}) has neither a 'control_type' input ` +
          `nor num_control_type in its config. Load a ControlNet-Union export, or leave control_mode out to use it as a plain ControlNet.`,
      );
    }
    const oneHot = new Float32Array(numControlType);
    for (const mode of modes) {
      if (mode >= numControlType) {
        throw new SdxlInputError(`control_mode ${mode} is out of range: the ControlNet-Union model knows ${numControlType} control types (0..${numControlType - 1}).`);
      }
      oneHot[mode] = 1;
    }
    bs.control_type = repeatInterleave(new Tensor('float32', oneHot, [1, numControlType]), total, 0);

    const window = guidanceWindow(bs.control_guidance_start, bs.control_guidance_end);
    bs.control_guidance_start = window.start;
    bs.control_guidance_end = window.end;
    bs.guess_mode = bs.guess_mode === true || controlnet.globalPoolConditions;
    const size = controlImageSize(components, bs.latents);
    bs.controlnet_cond = await Promise.all(
      images.map((image) =>
        prepareControlImage(processor, image, size, { batchSize: bs.batch_size, numImagesPerPrompt: bs.num_images_per_prompt }, bs.crops_coords),
      ),
    );
    bs.controlnet_keep = controlnetKeep(timestepList(bs.timesteps).length, window.start[0]!, window.end[0]!);
    bs.control_type_idx = modes;
    bs.conditioning_scale = bs.controlnet_conditioning_scale;
    this.setBlockState(state, bs);
    return [components, state];
  }
}
