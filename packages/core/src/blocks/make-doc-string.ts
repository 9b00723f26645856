import type { ComponentSpec } from '../components/component-spec.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import { typeHintName } from '../params/type-hint.js';
import { pyStr } from '../util/python-repr.js';
import { distinctDefaults } from './combine-params.js';
import { formatComponents, formatConfigs } from './format-blocks.js';

export interface DocSource {
  className: string;
  description: string;
  components: readonly ComponentSpec[];
  configs: readonly ConfigSpec[];
  inputs: readonly InputParam[];
  outputs: readonly OutputParam[];
}

const MAX_LINE = 115;

/**
 * The `doc` text of a block or pipeline (diffusers' `make_doc_string`):
 * class name, description, components, configs, then every input with its
 * type, whether it is optional and its default, and every output.
 */
export function makeDocString(source: DocSource): string {
  let out = `class ${source.className}\n\n`;
  const description = source.description.trim();
  if (description) out += description.split('\n').map((l) => `  ${l}`).join('\n') + '\n\n';
  if (source.components.length > 0) out += formatComponents(source.components, 2, true) + '\n\n';
  if (source.configs.length > 0) out += formatConfigs(source.configs, 2, true) + '\n\n';
  out += formatParams(source.inputs, 'Inputs');
  out += '\n\n';
  out += formatParams(source.outputs, 'Outputs');
  return out;
}

function formatParams(params: ReadonlyArray<InputParam | OutputParam>, title: string): string {
  if (params.length === 0) return '';
  const base = '  ';
  const item = ' '.repeat(6);
  const text = ' '.repeat(10);
  const entries = params.map((param) => {
    const name = param.name ?? `**${param.kwargsType}`;
    let line = `${item}${name} (\`${typeHintName(param.typeHint) || 'Any'}\``;
    if ('required' in param) {
      if (!param.required) {
        line += ', *optional*';
        if (param.defaultsByBlock) line += `, defaults to ${distinctDefaults(param.defaultsByBlock).map(pyStr).join(' or ')}, depending on the workflow`;
        else if (param.default !== undefined && param.default !== null) line += `, defaults to ${pyStr(param.default)}`;
      }
    }
    line += '):';
    if (param.description) line += `\n${text}${wrap(param.description, text, MAX_LINE)}`;
    return line;
  });
  return [`${base}${title}:`, ...entries].join('\n\n');
}

function wrap(text: string, indent: string, max: number): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > max) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return lines.join(`\n${indent}`);
}
