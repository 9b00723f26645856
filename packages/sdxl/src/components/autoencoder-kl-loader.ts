/**
 * Loads an AutoencoderKL from an ONNX SDXL repo: the config from the spec's
 * folder (`vae/config.json`), the halves from the sibling folders
 * `vae_encoder/` and `vae_decoder/`, resolved through the same resolver (so a
 * Hub resolver downloads a half only when it is used). Other layouts: pass
 * `{ encoderSubfolder, decoderSubfolder }` (repo subfolders) and/or
 * `{ encoderFileName, decoderFileName }` to loadComponents(). A diffusers-
 * format `vae/` (config.json + safetensors) without the ONNX halves is built
 * into both graphs in-process (model-source.ts); `modelSource` chooses.
 */
import { stat } from 'node:fs/promises';
import { InvalidArgumentError, type ComponentLoader, type ComponentSpec, type LoaderContext } from '@modular-diffusers/core';
import { AutoencoderKL, type OnnxModelSource } from './autoencoder-kl.js';
import { hasBuildableWeights } from '@modular-diffusers/model-builder';
import { chooseModel, modelSourceOption } from './model-source.js';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';

export const autoencoderKLLoader: ComponentLoader = {
  type: 'AutoencoderKL',
  async fromPretrained(spec: ComponentSpec, context: LoaderContext) {
    const { path } = await context.resolve();
    const config = (await readJsonConfig(path, 'config.json', { optional: true })) ?? {};
    const base = spec.subfolder ? spec.subfolder.replace(/\/+$/, '') : null;
    const sibling = (half: 'encoder' | 'decoder'): string => {
      const given = context.options[`${half}Subfolder`];
      if (given !== undefined && typeof given !== 'string') {
        throw new InvalidArgumentError(`${half}Subfolder must be a repo subfolder such as 'vae_${half}'.`);
      }
      if (given) return given;
      if (!base) return `vae_${half}`;
      const slash = base.lastIndexOf('/');
      return `${base.slice(0, slash + 1)}${base.slice(slash + 1)}_${half}`;
    };
    const source = (half: 'encoder' | 'decoder'): (() => Promise<string>) => async () => {
      if (!context.resolver) throw new InvalidArgumentError('AutoencoderKL needs a repo resolver to find its encoder and decoder folders.');
      const location = await context.resolver.resolve(
        { repo: spec.pretrainedModelNameOrPath ?? '', subfolder: sibling(half), revision: spec.revision, variant: spec.variant },
        { signal: context.signal },
      );
      return onnxModelPath(location.path, spec.variant, context.options[`${half}FileName`]);
    };
    const decoderPath = await source('decoder')().catch(() => null);
    const hasDecoderExport = decoderPath !== null && (await isFile(decoderPath));
    const mode = modelSourceOption(context.options);
    if (mode === 'safetensors' || (mode === 'auto' && !hasDecoderExport && (await hasBuildableWeights(path, spec.variant ?? null)))) {
      const chosen = await chooseModel({ spec, context, weightsFolder: path, onnxPaths: decoderPath ? [decoderPath] : [], onnxAvailable: hasDecoderExport });
      if (chosen.kind === 'built') {
        const { graphs, externalDataFolder } = chosen.built;
        const half = (name: 'encoder' | 'decoder'): OnnxModelSource => async () => ({ path: graphs[name]!, externalDataFolder });
        const vae = new AutoencoderKL(config, { encoder: half('encoder'), decoder: half('decoder'), loadOptions: onnxLoadOptions(context.options) });
        await vae.preloadDecoder();
        return vae;
      }
    }
    if (mode === 'auto' && hasDecoderExport) context.logger.info(`${spec.name}: using the ONNX export ${decoderPath} (and its vae_encoder sibling).`);
    const vae = new AutoencoderKL(config, { encoder: source('encoder'), decoder: source('decoder'), loadOptions: onnxLoadOptions(context.options) });
    // Every pipeline but a latent-only one decodes: load the decoder now when it is there, so load
    // errors and memory show up at loadComponents() time. A missing decoder fails at decode() instead.
    if (hasDecoderExport) await vae.preloadDecoder();
    return vae;
  },
};

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
