/**
 * The pipeline class for SDXL blocks (diffusers' StableDiffusionXLModularPipeline):
 * a ModularPipeline that also knows the SDXL values blocks ask for — the
 * default image size, the VAE scale factor, the latent and UNet channels —
 * from the loaded configs, and whose `loader` can load an IP-Adapter.
 * Registered for the model name 'stable-diffusion-xl', so
 * `blocks.initPipeline(...)` builds it for any SDXL blocks.
 */
import {
  ComponentLoadError,
  getDefaultBlocksClass,
  getDefaultRepoResolver,
  InvalidArgumentError,
  ModularPipeline,
  PipelineLoader,
  type CallablePipeline,
  type RepoResolver,
  type FuseLoraOptions,
  type LoadLoraWeightsOptions,
  type UnfuseLoraOptions,
} from '@modular-diffusers/core';
import type { IpAdapterBlockScales } from '../ip-adapter/ip-adapter-block-scales.js';
import { loadIpAdapter, setIpAdapterScale, unloadIpAdapter, type LoadIpAdapterOptions } from '../ip-adapter/load-ip-adapter.js';
import type { SingleFileLoadReport } from '../single-file/load-single-file.js';
import { FROM_SINGLE_FILE_OPTIONS, type FromSingleFileOptions, type LoadSingleFileOptions } from '../single-file/single-file-options.js';
import { singleFileLoader } from '../single-file/single-file-hook.js';
// Types only: LoRA fusing reads files and builds graphs (node:fs), which the sandbox bundle of this
// module cannot hold; the host entry's `sdxl` family installs the implementation when registered.
import type { LoraAdapterWeight, LoraHost, SdxlLoraAdapters } from '../lora/lora-adapters.js';
import type { LoraComponentName } from '../lora/lora-file.js';

let createLoraAdapters: ((host: LoraHost) => SdxlLoraAdapters) | null = null;
const loraAdapters = new WeakMap<object, SdxlLoraAdapters>();

/** Installs the LoRA implementation the SDXL pipeline's LoRA methods use (the `sdxl` family installs it when registered). */
export function installSdxlLoraAdapters(factory: ((host: LoraHost) => SdxlLoraAdapters) | null): void {
  createLoraAdapters = factory;
}
import type { SdxlPipelineInputs } from './sdxl-inputs.js';
import type { SdxlPipelineOutputs } from './sdxl-outputs.js';
import { defaultSampleSize, numChannelsLatents, numChannelsUnet, vaeScaleFactor } from './sdxl-pipeline-properties.js';

export class StableDiffusionXLModularPipeline extends ModularPipeline<SdxlPipelineOutputs, SdxlPipelineInputs> {
  /** diffusers' default blocks for this pipeline class. */
  static readonly defaultBlocksName = 'StableDiffusionXLAutoBlocks';

  /**
   * diffusers' `StableDiffusionXLPipeline.from_single_file(path, config=...)`: a pipeline of the SDXL
   * blocks with every component loaded from one original-layout checkpoint (see single-file/load-single-file.ts).
   */
  static async fromSingleFile(checkpoint: string, options: FromSingleFileOptions = {}): Promise<StableDiffusionXLModularPipeline & CallablePipeline<SdxlPipelineOutputs, SdxlPipelineInputs>> {
    FROM_SINGLE_FILE_OPTIONS.check(options);
    const { blocks, initOptions, ...load } = options ?? {};
    const Blocks = blocks ? null : getDefaultBlocksClass('stable-diffusion-xl');
    if (!blocks && !Blocks) throw new InvalidArgumentError('fromSingleFile: no SDXL blocks are registered; pass { blocks }.');
    const pipeline = (blocks ?? new Blocks!()).initPipeline(null, { ...initOptions, pipelineClass: StableDiffusionXLModularPipeline });
    await singleFileLoader('StableDiffusionXLModularPipeline.fromSingleFile')(pipeline, checkpoint, load);
    return pipeline;
  }

  /** The UNet's `sample_size` (128 latents for SDXL), or 128 before it is loaded. */
  get defaultSampleSize(): number {
    return defaultSampleSize(this);
  }

  /** Pixel height when none is given: sample size x VAE scale factor (1024). */
  get defaultHeight(): number {
    return this.defaultSampleSize * this.vaeScaleFactor;
  }

  get defaultWidth(): number {
    return this.defaultSampleSize * this.vaeScaleFactor;
  }

  /** 2 ** (VAE blocks - 1): 8. */
  get vaeScaleFactor(): number {
    return vaeScaleFactor(this);
  }

  /** The UNet's input channels: 4, or 9 for an inpainting UNet. */
  get numChannelsUnet(): number {
    return numChannelsUnet(this);
  }

  /** The VAE's latent channels: 4. */
  get numChannelsLatents(): number {
    return numChannelsLatents(this);
  }

  /** The resolver this pipeline loads through: adapter loaders find their files (an IP-Adapter's safetensors) with it. */
  resolverForAdapters(): RepoResolver | null {
    return this.repoResolver ?? getDefaultRepoResolver();
  }

  override get loader(): SdxlPipelineLoader {
    return super.loader as SdxlPipelineLoader;
  }


  /** Re-fuses loaded LoRAs into models loaded again since (see SdxlLoraAdapters.refresh); a no-op without LoRAs. */
  async refreshLora(): Promise<void> {
    await loraAdapters.get(this)?.refresh();
  }

