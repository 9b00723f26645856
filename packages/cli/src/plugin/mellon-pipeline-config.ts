/**
 * `mellon_pipeline_config.json`, the file diffusers' `MellonPipelineConfig`
 * writes so the Mellon node UI can build nodes for a pipeline:
 * `{ label, default_repo, default_dtype, node_params: { <node type>: null | {
 * params, input_names, model_input_names, output_names, block_name, node_type } } }`.
 *
 * Blocks whose top-level steps carry the SDXL node names (text_encoder,
 * vae_encoder, denoise, decode) get one node per matching step, showing only
 * the params that step takes (`from_blocks`); any other blocks become a single
 * "custom" node from their own inputs, outputs and components (`from_custom_block`).
 */
import type { InputParam, ModularPipelineBlocks } from '@modular-diffusers/core';
import { mellonInput, mellonOutput, mellonParam, mellonParamToDict, type MellonParam } from './mellon-params.js';

export const MELLON_PIPELINE_CONFIG_FILE = 'mellon_pipeline_config.json';

export interface MellonNodeSpec {
  inputs: MellonParam[];
  modelInputs: MellonParam[];
  outputs: MellonParam[];
  requiredInputs: string[];
  requiredModelInputs: string[];
  blockName: string;
}

export interface MellonNodeParams {
  params: Record<string, Record<string, unknown>>;
  input_names: string[];
  model_input_names: string[];
  output_names: string[];
  block_name: string;
  node_type: string;
}

export interface MellonPipelineConfigJson {
  label: string;
  default_repo: string;
  default_dtype: string;
  node_params: Record<string, MellonNodeParams | null>;
}

/** diffusers' DEFAULT_NODE_SPECS: the SDXL-shaped nodes and the block each one maps to. */
export function defaultNodeSpecs(): Record<string, MellonNodeSpec | null> {
  return {
    controlnet: null,
    denoise: {
      inputs: [
        mellonParam('embeddings', { display: 'input' }),
        mellonParam('width'),
        mellonParam('height'),
        mellonParam('seed'),
        mellonParam('num_inference_steps'),
        mellonParam('num_frames'),
        mellonParam('guidance_scale'),
        mellonParam('strength'),
        mellonParam('image_latents_with_strength'),
        mellonParam('image_latents'),
        mellonParam('first_frame_latents'),
        mellonParam('controlnet_bundle', { display: 'input' }),
      ],
      modelInputs: [mellonParam('unet'), mellonParam('guider'), mellonParam('scheduler')],
      outputs: [mellonParam('latents', { display: 'output' }), mellonParam('latents_preview'), mellonParam('doc')],
      requiredInputs: ['embeddings'],
      requiredModelInputs: ['unet', 'scheduler'],
      blockName: 'denoise',
    },
    vae_encoder: {
      inputs: [mellonParam('image')],
      modelInputs: [mellonParam('vae')],
      outputs: [mellonParam('image_latents', { display: 'output' }), mellonParam('doc')],
      requiredInputs: ['image'],
      requiredModelInputs: ['vae'],
      blockName: 'vae_encoder',
    },
    text_encoder: {
      inputs: [mellonParam('prompt'), mellonParam('negative_prompt')],
      modelInputs: [mellonParam('text_encoders')],
      outputs: [mellonParam('embeddings', { display: 'output' }), mellonParam('doc')],
      requiredInputs: ['prompt'],
      requiredModelInputs: ['text_encoders'],
      blockName: 'text_encoder',
    },
    decoder: {
      inputs: [mellonParam('latents', { display: 'input' })],
      modelInputs: [mellonParam('vae')],
      outputs: [mellonParam('images'), mellonParam('videos'), mellonParam('doc')],
      requiredInputs: ['latents'],
      requiredModelInputs: ['vae'],
      blockName: 'decode',
    },
  };
}

const markRequired = (label: string) => (label.endsWith(' *') ? label : `${label} *`);

