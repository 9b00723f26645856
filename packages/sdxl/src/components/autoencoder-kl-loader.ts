/**
 * Loads an AutoencoderKL from an ONNX SDXL repo: the config from the spec's
 * folder (`vae/config.json`, as in stabilityai's repos), the halves from the
 * sibling folders `vae_encoder/` and `vae_decoder/`, resolved through the same
 * resolver (so a Hub resolver downloads a half only when it is used). A pure
 * Optimum export has no `vae/` folder: Optimum writes the VAE's config.json
 * into `vae_decoder/` (and `vae_encoder/`), so the config comes from there.
 * Other layouts: pass `{ encoderSubfolder, decoderSubfolder }` (repo
 * subfolders) and/or `{ encoderFileName, decoderFileName }` to loadComponents().
 * A diffusers-format `vae/` (config.json + safetensors) without the ONNX
 * halves is built into both graphs in-process (model-source.ts);
 * `modelSource` chooses.
 */
import { ComponentLoadError, InvalidArgumentError, type ComponentLoader, type ComponentSpec, type LoaderContext } from '@modular-diffusers/core';
import { AutoencoderKL, type OnnxModelSource } from './autoencoder-kl.js';
import { hasBuildableWeights } from '@modular-diffusers/model-builder';
import { chooseModel, modelSourceOption } from './model-source.js';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';
import { isFile } from './path-kind.js';

export const autoencoderKLLoader: ComponentLoader = {
  type: 'AutoencoderKL',
  async fromPretrained(spec: ComponentSpec, context: LoaderContext) {
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
    const config = await readVaeConfig(context, (half) =>
      context.resolver!.resolve(
        { repo: spec.pretrainedModelNameOrPath ?? '', subfolder: sibling(half), revision: spec.revision, variant: spec.variant },
        { signal: context.signal },
      ),
    );
    const decoderPath = await source('decoder')().catch(() => null);
    const hasDecoderExport = decoderPath !== null && (await isFile(decoderPath));
    const mode = modelSourceOption(context.options);
    // The diffusers-format weights live in the spec's own folder (vae/), which a pure Optimum export lacks.
    const weightsFolder =
      mode === 'safetensors' ? (await context.resolve()).path : mode === 'auto' && !hasDecoderExport ? await context.resolve().then((l) => l.path, () => null) : null;
    if (weightsFolder !== null && (mode === 'safetensors' || (await hasBuildableWeights(weightsFolder, spec.variant ?? null)))) {
      const chosen = await chooseModel({ spec, context, weightsFolder, onnxPaths: decoderPath ? [decoderPath] : [], onnxAvailable: hasDecoderExport });
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

/**
 * `vae/config.json` when the spec's folder resolves and has one; else the
 * config.json Optimum writes beside each half. When neither exists the VAE
 * loads with diffusers' defaults only if the spec's folder itself resolved
 * (an ONNX repo with an empty vae/); otherwise the spec folder's error is
 * thrown, with where else the config was looked for.
 */
async function readVaeConfig(
  context: LoaderContext,
  resolveHalf: (half: 'decoder' | 'encoder') => Promise<{ path: string }>,
): Promise<Record<string, unknown>> {
  let specError: unknown = null;
  try {
    const { path } = await context.resolve();
    const config = await readJsonConfig(path, 'config.json', { optional: true });
    if (config) return config;
  } catch (error) {
    specError = error;
  }
  if (context.resolver) {
    for (const half of ['decoder', 'encoder'] as const) {
      const folder = await resolveHalf(half).catch(() => null);
      const config = folder ? await readJsonConfig(folder.path, 'config.json', { optional: true }) : null;
      if (config) return config;
    }
  }
  if (specError === null) return {};
  throw new ComponentLoadError(
    `${(specError as Error).message} The VAE's config.json was not in its decoder or encoder folder either ` +
      `(an Optimum export keeps it in vae_decoder/config.json).`,
    [],
    { cause: specError },
  );
}

