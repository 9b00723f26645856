/**
 * `pipeline.loader.loadIpAdapter(...)` / `setIpAdapterScale(...)` on ONNX.
 *
 * diffusers loads IP-Adapter weights into the UNet's attention layers. An
 * ONNX graph cannot grow new layers, so an IP-Adapter here is a UNet
 * exported WITH the adapter (extra inputs `image_embeds` [B, 1, D] and
 * `ip_adapter_scale` [1]) plus the CLIP image encoder; loading the adapter
 * swaps both into the pipeline. Layout of an IP-Adapter repo (or folder):
 *
 * ```
 * <repo>/<subfolder>/unet_ip_adapter/model.onnx (+ config.json)   the UNet with IP-Adapter inputs
 * <repo>/<subfolder>/image_encoder/model.onnx   (+ config.json)   CLIPVisionModelWithProjection
 * ```
 *
 * The tiny SDXL repo (`generateTinySdxlRepo(dir, { ipAdapter: true })`)
 * has this layout at its root. `weightName` names the UNet's ONNX file
 * inside `unet_ip_adapter/` (default `model.onnx`); PyTorch weight files
 * (`ip-adapter_sdxl.bin`) cannot be loaded into an ONNX session.
 */
import { InvalidArgumentError, type ModularPipeline } from '@modular-diffusers/core';
import type { Device, LoadOnnxModelOptions } from '@modular-diffusers/runtime';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import type { UNet2DConditionModel } from '../components/unet.js';

export interface LoadIpAdapterOptions {
  /** Folder inside the repo holding the layout above (diffusers' `subfolder`, e.g. 'sdxl_models'). */
  subfolder?: string | null;
  /** The IP-Adapter UNet's ONNX file inside `unetFolder` (default `model.onnx`). */
  weightName?: string | null;
  /** Folder of the IP-Adapter UNet export (default 'unet_ip_adapter'). */
  unetFolder?: string;
  /** Folder of the image encoder (default 'image_encoder'); null keeps the pipeline's image_encoder as it is. */
  imageEncoderFolder?: string | null;
  revision?: string | null;
  variant?: string | null;
  device?: Device;
  sessionOptions?: LoadOnnxModelOptions['sessionOptions'];
}

/** Swaps the IP-Adapter UNet export and the image encoder into `pipeline` and sets the adapter scale to 1. */
export async function loadIpAdapter(pipeline: ModularPipeline, repoOrPath: string, options: LoadIpAdapterOptions = {}): Promise<void> {
  if (typeof repoOrPath !== 'string' || repoOrPath === '') {
    throw new InvalidArgumentError('loadIpAdapter(repoOrPath, options): pass a repo id or a local folder laid out as documented in load-ip-adapter.ts.');
  }
  const { subfolder = null, weightName = null, unetFolder = 'unet_ip_adapter', imageEncoderFolder = 'image_encoder', ...rest } = options;
  if (weightName !== null && !weightName.endsWith('.onnx')) {
    throw new InvalidArgumentError(
      `loadIpAdapter: '${weightName}' is not an ONNX file. IP-Adapter weights cannot be added to an ONNX UNet after export; ` +
        `export a UNet with the adapter (inputs image_embeds and ip_adapter_scale) and point weightName at its .onnx file, ` +
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

/**
 * How strongly the adapter image conditions the UNet (0 = not at all, 1 =
 * as trained). diffusers also takes a per-block dict; an ONNX export has one
 * scale input, so one number (or a list of one) is accepted.
 */
export function setIpAdapterScale(pipeline: ModularPipeline, scale: number | readonly number[]): void {
  const value = Array.isArray(scale) ? (scale.length === 1 ? scale[0] : NaN) : scale;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`setIpAdapterScale takes one finite number (one IP-Adapter), got ${JSON.stringify(scale)}.`);
  }
  const unet = pipeline.getComponent<UNet2DConditionModel | null>('unet');
  if (!unet) throw new InvalidArgumentError('setIpAdapterScale: the unet is not loaded; call pipeline.loader.loadIpAdapter(repo) first.');
  if (!unet.acceptsImageEmbeds) {
    throw new ModelCapabilityError('setIpAdapterScale: the loaded UNet has no IP-Adapter inputs; call pipeline.loader.loadIpAdapter(repo) first.');
  }
  unet.ipAdapterScale = value;
}

function joinFolder(subfolder: string | null, folder: string): string {
  return subfolder ? `${subfolder.replace(/\/+$/, '')}/${folder}` : folder;
}

function definedOnly(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null));
}
