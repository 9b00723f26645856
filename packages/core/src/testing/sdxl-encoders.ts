import { AutoPipelineBlocks } from '../blocks/conditional-pipeline-blocks.js';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ConfigSpec } from '../params/config-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';

// Toy versions of diffusers' SDXL encoder blocks: the names, descriptions,
// components, configs, inputs and outputs the guide shows, with arithmetic
// on the toy components instead of models.

const MODEL = 'stable-diffusion-xl';

export const guiderSpec = () =>
  new ComponentSpec('guider', 'ClassifierFreeGuidance', { config: { guidance_scale: 7.5 }, defaultCreationMethod: 'fromConfig' });

export const imageProcessorSpec = () =>
  new ComponentSpec('image_processor', 'VaeImageProcessor', { config: { vae_scale_factor: 8 }, defaultCreationMethod: 'fromConfig' });

export class StableDiffusionXLTextEncoderStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Text Encoder step that generate text_embeddings to guide the image generation';
  }

  override get expectedComponents() {
    return [
      new ComponentSpec('text_encoder', 'CLIPTextModel'),
      new ComponentSpec('text_encoder_2', 'CLIPTextModelWithProjection'),
      new ComponentSpec('tokenizer', 'CLIPTokenizer'),
      new ComponentSpec('tokenizer_2', 'CLIPTokenizer'),
      guiderSpec(),
    ];
  }

  override get expectedConfigs() {
    return [new ConfigSpec('force_zeros_for_empty_prompt', true)];
  }

  override get inputs() {
    return ['prompt', 'prompt_2', 'negative_prompt', 'negative_prompt_2', 'cross_attention_kwargs', 'clip_skip'].map((n) => new InputParam(n));
  }

  override get intermediatesOutputs() {
    const out = (name: string, description: string) =>
      new OutputParam(name, { typeHint: 'Tensor', kwargsType: 'guider_input_fields', description });
    return [
      out('prompt_embeds', 'text embeddings used to guide the image generation'),
      out('negative_prompt_embeds', 'negative text embeddings used to guide the image generation'),
      out('pooled_prompt_embeds', 'pooled text embeddings used to guide the image generation'),
      out('negative_pooled_prompt_embeds', 'negative pooled text embeddings used to guide the image generation'),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const prompt: string = bs.prompt ?? '';
    const negative: string = bs.negative_prompt ?? '';
    const zeroNegative = negative === '' && components.config.force_zeros_for_empty_prompt === true;
    bs.prompt_embeds = components.text_encoder.encode(components.tokenizer.tokenize(prompt).join(''));
    bs.pooled_prompt_embeds = components.text_encoder_2.encode(components.tokenizer_2.tokenize(bs.prompt_2 ?? prompt).join(''));
    bs.negative_prompt_embeds = zeroNegative ? 0 : components.text_encoder.encode(negative);
    bs.negative_pooled_prompt_embeds = zeroNegative ? 0 : components.text_encoder_2.encode(bs.negative_prompt_2 ?? negative);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLVaeEncoderStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Vae Encoder step that encode the input image into a latent representation';
  }

  override get expectedComponents() {
    return [new ComponentSpec('vae', 'AutoencoderKL'), imageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('image', { required: true }), new InputParam('height'), new InputParam('width')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      new InputParam('dtype', { typeHint: 'dtype', description: 'Data type of model tensor inputs' }),
      new InputParam('preprocess_kwargs', {
        typeHint: 'Optional[dict]',
        description:
          'A kwargs dictionary that if specified is passed along to the `ImageProcessor` as defined under `self.image_processor` in [diffusers.image_processor.VaeImageProcessor]',
      }),
    ];
  }

  override get intermediatesOutputs() {
    return [
      new OutputParam('image_latents', {
        typeHint: 'Tensor',
        description: 'The latents representing the reference image for image-to-image/inpainting generation',
      }),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.image_latents = components.vae.encode(components.image_processor.preprocess(bs.image));
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLIPAdapterStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return (
      'IP Adapter step that handles all the ip adapter related tasks: Load/unload ip adapter weights into unet, prepare ip adapter image embeddings, etc ' +
      'See [ModularIPAdapterMixin](https://huggingface.co/docs/diffusers/api/loaders/ip_adapter#diffusers.loaders.ModularIPAdapterMixin) for more details'
    );
  }

  override get expectedComponents() {
    return [
      new ComponentSpec('image_encoder', 'CLIPVisionModelWithProjection'),
      new ComponentSpec('feature_extractor', 'CLIPImageProcessor', { config: { size: 224, crop_size: 224 }, defaultCreationMethod: 'fromConfig' }),
      new ComponentSpec('unet', 'UNet2DConditionModel'),
      guiderSpec(),
    ];
  }

  override get inputs() {
    return [
      new InputParam('ip_adapter_image', { typeHint: 'PipelineImageInput', required: true, description: 'The image(s) to be used as ip adapter' }),
    ];
  }

  override get intermediatesOutputs() {
    return [
      new OutputParam('ip_adapter_embeds', { typeHint: 'Tensor', description: 'IP adapter image embeddings' }),
      new OutputParam('negative_ip_adapter_embeds', { typeHint: 'Tensor', description: 'Negative IP adapter image embeddings' }),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.ip_adapter_embeds = [components.image_encoder.encode(components.feature_extractor.preprocess(bs.ip_adapter_image))];
    bs.negative_ip_adapter_embeds = [0];
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLAutoIPAdapterStep extends AutoPipelineBlocks {
  static override blockClasses = [StableDiffusionXLIPAdapterStep];
  static override blockNames = ['ip_adapter'];
  static override blockTriggerInputs = ['ip_adapter_image'];

  override get description() {
    return 'Run IP Adapter step if `ip_adapter_image` is provided.';
  }
}
