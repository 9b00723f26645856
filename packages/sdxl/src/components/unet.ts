/**
 * The SDXL UNet as an ONNX session (Optimum's export: `sample`, `timestep`,
 * `encoder_hidden_states`, `text_embeds`, `time_ids` -> `out_sample`).
 * It feeds what the session declares: ControlNet residuals
 * (`down_block_additional_residual_<i>`, `mid_block_additional_residual`)
 * and IP-Adapter inputs (`image_embeds`, `ip_adapter_scale`) when the
 * export has them. Inputs the export declares but the caller leaves out are
 * fed neutrally: zero residuals, and zero image embeddings at scale 0, so a
 * ControlNet- or IP-Adapter-capable export without those inputs predicts
 * what the plain UNet does.
 *
 * A UNet built from safetensors gets ControlNet residual inputs by itself:
 * the first call that passes residuals rebuilds it with them (from the
 * built-graph cache after the first time) and swaps the session; so does an
 * ONNX export without them that modelSource 'auto' picked, from the diffusers
 * weights beside it (stabilityai's layout). This is done
 * here rather than by the pipeline when a ControlNet loads because only the
 * UNet knows whether it was built (an ONNX export's inputs are fixed) and it
 * keeps every way of running a ControlNet working (the blocks, a custom loop,
 * a ControlNet loaded after the UNet or swapped with updateComponents); the
 * graph with residual inputs runs a plain text2img as before (zero residuals),
 * so it can stay in place once built.
 */
import { InvalidArgumentError, type ComponentLoader, type ComponentSpec, type LoaderContext, type Logger } from '@modular-diffusers/core';
import { Tensor, type OnnxModel, type OnnxValueInfo } from '@modular-diffusers/runtime';
import { ModelCapabilityError } from './model-capability-error.js';
import { OnnxSessionComponent } from './onnx-session-component.js';
import { configNumber, openOnnxComponent, type RebuildRequest } from './open-onnx-component.js';
import { builtModelOverride, builtModelRecipe, openRebuilt } from './built-model-recipes.js';

/** One UNet evaluation on a batch of N rows. */
export interface UNetCall {
  /** Scaled latents [N, C, h, w] (C = 4, or 9 for an inpainting UNet). */
  sample: Tensor;
  timestep: number;
  /** [N, 77, 2048] */
  encoderHiddenStates: Tensor;
  /** Pooled text embedding [N, 1280]. */
  textEmbeds: Tensor;
  /** [N, 6] (or 5 with aesthetic scores). */
  timeIds: Tensor;
  /** LCM guidance embedding, for exports that declare `timestep_cond`. */
  timestepCond?: Tensor | null;
  /** ControlNet down-block residuals in block order. */
  downBlockAdditionalResiduals?: readonly Tensor[] | null;
  midBlockAdditionalResidual?: Tensor | null;
  /** IP-Adapter image embeddings [N, 1, D] (or [N, D]); for IP-Adapter Plus the encoder's hidden states [N, 1, S, D]. */
  imageEmbeds?: Tensor | null;
  /** Overrides `ipAdapterScale` for this call. */
  ipAdapterScale?: number;
}

const DOWN_RESIDUAL = /^down_block_additional_residuals?[._]?(\d+)$/;
const MID_RESIDUAL = 'mid_block_additional_residual';
const IMAGE_EMBEDS = 'image_embeds';
const IP_ADAPTER_SCALE = 'ip_adapter_scale';

/** Rebuilds a UNet built from safetensors with more inputs (see openOnnxComponent's `rebuild`). */
export interface UNetRebuilder {
  rebuild(request: RebuildRequest): Promise<OnnxModel | null>;
  readonly logger: Logger;
  /** The UNet runs an ONNX export (the rebuild takes the diffusers weights beside it). */
  readonly fromExport: boolean;
}

export class UNet2DConditionModel extends OnnxSessionComponent {
  /** Strength of the IP-Adapter image conditioning (`pipeline.loader.setIpAdapterScale`). */
  ipAdapterScale = 1;
  #rebuilder: UNetRebuilder | null = null;
  #residualsRebuild: Promise<void> | null = null;
  /** Per cross-attention layer scales (diffusers' per-block scales, expanded), or null for `ipAdapterScale` everywhere. */
  ipAdapterLayerScales: readonly number[] | null = null;
  /**
   * The cross-attention layers of a UNet built with an IP-Adapter, in the order of its
   * `ip_adapter_scale` input (diffusers' attn_processors order); null for an ONNX export.
   */
  ipAdapterLayers: readonly string[] | null = null;

