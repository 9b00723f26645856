/**
 * The Node side of `loadIpAdapter` for the files people publish (see
 * load-ip-adapter.ts): resolves the one safetensors file, checks it against
 * the pipeline's UNet config and the image encoder's config (each mismatch
 * an IpAdapterLoadError naming the file and key, before anything loads),
 * then rebuilds the UNet with the adapter in its graph (loader option
 * `ipAdapterWeights`) and loads the image encoder.
 */

import { isAbsolute, join } from 'node:path';
import { getDefaultRepoResolver, InvalidArgumentError, type ModularPipeline, type RepoLocation, type RepoResolver } from '@modular-diffusers/core';
import { hasBuildableWeights, ipAdapterUNetExtensions, ModelBuildError } from '@modular-diffusers/model-builder';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import { readJsonConfig } from '../components/read-json-config.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { IpAdapterLoadError } from './ip-adapter-load-error.js';
import { definedOnly, joinFolder, type IpAdapterWeightsRequest } from './load-ip-adapter.js';
import { isDirectory, isFile } from '../components/path-kind.js';

export async function loadIpAdapterWeights(pipeline: ModularPipeline, repoOrPath: string, options: IpAdapterWeightsRequest): Promise<void> {
  const { subfolder, weightName, imageEncoderFolder } = options;
  const revision = options.revision ?? null;
  // Only the named file: the adapter's folder holds its siblings too (h94's sdxl_models has every adapter, twice).
  const adapterLocation: RepoLocation = { repo: repoOrPath, subfolder, revision, variant: null };
  const resolver = resolverOf(pipeline);
  const file = resolver?.resolveFile
    ? await resolver.resolveFile(adapterLocation, weightName)
    : join(await resolveFolder(pipeline, adapterLocation), weightName);
  if (!(await isFile(file))) {
    throw new IpAdapterLoadError(`loadIpAdapter: no '${weightName}' in '${repoOrPath}'${subfolder ? ` (subfolder '${subfolder}')` : ''} (${file}); check weightName and subfolder.`, file, 'weightName');
  }

  // The UNet the adapter goes into: the pipeline's own, rebuilt from its diffusers weights.
  const unetSpec = pipeline.getComponentSpec('unet');
  const unetRepo = unetSpec.pretrainedModelNameOrPath;
  if (!unetRepo) throw new InvalidArgumentError('loadIpAdapter: the pipeline has no source for its unet; load the pipeline from a repo first.');
  const unetLocation: RepoLocation = { repo: unetRepo, subfolder: unetSpec.subfolder, revision: unetSpec.revision, variant: unetSpec.variant };
  const unetFolder = await resolveFolder(pipeline, unetLocation);
  if (!(await hasBuildableWeights(unetFolder, unetSpec.variant))) {
    throw new IpAdapterLoadError(
      `loadIpAdapter: the pipeline's UNet folder ${unetFolder} has no diffusers weights (config.json + diffusion_pytorch_model` +
        `${unetSpec.variant ? `.${unetSpec.variant}` : ''}.safetensors) to build ${weightName} into, and an ONNX export cannot take new layers; ` +
        `load the pipeline from a repo with the UNet's safetensors (e.g. stabilityai/stable-diffusion-xl-base-1.0), or a UNet exported with the adapter (leave weightName out).`,
      join(unetFolder, 'config.json'),
      'unet',
    );
  }
  const unetConfig = await readJsonConfig(unetFolder, 'config.json');
  let adapter;
  try {
    adapter = await ipAdapterUNetExtensions(file, unetConfig, join(unetFolder, 'config.json'));
  } catch (error) {
    if (error instanceof ModelBuildError) throw new IpAdapterLoadError(`loadIpAdapter: ${error.message}`, error.file, error.key, { cause: error });
    throw error;
  }

  // The image encoder must give the embedding size the adapter projects from.
  const encoderSubfolder = imageEncoderFolder === null ? null : imageEncoderFolder.includes('/') ? imageEncoderFolder : joinFolder(subfolder, imageEncoderFolder);
  const loadEncoder = encoderSubfolder !== null && pipeline.componentNames.includes('image_encoder');
  if (loadEncoder) {
    const encoderFolder = await resolveFolder(pipeline, { repo: repoOrPath, subfolder: encoderSubfolder, revision, variant: null });
    const encoderConfig = await readJsonConfig(encoderFolder, 'config.json');
    const field = adapter.imageEncoderField;
    const size = encoderConfig[field];
    if (size !== adapter.imageEmbedDim) {
      const reads = adapter.projection === 'resampler' ? `its penultimate hidden states ([.., ${adapter.imageEmbedDim}], 'image_proj.proj_in.weight')` : `image embeddings of size ${adapter.imageEmbedDim} ('image_proj.proj.weight')`;
      throw new IpAdapterLoadError(
        `loadIpAdapter: the image encoder ${join(encoderFolder, 'config.json')} has ${field} ${JSON.stringify(size)}, but ${file} reads ${reads}; ` +
          `load the image encoder this adapter was trained with (imageEncoderFolder; h94/IP-Adapter's sdxl_models adapters use sdxl_models/image_encoder, the *_vit-h ones models/image_encoder).`,
        join(encoderFolder, 'config.json'),
        field,
      );
    }
  }

  const sessionOptions = definedOnly({ device: options.device, sessionOptions: options.sessionOptions });
  // A UNet built with ControlNet residual inputs keeps them: the two adapters go together.
  const residuals = pipeline.getComponent<UNet2DConditionModel | null>('unet')?.acceptsControlNetResiduals === true;
  await pipeline.loadComponents('unet', {
    repo: unetRepo,
    ...definedOnly({ subfolder: unetSpec.subfolder, revision: unetSpec.revision, variant: unetSpec.variant }),
    ...sessionOptions,
    ...(residuals ? { controlNetResiduals: true } : {}),
    ipAdapterWeights: file,
  });
  const unet = pipeline.getComponent<UNet2DConditionModel>('unet');
  if (!unet?.acceptsImageEmbeds) {
    throw new ModelCapabilityError(`The UNet rebuilt with ${file} has no 'image_embeds' input; this is a bug in the IP-Adapter build.`);
  }
  unet.ipAdapterScale = 1;
  unet.ipAdapterLayerScales = null;
  unet.ipAdapterLayers = adapter.attentionLayers;
  // The UNet was loaded again from its base weights: a LoRA fused into the old one goes into this one too.
  await (pipeline as { refreshLora?: () => Promise<void> }).refreshLora?.();
  if (loadEncoder) {
    await pipeline.loadComponents('image_encoder', { repo: repoOrPath, subfolder: encoderSubfolder, ...definedOnly({ revision }), ...sessionOptions });
  }
}

/** A repo location as a local folder, through the pipeline's resolver (a local folder needs none). */
async function resolveFolder(pipeline: ModularPipeline, location: RepoLocation): Promise<string> {
  const resolver = resolverOf(pipeline);
  if (resolver) return (await resolver.resolve(location)).path;
  if (isAbsolute(location.repo) || (await isDirectory(location.repo))) return join(location.repo, location.subfolder ?? '');
  throw new InvalidArgumentError(`loadIpAdapter: no repo resolver to find '${location.repo}'; pass a local folder or install the Hub resolver (@modular-diffusers/hub).`);
}

function resolverOf(pipeline: ModularPipeline): RepoResolver | null {
  return (pipeline as unknown as { resolverForAdapters?: () => RepoResolver | null }).resolverForAdapters?.() ?? getDefaultRepoResolver();
}
