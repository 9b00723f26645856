import type { ComponentSpec } from '../components/component-spec.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import { pyRepr, pySetOfStrings, pyStr } from '../util/python-repr.js';
import type { ModularPipelineBlocks } from './modular-pipeline-blocks.js';

// The layouts below reproduce diffusers' `__repr__` of blocks as the guide
// prints them, whitespace included: blank lines, trailing spaces, the
// 100-character banner rule and the 19-space continuation of sub-block
// descriptions.

const RULE = '='.repeat(100);
const SUB_DESCRIPTION_INDENT = ' '.repeat(19);

function header(block: ModularPipelineBlocks): string {
  const base = block.baseClassName;
  return base && base !== 'Object' ? `${block.className}(\n  Class: ${base}\n` : `${block.className}(\n`;
}

/** `  Description: first line` with later lines indented by six spaces, ending in a newline. */
export function formatDescriptionSection(description: string): string {
  const [first = '', ...rest] = description.split('\n');
  return [`  Description: ${first}`, ...rest.map((line) => `      ${line}`)].join('\n') + '\n';
}

export function formatComponents(specs: readonly ComponentSpec[], indent: number, emptyLines: boolean): string {
  if (specs.length === 0) return '';
  const base = ' '.repeat(indent);
  const item = ' '.repeat(indent + 4);
  const lines = [`${base}Components:`];
  if (emptyLines) lines.push('');
  specs.forEach((spec, i) => {
    let line = `${item}${spec.name} (\`${spec.typeName}\`)`;
    if (spec.description) line += `: ${spec.description}`;
    const loading = (
      [
        ['repo', spec.pretrainedModelNameOrPath],
        ['subfolder', spec.subfolder],
        ['variant', spec.variant],
        ['revision', spec.revision],
      ] as const
    ).filter(([, v]) => v !== null);
    if (loading.length > 0) line += ` [${loading.map(([k, v]) => `${k}=${v}`).join(', ')}]`;
    lines.push(line);
    if (emptyLines && i < specs.length - 1) lines.push('');
  });
  return lines.join('\n');
}

export function formatConfigs(configs: readonly ConfigSpec[], indent: number, emptyLines: boolean): string {
  if (configs.length === 0) return '';
  const lines = [`${' '.repeat(indent)}Configs:`];
  if (emptyLines) lines.push('');
  configs.forEach((config, i) => {
    let line = `${' '.repeat(indent + 4)}${config.name} (default: ${pyRepr(config.default)})`;
    if (config.description) line += `: ${config.description}`;
    lines.push(line);
    if (emptyLines && i < configs.length - 1) lines.push('');
  });
  return lines.join('\n');
}

/** The printout of a composite block (sequential, loop, auto), as in the guide. */
export function formatCompositeBlocks(block: ModularPipelineBlocks): string {
  let head = header(block);
  // diffusers: a class that names its workflows lists them in its description instead of the trigger banner.
  const triggers = block.showsTriggerBanner && !block.workflowMap ? block.triggerInputs : [];
  if (triggers.length > 0) {
    const example = [...triggers].sort()[0];
    head +=
      `\n  ${RULE}\n` +
      '  This pipeline contains blocks that are selected at runtime based on inputs.\n' +
      `  Trigger Inputs: ${pySetOfStrings(triggers)}\n` +
      `  Use \`get_execution_blocks()\` with input names to see selected blocks (e.g. \`get_execution_blocks('${example}')\`).\n` +
      `  ${RULE}\n\n`;
  }
  let result = `${head}\n${formatDescriptionSection(block.describedWorkflows)}`;
  const components = formatComponents(block.expectedComponents, 2, false);
  if (components.trim()) result += `\n\n${components}`;
  const configs = formatConfigs(block.expectedConfigs, 2, false);
  if (configs.trim()) result += `\n\n${configs}`;
  let blocks = '  Blocks:\n';
  block.blocks.entries().forEach(([name, sub], i) => {
    blocks += `${block.formatSubBlockLabel(name, sub, i)}\n`;
    const [first = '', ...rest] = sub.description.split('\n');
    const description = rest.length > 0 ? `${first}\n${rest.map((l) => SUB_DESCRIPTION_INDENT + l).join('\n')}` : first;
    blocks += `       Description: ${description}\n\n`;
  });
  return `${result}\n\n${blocks})`;
}

/** The printout of a leaf block: its declarations in short form. */
export function formatLeafBlock(block: ModularPipelineBlocks): string {
  let result = `${header(block)}\n${formatDescriptionSection(block.description)}`;
  const components = formatComponents(block.expectedComponents, 2, false);
  if (components) result += `\n${components}\n`;
  const configs = formatConfigs(block.expectedConfigs, 2, false);
  if (configs) result += `\n${configs}\n`;
  result += `\n  Inputs:\n      ${formatInputsShort(block.allInputs) || '(none)'}\n`;
  result += `\n  Outputs:\n      ${formatOutputsShort(block.allInputs, block.outputs) || '(none)'}\n`;
  return `${result})`;
}

/** `Required(a), b=None, steps=50`: required names first, then optional ones with defaults. */
export function formatInputsShort(inputs: readonly InputParam[]): string {
  const required = inputs.filter((p) => p.required).map((p) => `Required(${p.key})`);
  const optional = inputs.filter((p) => !p.required).map((p) => `${p.key}=${pyStr(p.default)}`);
  return [...required, ...optional].join(', ');
}

function formatOutputsShort(inputs: readonly InputParam[], outputs: readonly OutputParam[]): string {
  const names = new Set(inputs.map((p) => p.name));
  return outputs.map((o) => (names.has(o.name) ? `${o.name} (modified)` : o.name)).join(', ');
}