  /** The pipeline's LoRA adapters (the methods below delegate here; see lora/lora-adapters.ts for how fusing works). */
  get lora(): SdxlLoraAdapters {
    if (!createLoraAdapters) {
      throw new ComponentLoadError('LoRA loading needs the host package: import @modular-diffusers/sdxl (the sandboxed blocks entry cannot read LoRA files).');
    }
    // Keyed by the object: the callable pipeline is a Proxy, on which private fields do not resolve.
    let lora = loraAdapters.get(this);
    if (lora) return lora;
    lora = createLoraAdapters({
      pipeline: this,
      logger: this.logger,
      resolveRepo: async (location) => {
        const resolver = this.repoResolver ?? getDefaultRepoResolver();
        if (!resolver) throw new ComponentLoadError(`loadLoraWeights: '${location.repo}' is not a local path and no repo resolver is installed (import @modular-diffusers/hub to load from the Hub).`);
        return resolver.resolve(location);
      },
    });
    loraAdapters.set(this, lora);
    return lora;
  }

  /**
   * diffusers' `load_lora_weights`: a diffusers/PEFT or kohya LoRA (a .safetensors file, or the one
   * in a folder or repo) for the UNet and both text encoders, made the active adapter at weight 1 and
   * fused into the graphs (the models must be built from their diffusers weights).
   */
  loadLoraWeights(repoOrPath: string, options: LoadLoraWeightsOptions = {}): Promise<void> {
    return this.lora.loadLoraWeights(repoOrPath, options);
  }

  /** diffusers' `set_adapters`: the active adapters and their weights (a number, or per model). */
  setAdapters(names: string | readonly string[], weights?: LoraAdapterWeight | ReadonlyArray<LoraAdapterWeight | null> | null): Promise<void> {
    return this.lora.setAdapters(names, weights);
  }

  /** diffusers' `fuse_lora`: the active adapters' scales multiplied by `loraScale`, marked fused. */
  fuseLora(options: FuseLoraOptions = {}): Promise<void> {
    return this.lora.fuseLora(options);
  }

  /** diffusers' `unfuse_lora`: unmarks them; as in diffusers no number changes (nothing is rebuilt). */
  unfuseLora(options: UnfuseLoraOptions = {}): Promise<void> {
    return this.lora.unfuseLora(options);
  }

  getActiveAdapters(): string[] {
    return this.lora.getActiveAdapters();
  }

  getListAdapters(): Partial<Record<LoraComponentName, string[]>> {
    return this.lora.getListAdapters();
  }

  getFusedAdapters(): Partial<Record<LoraComponentName, string[]>> {
    return this.lora.getFusedAdapters();
  }

  deleteAdapters(names: string | readonly string[]): Promise<void> {
    return this.lora.deleteAdapters(names);
  }

  disableLora(): Promise<void> {
    return this.lora.disableLora();
  }

  enableLora(): Promise<void> {
    return this.lora.enableLora();
  }

  /** Forgets every adapter; the models get their base graphs back (from the built-graph cache). */
  unloadLoraWeights(): Promise<void> {
    return this.lora.unloadLoraWeights();
  }

  protected override createLoader(): PipelineLoader {
    return new SdxlPipelineLoader(this);
  }
}

/** `pipeline.loader` for SDXL: the shared loading methods plus the IP-Adapter ones. */
export class SdxlPipelineLoader extends PipelineLoader<StableDiffusionXLModularPipeline> {
  /**
   * Loads an IP-Adapter from `repoOrPath` (the guide's `load_ip_adapter("h94/IP-Adapter", subfolder=..., weight_name=...)`):
   * safetensors weights are built into the UNet, and the image encoder is loaded; the layouts are
   * documented in ip-adapter/load-ip-adapter.ts.
   */
  loadIpAdapter(repoOrPath: string, options: LoadIpAdapterOptions = {}): Promise<void> {
    return loadIpAdapter(this.pipeline, repoOrPath, options);
  }

  /**
   * Loads the UNet, VAE, both text encoders, tokenizers and scheduler from one original-layout SDXL
   * checkpoint (diffusers' `from_single_file`; `config` names the repo whose configs describe it).
   */
  loadSingleFile(checkpoint: string, options: LoadSingleFileOptions = {}): Promise<SingleFileLoadReport> {
    return singleFileLoader('pipeline.loader.loadSingleFile')(this.pipeline, checkpoint, options);
  }

  /** Takes the IP-Adapter out again (diffusers' `unload_ip_adapter`): the plain UNet, no image encoder. */
  unloadIpAdapter(): Promise<void> {
    return unloadIpAdapter(this.pipeline);
  }

  /** How strongly the reference image steers the UNet (0 = not at all, 1 = fully): a number, or diffusers' per-block scales. */
  setIpAdapterScale(scale: number | IpAdapterBlockScales | readonly (number | IpAdapterBlockScales)[]): void {
    setIpAdapterScale(this.pipeline, scale);
  }

  /** `pipeline.loadLoraWeights`, also here beside the IP-Adapter loader. */
  loadLoraWeights(repoOrPath: string, options: LoadLoraWeightsOptions = {}): Promise<void> {
    return this.pipeline.loadLoraWeights(repoOrPath, options);
  }
}

