/**
 * SDXL's VAE over its ONNX export. The real ONNX repos keep the config in
 * `vae/config.json` and the two halves in sibling folders `vae_encoder/` and
 * `vae_decoder/`; each half loads on first use, so a text-to-image pipeline
 * never opens (or downloads) the encoder, and a missing half only fails when
 * it is needed. Under a memory budget the VAE is one component: offloading
 * releases the halves it has opened, and a half opened later is announced to
 * the budget (its file size) before its session is created.
 */
import { ComponentLoadError, InvalidArgumentError, MemoryBudgetError, type OffloadableComponent, type ResidencyHook } from '@modular-diffusers/core';
import {
  Tensor,
  add,
  cast,
  concat,
  loadOnnxModel,
  mul,
  onnxModelSizeBytes,
  randnTensor,
  slice,
  type Device,
  type ExecutionProvider,
  type Generator,
  type LoadOnnxModelOptions,
  type OnnxModel,
} from '@modular-diffusers/runtime';
import { Float16OverflowError } from './float16-overflow-error.js';
import { floatDtypeOf } from './onnx-load-options.js';

/**
 * Where a VAE half lives: resolved (and downloaded, or built) only when
 * first used. A path, or a graph built from safetensors with the folder its
 * external data is read from.
 */
export type OnnxModelSource = () => Promise<string | { path: string; externalDataFolder: string }>;

export interface AutoencoderKLParts {
  encoder: OnnxModelSource | null;
  decoder: OnnxModelSource | null;
  loadOptions?: LoadOnnxModelOptions;
}

/** diffusers' `retrieve_latents` modes: draw from the latent distribution, or take its mean. */
export type LatentSampleMode = 'sample' | 'argmax';

export interface VaeEncodeOptions {
  /** One generator, or one per image (each image then draws from its own). */
  generator?: Generator | readonly Generator[] | null;
  sampleMode?: LatentSampleMode;
}

export class AutoencoderKL implements OffloadableComponent {
  private encoderModel: OnnxModel | null = null;
  private decoderModel: OnnxModel | null = null;
  private pendingEncoder: Promise<OnnxModel> | null = null;
  private pendingDecoder: Promise<OnnxModel> | null = null;
  private residencyHook: ResidencyHook | null = null;
  /** Where halves opened from now on go: the last device `ensureResident` named, else the load options'. */
  private targetDevice: Device | undefined;
  /** A half's file size while the budget makes room for it, so `sizeBytes` counts it before its session exists. */
  private incomingBytes = 0;

  constructor(
    /** vae/config.json: scaling_factor, block_out_channels, latent_channels, latents_mean/std, force_upcast. */
    readonly config: Readonly<Record<string, unknown>>,
    private readonly parts: AutoencoderKLParts,
  ) {}

  /** The multiplier between VAE latents and the latents the UNet sees (0.13025 for SDXL). */
  get scalingFactor(): number {
    const value = this.config.scaling_factor;
    return typeof value === 'number' ? value : 0.18215;
  }

  get latentChannels(): number {
    const value = this.config.latent_channels;
    return typeof value === 'number' ? value : 4;
  }

  /** 2 ** (number of blocks - 1): 8 for SDXL. */
  get scaleFactor(): number {
    const blocks = this.config.block_out_channels;
    return Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
  }

  /** Per-channel latent statistics, when the VAE config has both (SDXL base has neither). */
  get latentsMeanStd(): { mean: Tensor<'float32'>; std: Tensor<'float32'> } | null {
    const { latents_mean: mean, latents_std: std } = this.config;
    if (!Array.isArray(mean) || !Array.isArray(std)) return null;
    const shape = [1, mean.length, 1, 1];
    return { mean: Tensor.float32(mean as number[], shape), std: Tensor.float32(std as number[], [1, std.length, 1, 1]) };
  }

  /** The decoder session's float type, once loaded (float32 before). */
  get dtype(): 'float32' | 'float16' {
    return floatDtypeOf(this.decoderModel?.input('latent_sample')?.dtype);
  }