/** One node in Mellon's format; an output named like an input is renamed `out_<name>`. */
export function nodeSpecToMellonDict(spec: MellonNodeSpec, nodeType: string): MellonNodeParams {
  const params: Record<string, Record<string, unknown>> = {};
  const inputNames: string[] = [];
  const modelInputNames: string[] = [];
  const outputNames: string[] = [];
  for (const p of spec.inputs) {
    const dict = mellonParamToDict(p);
    if (spec.requiredInputs.includes(p.name)) dict.label = markRequired(String(dict.label));
    params[p.name] = dict;
    inputNames.push(p.name);
  }
  for (const p of spec.modelInputs) {
    const dict = mellonParamToDict(p);
    if (spec.requiredModelInputs.includes(p.name)) dict.label = markRequired(String(dict.label));
    params[p.name] = dict;
    modelInputNames.push(p.name);
  }
  for (const p of spec.outputs) {
    const name = inputNames.includes(p.name) ? `out_${p.name}` : p.name;
    params[name] = mellonParamToDict(p);
    outputNames.push(name);
  }
  return { params, input_names: inputNames, model_input_names: modelInputNames, output_names: outputNames, block_name: spec.blockName, node_type: nodeType };
}

function keeps(p: MellonParam, names: ReadonlySet<string>): boolean {
  return p.requiredBlockParams === undefined || p.requiredBlockParams.every((n) => names.has(n));
}

/**
 * The top-level step a template node maps to: the step of the template's block name (diffusers'
 * `from_blocks`), else, beyond diffusers, the one unclaimed step that has every component and
 * input the node requires (diff-diff names its VAE encoder step `image_encoder`; by name alone it
 * would get no VAE-encoder node although it needs an image). The node then names that step.
 */
function stepFor(blocks: ModularPipelineBlocks, spec: MellonNodeSpec, claimed: ReadonlySet<string>): [string, ModularPipelineBlocks] | null {
  const byName = blocks.subBlocks.get(spec.blockName);
  if (byName) return [spec.blockName, byName];
  if (spec.requiredModelInputs.length === 0) return null;
  const fits = blocks.subBlocks.entries().filter(
    ([name, step]) =>
      !claimed.has(name) &&
      spec.requiredModelInputs.every((c) => step.componentNames.includes(c)) &&
      spec.requiredInputs.every((i) => step.inputNames.includes(i)),
  );
  return fits.length === 1 ? fits[0]! : null;
}

/** `from_blocks`: each template node whose block is a top-level step, narrowed to what that step takes. */
export function nodeSpecsFromBlocks(blocks: ModularPipelineBlocks, template = defaultNodeSpecs()): Record<string, MellonNodeSpec | null> {
  const out: Record<string, MellonNodeSpec | null> = {};
  const claimed = new Set(Object.values(template).flatMap((spec) => (spec && blocks.subBlocks.has(spec.blockName) ? [spec.blockName] : [])));
  for (const [nodeType, spec] of Object.entries(template)) {
    const found = spec ? stepFor(blocks, spec, claimed) : null;
    if (!spec || !found) {
      out[nodeType] = null;
      continue;
    }
    const [blockName, block] = found;
    claimed.add(blockName);
    const inputs = spec.inputs.filter((p) => keeps(p, new Set(block.inputNames)));
    const modelInputs = spec.modelInputs.filter((p) => keeps(p, new Set(block.componentNames)));
    const outputs = spec.outputs.filter((p) => keeps(p, new Set(block.outputNames)));
    out[nodeType] = {
      inputs,
      modelInputs,
      outputs,
      requiredInputs: spec.requiredInputs.filter((r) => inputs.some((p) => p.name === r)),
      requiredModelInputs: spec.requiredModelInputs.filter((r) => modelInputs.some((p) => p.name === r)),
      blockName,
    };
  }
  return out;
}

function mellonKind(param: { metadata: Record<string, unknown> | null }): string | MellonParam | null {
  const value = param.metadata?.mellon;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as MellonParam).type === 'string') return value as MellonParam;
  return null;
}

function inputToMellon(p: InputParam): MellonParam {
  const kind = mellonKind(p);
  if (kind !== null && typeof kind === 'object') return { ...kind, name: kind.name ?? p.name! };
  return mellonInput(kind, p.name!, p.default);
}

/** `from_custom_block`: one "custom" node from the block's inputs, outputs and components, plus a doc output. */
export function nodeSpecFromCustomBlock(blocks: ModularPipelineBlocks): MellonNodeSpec {
  const named = blocks.allInputs.filter((p) => p.name);
  const inputs = named.map(inputToMellon);
  const outputs = blocks.outputs.map((o) => {
    const kind = mellonKind(o);
    return mellonOutput(typeof kind === 'string' ? kind : null, o.name);
  });
  outputs.push(mellonParam('doc'));
  const modelInputs = blocks.componentNames.map((name) => mellonInput('model', name, undefined));
  // diffusers marks the block's required inputs (their labels get " *").
  return { inputs, modelInputs, outputs, requiredInputs: named.filter((p) => p.required).map((p) => p.name!), requiredModelInputs: [], blockName: 'custom' };
}