  /** Loads `<repo>/<subfolder>/model.onnx` (the registry's loader for 'UNet2DConditionModel'). */
  static async fromPretrained(spec: ComponentSpec, context: LoaderContext): Promise<UNet2DConditionModel> {
    const component = await openOnnxComponent(spec, context);
    const unet = new UNet2DConditionModel(component.model, component.config, component.folder);
    if (component.rebuild) unet.#rebuilder = { rebuild: component.rebuild, logger: context.logger, fromExport: component.chosen.kind === 'onnx' };
    return unet;
  }

  /**
   * Whether this UNet can be rebuilt with adapter inputs: it was built from safetensors, or it is
   * an ONNX export picked by modelSource 'auto' whose folder may hold the diffusers weights too.
   */
  get rebuildable(): boolean {
    return this.#rebuilder !== null || builtModelRecipe(this.model) !== undefined;
  }

  /**
   * Makes the session take ControlNet residuals (a no-op when it already
   * does): a built UNet, or an 'auto'-picked export with diffusers weights
   * beside it, is rebuilt with `controlNetResiduals`; any other export is
   * refused with what to load instead.
   */
  async enableControlNetResiduals(): Promise<void> {
    if (this.acceptsControlNetResiduals) return;
    const rebuilder = this.#rebuilder;
    if (!this.rebuildable) throw this.noResidualInputsError();
    this.#residualsRebuild ??= (async () => {
      const before = this.model.provider;
      // The old session goes before the new one opens, so memory never holds two UNets; should
      // the open fail, the old one comes back by itself at its next run.
      const next = await this.rebuildWithResiduals(rebuilder);
      if (!next) throw this.noResidualInputsError();
      if (next.provider !== before) await next.ensureResident(before);
      await this.replaceModel(next);
      rebuilder?.logger.info(
        `unet: rebuilt with ControlNet residual inputs for the ControlNet that runs with it, from ${rebuilder.fromExport ? `the diffusers weights beside the ONNX export (which has none)` : 'its diffusers weights'} in ${this.folder}.`,
      );
    })().finally(() => {
      this.#residualsRebuild = null;
    });
    await this.#residualsRebuild;
  }

  /**
   * A graph built here is rebuilt from its own recipe, so whatever else it was built with stays:
   * fused LoRA weights, IP-Adapter layers. An 'auto'-picked export has no recipe (and no fused
   * weights): it is built from the diffusers weights beside it.
   */
  private async rebuildWithResiduals(rebuilder: UNetRebuilder | null): Promise<OnnxModel | null> {
    const beforeOpen = () => this.model.offload();
    const recipe = builtModelRecipe(this.model);
    if (!recipe) return rebuilder ? rebuilder.rebuild({ unet: { controlNetResiduals: true }, beforeOpen }) : null;
    const withResiduals = { ...recipe, buildOptions: { ...recipe.buildOptions, unet: { ...recipe.buildOptions.unet, controlNetResiduals: true } } };
    const { model } = await openRebuilt(withResiduals, builtModelOverride(this.model), undefined, beforeOpen);
    return model;
  }

  /** The element type of `sample`: what the export computes in. */
  get dtype(): 'float32' | 'float16' {
    return this.model.input('sample')?.dtype === 'float16' ? 'float16' : 'float32';
  }

  /** Latent channels the UNet takes: 4, or 9 for inpainting UNets (latents + mask + masked image latents). */
  get inChannels(): number {
    const declared = this.model.input('sample')?.dims[1];
    return configNumber(this.config, 'in_channels') ?? (typeof declared === 'number' ? declared : 4);
  }

  get timeCondProjDim(): number | null {
    return configNumber(this.config, 'time_cond_proj_dim') ?? null;
  }

  /** The export's ControlNet residual inputs, down blocks in order. */
  get downResidualInputs(): OnnxValueInfo[] {
    return this.model.inputs
      .filter((i) => DOWN_RESIDUAL.test(i.name))
      .sort((a, b) => Number(DOWN_RESIDUAL.exec(a.name)![1]) - Number(DOWN_RESIDUAL.exec(b.name)![1]));
  }

  get acceptsControlNetResiduals(): boolean {
    return this.downResidualInputs.length > 0 || this.model.input(MID_RESIDUAL) !== undefined;
  }

  get acceptsImageEmbeds(): boolean {
    return this.model.input(IMAGE_EMBEDS) !== undefined;
  }

  /**
   * What the IP-Adapter reads from the image encoder: 'image_embeds' (its projected embedding,
   * `image_embeds` input [N, n, D]) or 'hidden_states' (its penultimate hidden states, input
   * [N, n, S, D]: IP-Adapter Plus's Resampler); null without an IP-Adapter.
   */
  get ipAdapterImageInput(): 'image_embeds' | 'hidden_states' | null {
    const info = this.model.input(IMAGE_EMBEDS);
    return info ? (info.dims.length === 4 ? 'hidden_states' : 'image_embeds') : null;
  }

  /** The noise prediction `out_sample` [N, 4, h, w], float32. */
  async predict(call: UNetCall): Promise<Tensor<'float32'>> {
    // Before any feed is made: the rebuilt session may declare other input types (a float timestep).
    if ((call.downBlockAdditionalResiduals || call.midBlockAdditionalResidual) && !this.acceptsControlNetResiduals && this.rebuildable) {
      await this.enableControlNetResiduals();
    }
    const rows = call.sample.shape[0]!;
    const feeds: Record<string, Tensor> = {
      sample: call.sample,
      timestep: this.timestepTensor(call.timestep, rows),
      encoder_hidden_states: call.encoderHiddenStates,
      text_embeds: call.textEmbeds,
      time_ids: call.timeIds,
    };
    if (call.timestepCond && this.model.input('timestep_cond')) feeds.timestep_cond = call.timestepCond;
    this.addResiduals(feeds, call);
    this.addImageEmbeds(feeds, call);
    checkRows(feeds, rows, this.model.path);
    const outputName = this.model.output('out_sample') ? 'out_sample' : this.model.outputNames[0]!;
    const result = await this.model.run(feeds, { outputs: [outputName] });
    return result[outputName] as Tensor<'float32'>;
  }

  private timestepTensor(t: number, rows: number): Tensor {
    const info = this.model.input('timestep');
    // Optimum exports one timestep per batch row ('steps'); a fixed size wins when declared.
    const declared = info?.dims[0];
    const length = info && info.dims.length === 0 ? 1 : typeof declared === 'number' ? declared : rows;
    const shape = info && info.dims.length === 0 ? [] : [length];
    if (info?.dtype === 'int64') return new Tensor('int64', new BigInt64Array(length).fill(BigInt(Math.round(t))), shape);
    if (info?.dtype === 'int32') return new Tensor('int32', new Int32Array(length).fill(Math.round(t)), shape);
    return new Tensor('float32', new Float32Array(length).fill(t), shape);
  }

  private addResiduals(feeds: Record<string, Tensor>, call: UNetCall): void {
    const down = call.downBlockAdditionalResiduals ?? null;
    const mid = call.midBlockAdditionalResidual ?? null;
    const downInputs = this.downResidualInputs;
    const midInput = this.model.input(MID_RESIDUAL);
    if ((down || mid) && !this.acceptsControlNetResiduals) throw this.noResidualInputsError();
    if (!this.acceptsControlNetResiduals) return;
    if (down && down.length !== downInputs.length) {
      throw new ModelCapabilityError(
        `The ControlNet produced ${down.length} down-block residuals but the UNet export ${this.model.path} takes ${downInputs.length} ` +
          `(${downInputs.map((i) => i.name).join(', ')}); load a ControlNet and a UNet exported for the same architecture.`,
      );
    }
    const zeros = down && mid ? null : this.zeroResidualShapes(call.sample.shape);
    downInputs.forEach((info, i) => {
      feeds[info.name] = down?.[i] ?? Tensor.zeros('float32', zeros!.down[i]!);
    });
    if (midInput) feeds[MID_RESIDUAL] = mid ?? Tensor.zeros('float32', zeros!.mid);
  }

  private noResidualInputsError(): ModelCapabilityError {
    return new ModelCapabilityError(
      `The loaded UNet export (${this.model.path}) has no ControlNet residual inputs (down_block_additional_residual_<i>, ` +
        `${MID_RESIDUAL}), so ControlNet cannot steer it. Load a UNet exported with them, e.g. ` +
        `pipeline.loadComponents('unet', { subfolder: 'unet_controlnet' }) for a repo laid out like the tiny SDXL repo, ` +
        `or the UNet's diffusers weights (modelSource: 'safetensors'), which are built with residual inputs when a ControlNet runs.`,
    );
  }

  private addImageEmbeds(feeds: Record<string, Tensor>, call: UNetCall): void {
    const embeds = call.imageEmbeds ?? null;
    const info = this.model.input(IMAGE_EMBEDS);
    if (embeds && !info) {
      throw new ModelCapabilityError(
        `The loaded UNet export (${this.model.path}) has no '${IMAGE_EMBEDS}' input, so IP-Adapter embeddings cannot reach it. ` +
          `Load an IP-Adapter first: pipeline.loader.loadIpAdapter('h94/IP-Adapter', { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' }) ` +
          `rebuilds the UNet with it (or, without weightName, swaps in an IP-Adapter UNet export from '<repo>/unet_ip_adapter').`,
      );
    }
    if (!info) return;
    const rows = call.sample.shape[0]!;
    let scale = call.ipAdapterScale ?? this.ipAdapterScale;
    let value: Tensor;
    if (embeds) {
      value = embeds.rank === 2 && info.dims.length === 3 ? embeds.reshape([embeds.shape[0]!, 1, embeds.shape[1]!]) : embeds;
    } else {
      // No adapter image this run: zero embeddings at scale 0 leave the UNet's own prediction.
      value = Tensor.zeros('float32', info.dims.map((d, i) => (i === 0 ? rows : typeof d === 'number' ? d : 1)));
      scale = 0;
    }
    feeds[IMAGE_EMBEDS] = value;
    const scaleInfo = this.model.input(IP_ADAPTER_SCALE);
    if (scaleInfo) {
      // One scale per cross-attention layer when the graph takes [L] (a built UNet), else the one an export takes.
      const length = typeof scaleInfo.dims[0] === 'number' ? scaleInfo.dims[0] : 1;
      const perLayer = embeds && call.ipAdapterScale === undefined ? this.ipAdapterLayerScales : null;
      const values = perLayer && perLayer.length === length ? Float32Array.from(perLayer) : new Float32Array(length).fill(scale);
      feeds[IP_ADAPTER_SCALE] = new Tensor('float32', values, [length]);
    }
  }

  /**
   * Shapes of neutral residuals for a sample [N, C, h, w]. Channel and
   * spatial sizes the export fixes are taken as declared; a symbolic
   * spatial size named like `height_4` is h / 4; otherwise the diffusers
   * layout from the config (conv_in, then per down block `layers_per_block`
   * resnets and a downsampler except after the last) is used when it has
   * as many residuals as the export.
   */
  private zeroResidualShapes(sample: readonly number[]): { down: number[][]; mid: number[] } {
    const [n, , h, w] = sample as [number, number, number, number];
    const downInputs = this.downResidualInputs;
    const layout = diffusersResidualLayout(this.config);
    const useLayout = layout !== null && layout.down.length === downInputs.length;
    const shapeOf = (info: OnnxValueInfo | undefined, fallback: { channels: number; factor: number } | undefined): number[] => {
      const dims = info?.dims ?? [];
      const channels = typeof dims[1] === 'number' ? dims[1] : fallback?.channels;
      const height = spatial(dims[2], h, fallback?.factor);
      const width = spatial(dims[3], w, fallback?.factor);
      if (channels === undefined || height === undefined || width === undefined) {
        throw new ModelCapabilityError(
          `Cannot tell the shape of ControlNet residual '${info?.name}' of ${this.model.path} (declared [${dims.join(', ')}]); ` +
            `run it with a ControlNet, or load the plain UNet export for runs without one.`,
        );
      }
      return [n, channels, height, width];
    };
    return {
      down: downInputs.map((info, i) => shapeOf(info, useLayout ? layout.down[i] : undefined)),
      mid: shapeOf(this.model.input(MID_RESIDUAL), layout?.mid),
    };
  }
}

