/**
 * `pipeline.loader.loadIpAdapter(...)` / `setIpAdapterScale(...)`.
 *
 * The files people publish (h94/IP-Adapter), as diffusers' `load_ip_adapter` reads them:
 *
 * ```
 * <repo>/<subfolder>/<weightName>.safetensors   image_proj.* + ip_adapter.<n>.to_k_ip / to_v_ip
 * <repo>/<subfolder>/image_encoder/             CLIPVisionModelWithProjection (config.json + model.safetensors)
 * ```
 *
 * `loadIpAdapter('h94/IP-Adapter', { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' })`
 * checks the adapter against the pipeline's UNet config and the image
 * encoder's `projection_dim` (each mismatch names the file and key, before
 * anything loads), then rebuilds the UNet from its diffusers weights with the
 * adapter in the graph (@modular-diffusers/model-builder: the image
 * projection, the image key/value attention at every cross-attention, and
 * the scale as the graph input `ip_adapter_scale`, so `setIpAdapterScale`
 * never rebuilds) and loads the image encoder (built too when the folder has
 * no ONNX export). `imageEncoderFolder` is joined to `subfolder` unless it
 * holds a '/' (diffusers' rule), e.g. 'models/image_encoder'. Pickle weights
 * (`.bin`) are refused, naming the `.safetensors` file to use.
 *
 * An ONNX UNet exported with the adapter (inputs `image_embeds` and
 * `ip_adapter_scale`) loads as before when `weightName` is left out or names
 * an `.onnx` file: `<repo>/<subfolder>/unet_ip_adapter/model.onnx` plus
 * `<repo>/<subfolder>/image_encoder/` (the tiny SDXL repo's
 * `generateTinySdxlRepo(dir, { ipAdapter: true })` layout).
 */
import { InvalidArgumentError, type ModularPipeline } from '@modular-diffusers/core';
import type { Device, LoadOnnxModelOptions } from '@modular-diffusers/runtime';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { expandIpAdapterBlockScales, type IpAdapterBlockScales } from './ip-adapter-block-scales.js';
import { IpAdapterLoadError } from './ip-adapter-load-error.js';

export interface LoadIpAdapterOptions {
  /** Folder inside the repo holding the layout above (diffusers' `subfolder`, e.g. 'sdxl_models'). */
  subfolder?: string | null;
  /**
   * The adapter's weights in `subfolder`: a `.safetensors` file (e.g. 'ip-adapter_sdxl.safetensors'), built
   * into the UNet; or an IP-Adapter UNet export's `.onnx` file inside `unetFolder` (left out: `model.onnx`).
   */
  weightName?: string | null;
  /** Folder of an IP-Adapter UNet export (default 'unet_ip_adapter'); not used for safetensors weights. */
  unetFolder?: string;
  /**
   * Folder of the image encoder (default 'image_encoder'), inside `subfolder` unless it holds a '/';
   * null keeps the pipeline's image_encoder as it is.
   */
  imageEncoderFolder?: string | null;
  revision?: string | null;
  variant?: string | null;
  device?: Device;
  sessionOptions?: LoadOnnxModelOptions['sessionOptions'];
}

/**
 * Puts the IP-Adapter into `pipeline` (the UNet rebuilt with it, or the
 * IP-Adapter UNet export swapped in) with its image encoder, and sets the
 * adapter scale to 1.
 */
export async function loadIpAdapter(pipeline: ModularPipeline, repoOrPath: string, options: LoadIpAdapterOptions = {}): Promise<void> {
  if (typeof repoOrPath !== 'string' || repoOrPath === '') {
    throw new InvalidArgumentError('loadIpAdapter(repoOrPath, options): pass a repo id or a local folder laid out as documented in load-ip-adapter.ts.');
  }
  const { subfolder = null, weightName = null, unetFolder = 'unet_ip_adapter', imageEncoderFolder = 'image_encoder', ...rest } = options;
  if (weightName !== null && /\.(bin|pt|pth|ckpt)$/i.test(weightName)) {
    const safetensors = weightName.replace(/\.(bin|pt|pth|ckpt)$/i, '.safetensors');
    throw new IpAdapterLoadError(
      `loadIpAdapter: '${weightName}' is a PyTorch pickle, which this project never reads (unpickling can run code). ` +
        `Load the same adapter's safetensors file instead: weightName: '${safetensors}' (h94/IP-Adapter publishes both).`,
      joinFolder(subfolder, weightName),
      'weightName',
    );
  }
  if (weightName !== null && weightName.endsWith('.safetensors')) {
    if (!weightsLoader) {
      throw new ModelCapabilityError(`loadIpAdapter('${weightName}'): IP-Adapter safetensors are built into the UNet on Node; register the sdxl family of '@modular-diffusers/sdxl' (\`registerFamily(sdxl)\` installs that loader).`);
    }
    await weightsLoader(pipeline, repoOrPath, { ...options, subfolder, weightName, imageEncoderFolder });
    return;
  }
  if (weightName !== null && !weightName.endsWith('.onnx')) {
    throw new InvalidArgumentError(
      `loadIpAdapter: '${weightName}' is neither IP-Adapter safetensors (e.g. 'ip-adapter_sdxl.safetensors') nor an ONNX UNet export (.onnx); ` +
        `or leave weightName out to load '${joinFolder(subfolder, unetFolder)}/model.onnx'.`,
    );
  }
  const loadOptions = {
    repo: repoOrPath,
    ...definedOnly({ revision: rest.revision, variant: rest.variant, device: rest.device, sessionOptions: rest.sessionOptions }),
  };
  await pipeline.loadComponents('unet', { ...loadOptions, subfolder: joinFolder(subfolder, unetFolder), ...(weightName ? { fileName: weightName } : {}) });
  const unet = pipeline.getComponent<UNet2DConditionModel>('unet');
  if (!unet?.acceptsImageEmbeds) {
    throw new ModelCapabilityError(
      `The UNet loaded from '${repoOrPath}' (${joinFolder(subfolder, unetFolder)}) has no 'image_embeds' input, so it is not an IP-Adapter export.`,
    );
  }
  unet.ipAdapterScale = 1;
  if (imageEncoderFolder !== null && pipeline.componentNames.includes('image_encoder')) {
    await pipeline.loadComponents('image_encoder', { ...loadOptions, subfolder: joinFolder(subfolder, imageEncoderFolder) });
  }
}

