/**
 * `modular_model_index.json` for a plugin repo: which repo and subfolder each
 * of the blocks' models comes from. A component the components repo lists
 * (in its model_index.json) points there; one it lacks (an optional
 * ControlNet, say) gets a null path, as diffusers writes it, so users add it
 * with `updateComponents` and `loadComponents` skips it.
 */
import { buildModelIndex, ComponentSpec, type ModularPipelineBlocks } from '@modular-diffusers/core';
import { HubError, MODEL_INDEX_FILE, MODULAR_MODEL_INDEX_FILE, readOptionalJsonFile, type HubEnv } from '@modular-diffusers/hub';
import { CliError } from '../errors.js';

export interface PluginModelIndexInput {
  blocks: ModularPipelineBlocks;
  /** The pipeline class the blocks run in (e.g. StableDiffusionXLModularPipeline). */
  pipelineClassName: string;
  componentsRepo: string | null;
  componentsRevision?: string | null;
  env?: HubEnv;
}

export interface PluginModelIndex {
  index: Record<string, unknown>;
  /** Components that point at the components repo. */
  sourced: string[];
  /** From-pretrained components the components repo does not have. */
  unsourced: string[];
}

async function readComponentsIndex(repo: string, revision: string | null, env: HubEnv | undefined): Promise<Record<string, unknown>> {
  try {
    for (const path of [MODULAR_MODEL_INDEX_FILE, MODEL_INDEX_FILE]) {
      const found = await readOptionalJsonFile<Record<string, unknown>>({ repo, path, env, ...(revision ? { revision } : {}) });
      if (found) return found.data;
    }
  } catch (error) {
    const why = error instanceof HubError || error instanceof Error ? error.message : String(error);
    throw new CliError(
      `Could not read the components repo ${repo} (${why}). Check "modular.componentsRepo" in package.json (or --components-repo), ` +
        'and HF_ENDPOINT / HF_TOKEN if it lives on another Hub or is private.',
    );
  }
  throw new CliError(`The components repo ${repo} has no ${MODEL_INDEX_FILE} or ${MODULAR_MODEL_INDEX_FILE}; point "modular.componentsRepo" at a pipeline repo such as stabilityai/stable-diffusion-xl-base-1.0.`);
}

export async function buildPluginModelIndex(input: PluginModelIndexInput): Promise<PluginModelIndex> {
  const { blocks, componentsRepo } = input;
  const revision = input.componentsRevision ?? null;
  const repoIndex = componentsRepo ? await readComponentsIndex(componentsRepo, revision, input.env) : {};
  const sourced: string[] = [];
  const unsourced: string[] = [];
  const specs = blocks.expectedComponents.map((spec) => {
    if (spec.defaultCreationMethod !== 'fromPretrained' || spec.pretrainedModelNameOrPath) return spec;
    if (componentsRepo && Array.isArray(repoIndex[spec.name]) && (repoIndex[spec.name] as unknown[])[0] !== null) {
      sourced.push(spec.name);
      return new ComponentSpec({ ...specFields(spec), pretrainedModelNameOrPath: componentsRepo, subfolder: spec.name, revision });
    }
    unsourced.push(spec.name);
    return spec;
  });
  // Pipeline config values (e.g. force_zeros_for_empty_prompt) follow the components repo where it sets them.
  const configs: Record<string, unknown> = {};
  for (const c of blocks.expectedConfigs) configs[c.name] = Object.hasOwn(repoIndex, c.name) ? repoIndex[c.name] : (c.default ?? null);
  const index = buildModelIndex({ className: input.pipelineClassName, blocksClassName: blocks.className, specs, configs });
  return { index, sourced, unsourced };
}

function specFields(spec: ComponentSpec) {
  return {
    name: spec.name,
    type: spec.type,
    library: spec.library,
    description: spec.description,
    config: spec.config,
    variant: spec.variant,
    defaultCreationMethod: spec.defaultCreationMethod,
  };
}
