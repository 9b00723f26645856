/**
 * The pipeline class for SDXL blocks (diffusers' StableDiffusionXLModularPipeline):
 * a ModularPipeline that also knows the SDXL values blocks ask for — the
 * default image size, the VAE scale factor, the latent and UNet channels —
 * from the loaded configs, and whose `loader` can load an IP-Adapter.
 * Registered for the model name 'stable-diffusion-xl', so
 * `blocks.initPipeline(...)` builds it for any SDXL blocks.
 */
import { getDefaultRepoResolver, ModularPipeline, PipelineLoader, registerPipelineClass, type RepoResolver } from '@modular-diffusers/core';
import type { IpAdapterBlockScales } from '../ip-adapter/ip-adapter-block-scales.js';
import { loadIpAdapter, setIpAdapterScale, unloadIpAdapter, type LoadIpAdapterOptions } from '../ip-adapter/load-ip-adapter.js';
import { defaultSampleSize, numChannelsLatents, numChannelsUnet, vaeScaleFactor } from './sdxl-pipeline-properties.js';

export class StableDiffusionXLModularPipeline extends ModularPipeline {
  /** diffusers' default blocks for this pipeline class. */
  static readonly defaultBlocksName = 'StableDiffusionXLAutoBlocks';

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

  /** Takes the IP-Adapter out again (diffusers' `unload_ip_adapter`): the plain UNet, no image encoder. */
  unloadIpAdapter(): Promise<void> {
    return unloadIpAdapter(this.pipeline);
  }

  /** How strongly the reference image steers the UNet (0 = not at all, 1 = fully): a number, or diffusers' per-block scales. */
  setIpAdapterScale(scale: number | IpAdapterBlockScales | readonly (number | IpAdapterBlockScales)[]): void {
    setIpAdapterScale(this.pipeline, scale);
  }
}

registerPipelineClass('stable-diffusion-xl', StableDiffusionXLModularPipeline);
