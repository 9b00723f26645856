import { distinctDefaults, pyRepr, pyStr, typeHintName, type InputParam, type ModularPipelineBlocks, type OutputParam } from '@modular-diffusers/core';

/** Sections of a modular model card, the content diffusers' `generate_modular_model_card_content` produces. */
export interface ModelCardContent {
  pipelineName: string;
  modelDescription: string;
  blocksDescription: string;
  componentsDescription: string;
  configsSection: string;
  ioSpecificationSection: string;
  triggerInputsSection: string;
  tags: string[];
}

/** Task tags by trigger inputs, and by workflow names, as diffusers' generate_modular_model_card_content derives them. */
const TRIGGER_TAGS: Array<[string[], string]> = [
  [['mask', 'mask_image'], 'inpainting'],
  [['image', 'image_latents'], 'image-to-image'],
  [['control_image', 'controlnet_cond'], 'controlnet'],
];
const WORKFLOW_TAGS: Array<[string, string]> = [
  ['inpainting', 'inpainting'],
  ['image2image', 'image-to-image'],
  ['controlnet', 'controlnet'],
  ['text2image', 'text-to-image'],
];

/**
 * diffusers' `format_params_markdown`: a `**Inputs:**` header, then one line per param:
 * ``- `name` (`type`, *optional*, defaults to `v`): description``. An undeclared type reads `None`,
 * as Python prints a None type hint; branch defaults read "`a` or `b`, depending on the workflow".
 */