function spatial(dim: number | string | undefined, size: number, factor: number | undefined): number | undefined {
  if (typeof dim === 'number') return dim;
  const named = typeof dim === 'string' ? /_(\d+)$/.exec(dim) : null;
  if (named) return size / Number(named[1]);
  if (factor !== undefined) return size / factor;
  return typeof dim === 'string' ? size : undefined;
}

/** diffusers' UNet down path: which channels and downscale each residual has. */
function diffusersResidualLayout(
  config: Readonly<Record<string, unknown>>,
): { down: Array<{ channels: number; factor: number }>; mid: { channels: number; factor: number } } | null {
  const channels = config.block_out_channels;
  const layers = configNumber(config, 'layers_per_block');
  if (!Array.isArray(channels) || channels.length === 0 || layers === undefined) return null;
  const down: Array<{ channels: number; factor: number }> = [{ channels: channels[0] as number, factor: 1 }];
  let factor = 1;
  channels.forEach((c, block) => {
    for (let k = 0; k < layers; k++) down.push({ channels: c as number, factor });
    if (block < channels.length - 1) {
      factor *= 2;
      down.push({ channels: c as number, factor });
    }
  });
  return { down, mid: { channels: channels[channels.length - 1] as number, factor } };
}

function checkRows(feeds: Record<string, Tensor>, rows: number, path: string): void {
  for (const [name, tensor] of Object.entries(feeds)) {
    if (name === 'timestep' || name === IP_ADAPTER_SCALE || tensor.rank === 0) continue;
    if (tensor.shape[0] !== rows) {
      throw new InvalidArgumentError(
        `UNet input '${name}' has ${tensor.shape[0]} batch rows but the sample has ${rows} (${path}); ` +
          `every UNet input must be expanded to the same batch (batch_size x num_images_per_prompt x guidance conditions).`,
      );
    }
  }
}

/** Loaders for the ComponentLoaderRegistry (registered by `registerSdxlComponentLoaders`). */
export const UNET_LOADERS: readonly ComponentLoader[] = [
  { type: 'UNet2DConditionModel', fromPretrained: (spec, context) => UNet2DConditionModel.fromPretrained(spec, context) },
];