/** `SDXLDiffDiffBlocks` -> `S D X L Diff Diff Blocks`, the label diffusers gives a custom node. */
export function customNodeLabel(className: string): string {
  return className.replace(/[A-Z]/g, (c) => ` ${c}`).trim();
}

export interface MellonConfigOptions {
  defaultRepo?: string;
  defaultDtype?: string;
  label?: string;
}

/** The config for a plugin's blocks: SDXL-shaped nodes when any top-level step matches one, else a custom node. */
export function buildMellonPipelineConfig(blocks: ModularPipelineBlocks, options: MellonConfigOptions = {}): MellonPipelineConfigJson {
  const specs = nodeSpecsFromBlocks(blocks);
  const matched = Object.values(specs).some((s) => s !== null);
  if (!matched) {
    return {
      label: options.label ?? customNodeLabel(blocks.className),
      default_repo: options.defaultRepo ?? '',
      default_dtype: options.defaultDtype ?? '',
      node_params: { custom: nodeSpecToMellonDict(nodeSpecFromCustomBlock(blocks), 'custom') },
    };
  }
  const nodeParams: Record<string, MellonNodeParams | null> = {};
  for (const [nodeType, spec] of Object.entries(specs)) nodeParams[nodeType] = spec ? nodeSpecToMellonDict(spec, nodeType) : null;
  return {
    label: options.label ?? blocks.modelName ?? '',
    default_repo: options.defaultRepo ?? '',
    // diffusers' from_blocks default.
    default_dtype: options.defaultDtype ?? 'bfloat16',
    node_params: nodeParams,
  };
}

/**
 * Reads a `mellon_pipeline_config.json` (this project's or diffusers' `MellonPipelineConfig.save`), checking its
 * shape: `label`, `default_repo`, `default_dtype` strings and `node_params` of null or
 * `{ params, input_names, model_input_names, output_names, block_name, node_type }`. `source` labels errors.
 */
export function parseMellonPipelineConfig(content: unknown, source: string): MellonPipelineConfigJson {
  const fail = (problem: string): never => {
    throw new TypeError(`${MELLON_PIPELINE_CONFIG_FILE} of ${source} is malformed: ${problem}.`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!isObject(content)) fail('it must be a JSON object');
  const raw = content as Record<string, unknown>;
  for (const key of ['label', 'default_repo', 'default_dtype']) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') fail(`"${key}" must be a string`);
  }
  if (!isObject(raw.node_params)) fail('"node_params" must be an object of node types');
  const nodeParams: Record<string, MellonNodeParams | null> = {};
  for (const [nodeType, node] of Object.entries(raw.node_params as Record<string, unknown>)) {
    if (node === null) {
      nodeParams[nodeType] = null;
      continue;
    }
    if (!isObject(node) || !isObject(node.params)) fail(`node "${nodeType}" must be null or have a "params" object`);
    const n = node as Record<string, unknown>;
    for (const key of ['input_names', 'model_input_names', 'output_names']) {
      if (!strings(n[key] ?? [])) fail(`node "${nodeType}": "${key}" must be a list of names`);
    }
    const params = n.params as Record<string, unknown>;
    for (const name of [...((n.input_names as string[]) ?? []), ...((n.model_input_names as string[]) ?? []), ...((n.output_names as string[]) ?? [])]) {
      if (!isObject(params[name])) fail(`node "${nodeType}" lists "${name}" but has no params entry for it`);
    }
    nodeParams[nodeType] = {
      params: params as Record<string, Record<string, unknown>>,
      input_names: (n.input_names as string[]) ?? [],
      model_input_names: (n.model_input_names as string[]) ?? [],
      output_names: (n.output_names as string[]) ?? [],
      block_name: typeof n.block_name === 'string' ? n.block_name : nodeType,
      node_type: typeof n.node_type === 'string' ? n.node_type : nodeType,
    };
  }
  return { label: (raw.label as string) ?? '', default_repo: (raw.default_repo as string) ?? '', default_dtype: (raw.default_dtype as string) ?? '', node_params: nodeParams };
}