/** What the safetensors loader gets: the options with their defaults applied. */
export interface IpAdapterWeightsRequest extends LoadIpAdapterOptions {
  readonly subfolder: string | null;
  readonly weightName: string;
  readonly imageEncoderFolder: string | null;
}

export type IpAdapterWeightsLoader = (pipeline: ModularPipeline, repoOrPath: string, request: IpAdapterWeightsRequest) => Promise<void>;

/**
 * Reading safetensors and building graphs needs Node (files, the model builder), which the
 * plugin sandbox that runs this module does not have: the package's Node side installs the
 * loader (`registerFamily(sdxl)`, or registerSdxlComponentLoaders).
 */
let weightsLoader: IpAdapterWeightsLoader | null = null;

export function setIpAdapterWeightsLoader(loader: IpAdapterWeightsLoader | null): void {
  weightsLoader = loader;
}

/**
 * How strongly the adapter image conditions the UNet (0 = not at all, 1 =
 * as trained): one number, or diffusers' per-block scales
 * (`{ up: { block_0: [0, 1, 0] } }`, see ip-adapter-block-scales.ts) for a
 * UNet built with the adapter. A list holds one entry per adapter; one
 * adapter is loaded, so a list of one. The scale is a graph input: nothing
 * is rebuilt.
 */
export function setIpAdapterScale(pipeline: ModularPipeline, scale: number | IpAdapterBlockScales | readonly (number | IpAdapterBlockScales)[]): void {
  const value = Array.isArray(scale) ? (scale.length === 1 ? scale[0] : NaN) : scale;
  const isBlocks = value !== null && typeof value === 'object';
  if (!isBlocks && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new InvalidArgumentError(`setIpAdapterScale takes one finite number or per-block scales (one IP-Adapter), got ${JSON.stringify(scale)}.`);
  }
  const unet = pipeline.getComponent<UNet2DConditionModel | null>('unet');
  if (!unet) throw new InvalidArgumentError('setIpAdapterScale: the unet is not loaded; call pipeline.loader.loadIpAdapter(repo) first.');
  if (!unet.acceptsImageEmbeds) {
    throw new ModelCapabilityError('setIpAdapterScale: the loaded UNet has no IP-Adapter inputs; call pipeline.loader.loadIpAdapter(repo) first.');
  }
  if (!isBlocks) {
    unet.ipAdapterScale = value as number;
    unet.ipAdapterLayerScales = null;
    return;
  }
  if (!unet.ipAdapterLayers) {
    throw new ModelCapabilityError('setIpAdapterScale: per-block scales need a UNet built with the adapter (loadIpAdapter with its .safetensors); an ONNX export takes one scale.');
  }
  const layersPerBlock = unet.config.layers_per_block;
  if (typeof layersPerBlock !== 'number') throw new InvalidArgumentError(`setIpAdapterScale: per-block scales need one layers_per_block in the UNet config, got ${JSON.stringify(layersPerBlock)}.`);
  unet.ipAdapterLayerScales = expandIpAdapterBlockScales(value as IpAdapterBlockScales, unet.ipAdapterLayers, layersPerBlock);
  unet.ipAdapterScale = 1;
}

/**
 * diffusers' `unload_ip_adapter`: the UNet without the adapter, as
 * `loadComponents('unet')` loads it (the folder's ONNX export where it has
 * one, else the graph built from its weights, from the cache when built
 * before; a UNet with ControlNet residual inputs is rebuilt with them), and
 * no image encoder. Nothing to do without an
 * adapter; an IP-Adapter UNet export is swapped out with
 * `loadComponents('unet', ...)` instead.
 */
export async function unloadIpAdapter(pipeline: ModularPipeline): Promise<void> {
  const unet = pipeline.getComponent<UNet2DConditionModel | null>('unet');
  if (!unet?.acceptsImageEmbeds) return;
  if (!unet.ipAdapterLayers) {
    throw new ModelCapabilityError(
      "unloadIpAdapter: the UNet is an IP-Adapter export, not one built with the adapter; load the plain UNet with pipeline.loadComponents('unet', { subfolder: 'unet' }).",
    );
  }
  const spec = pipeline.getComponentSpec('unet');
  const residuals = unet.acceptsControlNetResiduals;
  await pipeline.loadComponents('unet', {
    repo: spec.pretrainedModelNameOrPath,
    ...definedOnly({ subfolder: spec.subfolder, revision: spec.revision, variant: spec.variant }),
    ...(residuals ? { controlNetResiduals: true, modelSource: 'safetensors' as const } : {}),
  });
  if (pipeline.componentNames.includes('image_encoder')) pipeline.unloadComponents('image_encoder');
  await (pipeline as { refreshLora?: () => Promise<void> }).refreshLora?.();
}

/** `subfolder/folder` as repo paths are written (diffusers' Path(subfolder, folder).as_posix()). */
export function joinFolder(subfolder: string | null, folder: string): string {
  return subfolder ? `${subfolder.replace(/\/+$/, '')}/${folder}` : folder;
}

export function definedOnly(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null));
}