  /** Bytes of the halves opened so far (plus one being opened). */
  get sizeBytes(): number {
    return (this.encoderModel?.sizeBytes ?? 0) + (this.decoderModel?.sizeBytes ?? 0) + this.incomingBytes;
  }

  /** The provider of the decoder's session (else the encoder's); null before either is opened. */
  get provider(): ExecutionProvider | null {
    return this.decoderModel?.provider ?? this.encoderModel?.provider ?? null;
  }

  /** Whether every opened half has its session. */
  get isResident(): boolean {
    return this.openedHalves().every((m) => m.isResident);
  }

  /** Re-creates the opened halves' sessions (on `device`); halves opened later go there too. */
  async ensureResident(device?: Device): Promise<void> {
    if (device !== undefined) this.targetDevice = device;
    for (const model of this.openedHalves()) await model.ensureResident(device);
  }

  /** Releases the opened halves' sessions; they come back on `ensureResident` or their next run. */
  async offload(): Promise<void> {
    for (const model of this.openedHalves()) await model.offload();
  }

  setResidencyHook(hook: ResidencyHook | null): void {
    this.residencyHook = hook;
    for (const model of this.openedHalves()) model.setResidencyHook(hook);
  }

  get encoderLoaded(): boolean {
    return this.encoderModel !== null;
  }

  get decoderLoaded(): boolean {
    return this.decoderModel !== null;
  }

  /** Loads the decoder now rather than at the first decode (the loader does this). */
  async preloadDecoder(): Promise<void> {
    await this.decoder();
  }

  /**
   * Image [b, 3, H, W] in [-1, 1] -> latents [b, 4, H/8, W/8], not yet scaled
   * by `scalingFactor`. An export with `latent_parameters` (mean and log
   * variance) is sampled with the generator, or its mean taken for 'argmax';
   * one with `latent_sample` already did its sampling inside the graph.
   */
  async encode(sample: Tensor<'float32'>, options: VaeEncodeOptions = {}): Promise<Tensor<'float32'>> {
    const encoder = await this.encoder();
    const { generator = null, sampleMode = 'sample' } = options;
    if (Array.isArray(generator)) {
      if (generator.length !== sample.shape[0]) {
        throw new InvalidArgumentError(
          `${generator.length} generators were given for ${sample.shape[0]} images; pass one generator per image, or a single one.`,
        );
      }
      const parts: Tensor<'float32'>[] = [];
      for (let i = 0; i < generator.length; i++) {
        parts.push(await this.encodeBatch(encoder, slice(sample, i, i + 1), generator[i]!, sampleMode));
      }
      return concat(parts);
    }
    return this.encodeBatch(encoder, sample, generator as Generator | null, sampleMode);
  }

  /** Latents [b, 4, h, w] (already divided by the scaling factor) -> image [b, 3, 8h, 8w] in about [-1, 1]. */
  async decode(latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
    const decoder = await this.decoder();
    const name = decoder.outputNames[0]!;
    const out = await decoder.run({ latent_sample: latents }, { outputs: [name] });
    const image = toFloat32(out[name]!);
    if (decoder.input('latent_sample')?.dtype === 'float16' && !allFinite(image.data)) {
      throw new Float16OverflowError(
        `The float16 VAE decoder ${decoder.path} produced NaN/infinite pixels: SDXL's original VAE overflows in float16 ` +
          `(diffusers upcasts it to float32 for this reason, which an ONNX export cannot do). Load a VAE that is safe in float16, ` +
          `such as an export of madebyollin/sdxl-vae-fp16-fix ` +
          `(pipeline.loadComponents('vae', { perComponent: { vae: { repo: '<its repo>' } } })), or the float32 VAE decoder ` +
          `(vae_decoder/model.onnx, not the fp16 variant).`,
      );
    }
    return image;
  }

  async release(): Promise<void> {
    const models = [this.encoderModel, this.decoderModel];
    this.encoderModel = this.decoderModel = null;
    this.pendingEncoder = this.pendingDecoder = null;
    await Promise.all(models.map((m) => m?.release()));
  }

