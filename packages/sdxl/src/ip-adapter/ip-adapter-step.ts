/**
 * Encodes the IP-Adapter image: CLIP preprocessing (feature_extractor),
 * the image encoder's projected embedding, shaped [1, 1, D] per adapter as
 * diffusers keeps it (a list, one entry per adapter); for IP-Adapter Plus
 * (a UNet whose `image_embeds` is [N, n, S, D]) the encoder's penultimate
 * hidden states [1, 1, S, D]. The unconditional embedding (zeros, or the
 * hidden states of zero pixel values for Plus, as diffusers makes them) is
 * made only when the guider runs more than one condition. The UNet must take image embeddings (built with
 * an IP-Adapter by `pipeline.loader.loadIpAdapter(...)`, or an IP-Adapter
 * export); that is checked before encoding.
 */
import { TypedBlock, blockSpec, component, componentSpecOf, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { Tensor, isRgbImage } from '@modular-diffusers/runtime';
import { guiderComponent, imageEncoderComponent, unetComponent } from '../components/component-specs.js';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import { MODEL_NAME, requireLoaded } from '../denoise/loop-params.js';
import { SdxlInputError } from '../errors.js';
import type { CLIPImageProcessor, ClipImageInput } from './clip-image-processor.js';

/** The kwargs tag the denoiser collects its guided inputs by. */
const GUIDER_FIELDS = 'guider_input_fields';

/** Created from its config, so it exists from the start. */
export const featureExtractorComponent = () =>
  component<CLIPImageProcessor>('CLIPImageProcessor', { config: { size: 224, crop_size: 224 }, defaultCreationMethod: 'fromConfig' });

export const featureExtractorSpec = () => componentSpecOf('feature_extractor', featureExtractorComponent());

/** One embedding per adapter, as diffusers keeps them (the negative one is null without guidance). */
type AdapterEmbeds = Tensor<'float32'>[];

const ipAdapterSpec = blockSpec({
  description:
    'IP Adapter step that handles all the ip adapter related tasks: Load/unload ip adapter weights into unet, prepare ip adapter image embeddings, etc ' +
    'See [ModularIPAdapterMixin](https://huggingface.co/docs/diffusers/api/loaders/ip_adapter#diffusers.loaders.ModularIPAdapterMixin) for more details',
  components: { image_encoder: imageEncoderComponent(), feature_extractor: featureExtractorComponent(), unet: unetComponent(), guider: guiderComponent() },
  // An image, a list of one, or CLIP pixel_values: adapterImage() checks which.
  inputs: { ip_adapter_image: input<ClipImageInput | readonly ClipImageInput[]>({ typeHint: 'PipelineImageInput', required: true, description: 'The image(s) to be used as ip adapter' }) },
  // Tagged for the denoiser too, so the embeddings reach it even in a pipeline without the input step.
  outputs: {
    ip_adapter_embeds: output<AdapterEmbeds>({ typeHint: 'Tensor', kwargsType: GUIDER_FIELDS, description: 'IP adapter image embeddings' }),
    negative_ip_adapter_embeds: output<AdapterEmbeds | null>({ typeHint: 'Tensor', kwargsType: GUIDER_FIELDS, description: 'Negative IP adapter image embeddings' }),
  },
});

export class StableDiffusionXLIPAdapterStep extends TypedBlock(ipAdapterSpec) {
  static override modelName = MODEL_NAME;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    const image = state.get('ip_adapter_image');
    if (image == null) return;
    adapterImage(image);
  }

  override async call(components: ComponentsOf<typeof ipAdapterSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const unet = requireLoaded(components.unet, 'unet', this.className);
    if (!unet.acceptsImageEmbeds) {
      throw new ModelCapabilityError(
        `ip_adapter_image was given but the loaded UNet takes no image embeddings. Load an IP-Adapter first: ` +
          `pipeline.loader.loadIpAdapter('h94/IP-Adapter', { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' }) ` +
          `(it builds the adapter into the UNet and loads its image_encoder).`,
      );
    }
    const encoder = requireLoaded(components.image_encoder, 'image_encoder', this.className);
    const extractor = requireLoaded(components.feature_extractor, 'feature_extractor', this.className);
    const guider = requireLoaded(components.guider, 'guider', this.className);

    const pixels = await extractor.preprocess(adapterImage(bs.ip_adapter_image));
    if (unet.ipAdapterImageInput === 'hidden_states') {
      // IP-Adapter Plus (diffusers' encode_image with output_hidden_states): the penultimate hidden
      // states, and for the unconditional batch those of an all-zero pixel_values.
      const states = await encoder.encodePenultimateHiddenState(pixels);
      const perImage = (t: Tensor<'float32'>) => t.reshape([1, ...t.shape]);
      bs.ip_adapter_embeds = [perImage(states)];
      bs.negative_ip_adapter_embeds = guider.numConditions > 1 ? [perImage(await encoder.encodePenultimateHiddenState(Tensor.zeros('float32', pixels.shape)))] : null;
    } else {
      const embeds = await encoder.encode(pixels);
      const perAdapter = embeds.reshape([1, embeds.shape[0]!, embeds.shape[1]!]);
      bs.ip_adapter_embeds = [perAdapter];
      bs.negative_ip_adapter_embeds = guider.numConditions > 1 ? [Tensor.zeros('float32', perAdapter.shape)] : null;
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The one adapter's image: an image, a list of one, or CLIP pixel_values [1, 3, 224, 224]. */
function adapterImage(value: unknown): ClipImageInput {
  const list = Array.isArray(value) ? value : [value];
  if (list.length !== 1) {
    throw new SdxlInputError(
      `\`ip_adapter_image\` must hold one image per IP-Adapter, and one adapter is loaded; got ${list.length} images.`,
    );
  }
  const image = list[0];
  if (isRgbImage(image)) return image;
  if (image instanceof Tensor && image.rank === 4 && image.shape[0] === 1) return image;
  throw new SdxlInputError(
    '`ip_adapter_image` must be an RgbImage (load files with loadImage()) or CLIP pixel_values as a float32 Tensor [1, 3, 224, 224].',
  );
}