export function formatParamsMarkdown(params: ReadonlyArray<InputParam | OutputParam>, header: string | null): string {
  if (params.length === 0) return '';
  const lines = header ? [`**${header}:**\n`] : [];
  for (const param of params) {
    const name = param.name ?? `**${param.kwargsType}`;
    let line = `- \`${name}\` (\`${typeHintName(param.typeHint) || 'None'}\``;
    const unless = requiredUnless(param);
    if ('required' in param && !param.required && unless.length === 0) {
      line += ', *optional*';
      if (param.defaultsByBlock) line += `, defaults to ${distinctDefaults(param.defaultsByBlock).map((v) => `\`${pyStr(v)}\``).join(' or ')}, depending on the workflow`;
      else if (param.default !== undefined && param.default !== null) line += `, defaults to \`${pyStr(param.default)}\``;
    }
    // An input the blocks need unless others stand in for it (SDXL's prompt, unless prompt_embeds) is not optional.
    const alternative = unless.length > 0 ? ` (required unless ${unless.map((n) => `\`${n}\``).join(' and ')} are given)` : '';
    lines.push(`${line}): ${param.description || 'No description provided'}${alternative}`);
  }
  return lines.join('\n');
}

function requiredUnless(param: InputParam | OutputParam): string[] {
  const names = (param.metadata as { requiredUnless?: unknown } | null | undefined)?.requiredUnless;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
}

/** The card's content, computed only from what the blocks say about themselves. */
export function modelCardContent(blocks: ModularPipelineBlocks): ModelCardContent {
  const className = blocks.className;
  const pipelineName = className.includes('Blocks') ? className.replace('Blocks', ' Pipeline') : className;
  const subBlocks = [...blocks.blocks.entries()];
  const firstLine = (text: string) => text.trim().split('\n')[0]?.trim() ?? '';

  const blocksDescription =
    subBlocks.length > 0
      ? subBlocks.map(([name, block], i) => `${i + 1}. \`${name}\` (\`${block.className}\`)${block.description ? `: ${firstLine(block.description)}` : ''}`).join('\n')
      : `1. \`${className}\`${blocks.description ? `: ${firstLine(blocks.description)}` : ''}`;
  const count = Math.max(1, subBlocks.length);
  const modelDescription =
    `${blocks.description ? `${blocks.description.trim()}\n\n` : ''}` +
    `This is a modular pipeline with a ${count}-block architecture, built from \`${className}\` with Modular Diffusers. ` +
    'Its blocks, components, inputs and outputs are listed below.';

  const components = blocks.expectedComponents;
  const componentsDescription =
    components.length > 0
      ? components.map((c, i) => `${i + 1}. \`${c.name}\` (\`${c.typeName || 'any'}\`)${c.description ? `: ${c.description}` : ''}`).join('\n')
      : 'No specific components required. Components can be loaded with `loadComponents()` or set with `updateComponents()`.';

  const configs = blocks.expectedConfigs;
  const configsSection =
    configs.length > 0
      ? `## Configuration Parameters\n\n${configs.map((c) => `- \`${c.name}\` (default: \`${pyRepr(c.default)}\`)${c.description ? `: ${c.description}` : ''}`).join('\n')}`
      : '';

  const map = blocks.workflowMap;
  const inputs = blocks.allInputs;
  const inputsText = formatParamsMarkdown(inputs, 'Inputs') || 'No specific inputs defined.';
  const outputsText = formatParamsMarkdown(blocks.outputs, 'Outputs') || 'Standard pipeline outputs.';
  const ioBody = `## Input/Output Specification\n\n${inputsText}\n\n${outputsText}`;
  let ioSpecificationSection = ioBody;
  let triggerInputsSection = '';
  const triggers = blocks.triggerInputs;
  if (map) {
    // diffusers: one collapsible section per workflow with the inputs that select it, then the common inputs/outputs.
    const parts = ['## Workflow Input Specification\n'];
    for (const [name, value] of Object.entries(map)) {
      const names = new Set(Object.keys(Array.isArray(value) ? (value[0] ?? {}) : value));
      parts.push(`<details>\n<summary><strong>${name}</strong></summary>\n`);
      const params = blocks.getWorkflow(name).allInputs.filter((p) => p.name !== null && names.has(p.name));
      parts.push(formatParamsMarkdown(params, null) || 'No additional inputs required.');
      parts.push('');
      parts.push('</details>\n');
    }
    parts.push(`\n${ioBody}`);
    ioSpecificationSection = parts.join('\n');
  } else if (triggers.length > 0) {
    triggerInputsSection =
      '### Conditional Execution\n\nThis pipeline contains blocks that are selected at runtime based on inputs:\n' +
      `- **Trigger Inputs**: ${[...triggers].sort().map((t) => `\`${t}\``).join(', ')}`;
  }

  // diffusers' tags: from workflow names when the blocks declare workflows, else from trigger inputs.
  const tags = ['modular-diffusers', 'diffusers'];
  if (blocks.modelName) tags.push(blocks.modelName);
  if (map) {
    const names = Object.keys(map);
    for (const [part, tag] of WORKFLOW_TAGS) if (names.some((n) => n.includes(part))) tags.push(tag);
  } else if (triggers.length > 0) {
    for (const [group, tag] of TRIGGER_TAGS) if (group.some((t) => triggers.includes(t))) tags.push(tag);
    if (!['image', 'mask', 'image_latents', 'mask_image'].some((t) => triggers.includes(t))) tags.push('text-to-image');
  } else {
    tags.push('text-to-image');
  }
  return { pipelineName, modelDescription, blocksDescription, componentsDescription, configsSection, ioSpecificationSection, triggerInputsSection, tags };
}

/**
 * The `README.md` of a saved pipeline or blocks repo.
 *
 * `library_name` (the Hub lists repos and offers code snippets by it): `diffusers`, as a diffusers
 * push writes, for a repo of installed blocks, which diffusers' `ModularPipeline.from_pretrained`
 * loads, so the Hub's diffusers snippet works; `modular-diffusers` for a repo whose blocks are a
 * JavaScript bundle, which only this runtime can run, so no Python snippet is offered for it.
 */
export function renderModelCard(blocks: ModularPipelineBlocks, options: { repoId?: string | null; hasCode?: boolean } = {}): string {
  const c = modelCardContent(blocks);
  const repo = options.repoId ?? '<this-repo>';
  const trust = options.hasCode ? ', { trustRemoteCode: true }' : '';
  const sections = [
    `---\nlibrary_name: ${options.hasCode ? 'modular-diffusers' : 'diffusers'}\ntags:\n${c.tags.map((t) => `- ${t}`).join('\n')}\n---`,
    `# ${c.pipelineName}`,
    c.modelDescription,
    `## Blocks\n\n${c.blocksDescription}`,
    `## Components\n\n${c.componentsDescription}`,
    c.configsSection,
    c.ioSpecificationSection,
    c.triggerInputsSection,
    '## Usage\n\n```ts\n' +
      "import { ModularPipeline } from '@modular-diffusers/core';\nimport { installHub } from '@modular-diffusers/hub';\n" +
      (options.hasCode ? "import { installSandbox } from '@modular-diffusers/sandbox';\n\ninstallHub();\ninstallSandbox();\n" : '\ninstallHub();\n') +
      `const pipeline = await ModularPipeline.fromPretrained('${repo}'${trust});\nawait pipeline.loadComponents();\n` +
      "const images = await pipeline({ prompt: 'an astronaut riding a horse' }, { output: 'images' });\n```" +
      (options.hasCode ? '\n\nThe blocks are JavaScript that runs in a sandbox, and only with `trustRemoteCode: true`: read the bundle before you trust it.' : ''),
  ];
  return `${sections.filter(Boolean).join('\n\n')}\n`;
}