  private openedHalves(): OnnxModel[] {
    return [this.encoderModel, this.decoderModel].filter((m): m is OnnxModel => m !== null);
  }

  private async encodeBatch(
    encoder: OnnxModel,
    sample: Tensor<'float32'>,
    generator: Generator | null,
    sampleMode: LatentSampleMode,
  ): Promise<Tensor<'float32'>> {
    if (encoder.output('latent_parameters')) {
      const out = await encoder.run({ sample }, { outputs: ['latent_parameters'] });
      const parameters = toFloat32(out.latent_parameters!);
      const channels = parameters.shape[1]! / 2;
      const mean = slice(parameters, 0, channels, 1);
      if (sampleMode === 'argmax') return mean;
      // diffusers' DiagonalGaussianDistribution: std = exp(0.5 * clamp(logvar, -30, 20)).
      const logvar = slice(parameters, channels, 2 * channels, 1);
      const std = new Float32Array(logvar.size);
      for (let i = 0; i < std.length; i++) std[i] = Math.exp(0.5 * Math.min(20, Math.max(-30, logvar.data[i]!)));
      const noise = toFloat32(randnTensor(mean.shape, { generator: generator ?? undefined }));
      return add(mean, mul(new Tensor('float32', std, mean.shape), noise));
    }
    const name = encoder.output('latent_sample') ? 'latent_sample' : null;
    if (!name) {
      throw new ComponentLoadError(
        `${encoder.path} outputs neither 'latent_parameters' nor 'latent_sample' (it has ${encoder.outputNames.join(', ')}); load an SDXL VAE encoder export.`,
      );
    }
    const out = await encoder.run({ sample }, { outputs: [name] });
    return toFloat32(out[name]!);
  }

  private encoder(): Promise<OnnxModel> {
    if (this.encoderModel) return Promise.resolve(this.encoderModel);
    this.pendingEncoder ??= this.loadPart(this.parts.encoder, 'encoder').then((m) => (this.encoderModel = m));
    return this.pendingEncoder;
  }

  private decoder(): Promise<OnnxModel> {
    if (this.decoderModel) return Promise.resolve(this.decoderModel);
    this.pendingDecoder ??= this.loadPart(this.parts.decoder, 'decoder').then((m) => (this.decoderModel = m));
    return this.pendingDecoder;
  }

  private async loadPart(source: OnnxModelSource | null, half: 'encoder' | 'decoder'): Promise<OnnxModel> {
    if (!source) {
      throw new ComponentLoadError(
        `This AutoencoderKL has no ${half}: load one whose repo has a vae_${half}/ folder (image-to-image and inpainting need the encoder).`,
      );
    }
    try {
      const located = await source();
      const path = typeof located === 'string' ? located : located.path;
      const externalDataFolder = typeof located === 'string' ? undefined : located.externalDataFolder;
      if (this.residencyHook) {
        // Let a memory budget make room for the new half before its session exists.
        this.incomingBytes = await onnxModelSizeBytes(path, externalDataFolder);
        try {
          await this.residencyHook();
        } finally {
          this.incomingBytes = 0;
        }
      }
      const device = this.targetDevice ?? this.parts.loadOptions?.device;
      const model = await loadOnnxModel(path, { ...this.parts.loadOptions, ...(device ? { device } : {}), ...(externalDataFolder ? { externalDataFolder } : {}) });
      model.setResidencyHook(this.residencyHook);
      return model;
    } catch (error) {
      if (half === 'encoder') this.pendingEncoder = null;
      else this.pendingDecoder = null;
      if (error instanceof MemoryBudgetError) throw error;
      throw new ComponentLoadError(`Could not load the VAE ${half}: ${(error as Error).message}`, undefined, { cause: error });
    }
  }
}

function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

function toFloat32(t: Tensor): Tensor<'float32'> {
  return cast(t, 'float32');
}
