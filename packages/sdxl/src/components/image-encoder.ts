/**
 * The IP-Adapter image encoder (CLIPVisionModelWithProjection) as an ONNX
 * session: `pixel_values` [N, 3, 224, 224] -> `image_embeds` [N, D] (and
 * `last_hidden_state`, and in a built graph `hidden_states.<i>`, whose
 * penultimate IP-Adapter Plus reads). Its loader list also carries the from-config
 * `CLIPImageProcessor` (the `feature_extractor` component).
 */
import type { ComponentLoader, ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime';
import { CLIPImageProcessor } from '../ip-adapter/clip-image-processor.js';
import { ModelCapabilityError } from './model-capability-error.js';
import { OnnxSessionComponent } from './onnx-session-component.js';
import { openOnnxComponent } from './open-onnx-component.js';

export class CLIPVisionModelWithProjection extends OnnxSessionComponent {
  static async fromPretrained(spec: ComponentSpec, context: LoaderContext): Promise<CLIPVisionModelWithProjection> {
    const component = await openOnnxComponent(spec, context);
    return new CLIPVisionModelWithProjection(component.model, component.config, component.folder);
  }

  get dtype(): 'float32' | 'float16' {
    return this.model.input('pixel_values')?.dtype === 'float16' ? 'float16' : 'float32';
  }

  /** The square input size the export wants (config `image_size`, default 224). */
  get imageSize(): number {
    const declared = this.model.input('pixel_values')?.dims[2];
    return typeof declared === 'number' ? declared : typeof this.config.image_size === 'number' ? this.config.image_size : 224;
  }

  /** The projected image embedding [N, D] IP-Adapter consumes. */
  async encode(pixelValues: Tensor): Promise<Tensor<'float32'>> {
    if (!this.model.output('image_embeds')) {
      throw new ModelCapabilityError(
        `${this.model.path} has no 'image_embeds' output (it has ${this.model.outputNames.join(', ')}); ` +
          `load a CLIPVisionModelWithProjection export as image_encoder.`,
      );
    }
    const result = await this.model.run({ pixel_values: pixelValues }, { outputs: ['image_embeds'] });
    return result.image_embeds as Tensor<'float32'>;
  }

  /** transformers' `hidden_states[-2]` [N, S, hidden] (the last layer's input), what IP-Adapter Plus reads. */
  async encodePenultimateHiddenState(pixelValues: Tensor): Promise<Tensor<'float32'>> {
    const layers = this.model.outputNames.map((name) => /^hidden_states\.(\d+)$/.exec(name)).filter((m) => m !== null).map((m) => Number(m![1]));
    if (layers.length < 2) {
      throw new ModelCapabilityError(
        `${this.model.path} has no hidden_states.<i> outputs (it has ${this.model.outputNames.join(', ')}), which IP-Adapter Plus reads; ` +
          `load the image encoder from its safetensors (config.json + model.safetensors) so it is built with them.`,
      );
    }
    const name = `hidden_states.${Math.max(...layers) - 1}`;
    const result = await this.model.run({ pixel_values: pixelValues }, { outputs: [name] });
    return result[name] as Tensor<'float32'>;
  }
}

export const IMAGE_ENCODER_LOADERS: readonly ComponentLoader[] = [
  {
    type: 'CLIPVisionModelWithProjection',
    fromPretrained: (spec, context) => CLIPVisionModelWithProjection.fromPretrained(spec, context),
  },
  { type: 'CLIPImageProcessor', fromConfig: (config) => CLIPImageProcessor.fromConfig(config) },
];
