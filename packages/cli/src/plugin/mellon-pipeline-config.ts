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

/** `from_blocks`: each template node whose block name is a top-level step, narrowed to what that step takes. */
export function nodeSpecsFromBlocks(blocks: ModularPipelineBlocks, template = defaultNodeSpecs()): Record<string, MellonNodeSpec | null> {
  const out: Record<string, MellonNodeSpec | null> = {};
  for (const [nodeType, spec] of Object.entries(template)) {
    const block = spec ? blocks.subBlocks.get(spec.blockName) : undefined;
    if (!spec || !block) {
      out[nodeType] = null;
      continue;
    }
    const inputs = spec.inputs.filter((p) => keeps(p, new Set(block.inputNames)));
    const modelInputs = spec.modelInputs.filter((p) => keeps(p, new Set(block.componentNames)));
    const outputs = spec.outputs.filter((p) => keeps(p, new Set(block.outputNames)));
    out[nodeType] = {
      inputs,
      modelInputs,
      outputs,
      requiredInputs: spec.requiredInputs.filter((r) => inputs.some((p) => p.name === r)),
      requiredModelInputs: spec.requiredModelInputs.filter((r) => modelInputs.some((p) => p.name === r)),
      blockName: spec.blockName,
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
  const inputs = blocks.allInputs.filter((p) => p.name).map(inputToMellon);
  const outputs = blocks.outputs.map((o) => {
    const kind = mellonKind(o);
    return mellonOutput(typeof kind === 'string' ? kind : null, o.name);
  });
  outputs.push(mellonParam('doc'));
  const modelInputs = blocks.componentNames.map((name) => mellonInput('model', name, undefined));
  return { inputs, modelInputs, outputs, requiredInputs: [], requiredModelInputs: [], blockName: 'custom' };
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
    default_dtype: options.defaultDtype ?? 'float16',
    node_params: nodeParams,
  };
}
