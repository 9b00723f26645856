import { pyRepr, typeHintName, type ModularPipelineBlocks } from '@modular-diffusers/core';

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

/** Task tags by trigger input name, as diffusers derives them. */
const TASK_TAGS: Array<[string, string]> = [
  ['mask', 'inpainting'],
  ['image', 'image-to-image'],
  ['control_image', 'controlnet'],
];

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

  const inputs = blocks.allInputs.filter((p) => p.name);
  // An input the blocks need unless others stand in for it (SDXL's prompt, unless prompt_embeds) is listed as required.
  const unless = (p: (typeof inputs)[number]): string[] => {
    const names = (p.metadata as { requiredUnless?: unknown } | null)?.requiredUnless;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  };
  const required = inputs.filter((p) => p.required || unless(p).length > 0);
  const optional = inputs.filter((p) => !p.required && unless(p).length === 0);
  const inputLine = (p: (typeof inputs)[number]) => {
    const type = typeHintName(p.typeHint);
    const defaults = !p.required && unless(p).length === 0 && p.default !== undefined && p.default !== null ? `, defaults to \`${pyRepr(p.default)}\`` : '';
    const alternative = unless(p).length > 0 ? ` (unless ${unless(p).map((n) => `\`${n}\``).join(' and ')} are given)` : '';
    return `- \`${p.name}\`${type ? ` (\`${type}\`)` : ''}${alternative}${defaults}${p.description ? `: ${p.description}` : ''}`;
  };
  let inputsText = 'No specific inputs defined.';
  if (inputs.length > 0) {
    inputsText = [
      required.length > 0 ? `**Required:**\n\n${required.map(inputLine).join('\n')}` : '',
      optional.length > 0 ? `**Optional:**\n\n${optional.map(inputLine).join('\n')}` : '',
    ]
      .filter(Boolean)
      .join('\n\n');
  }
  const outputs = blocks.outputs;
  const outputsText =
    outputs.length > 0
      ? outputs.map((o) => `- \`${o.name}\`${typeHintName(o.typeHint) ? ` (\`${typeHintName(o.typeHint)}\`)` : ''}${o.description ? `: ${o.description}` : ''}`).join('\n')
      : 'Standard pipeline outputs.';
  const ioSpecificationSection = `## Inputs\n\n${inputsText}\n\n## Outputs\n\n${outputsText}`;

  const triggers = blocks.triggerInputs;
  const triggerInputsSection =
    triggers.length > 0
      ? `### Conditional Execution\n\nThis pipeline runs different blocks depending on which of these inputs are given: ${triggers.map((t) => `\`${t}\``).join(', ')}.`
      : '';

  const tags = ['modular-diffusers', 'diffusers'];
  if (blocks.modelName) tags.push(blocks.modelName);
  const taskTags = TASK_TAGS.filter(([trigger]) => triggers.includes(trigger)).map(([, tag]) => tag);
  tags.push(...(taskTags.length > 0 ? taskTags : ['text-to-image']));
  return { pipelineName, modelDescription, blocksDescription, componentsDescription, configsSection, ioSpecificationSection, triggerInputsSection, tags };
}

/** The `README.md` of a saved pipeline or blocks repo. */
export function renderModelCard(blocks: ModularPipelineBlocks, options: { repoId?: string | null; hasCode?: boolean } = {}): string {
  const c = modelCardContent(blocks);
  const repo = options.repoId ?? '<this-repo>';
  const trust = options.hasCode ? ', { trustRemoteCode: true }' : '';
  const sections = [
    `---\nlibrary_name: modular-diffusers\ntags:\n${c.tags.map((t) => `- ${t}`).join('\n')}\n---`,
    `# ${c.pipelineName}`,
    c.modelDescription,
    `## Blocks\n\n${c.blocksDescription}`,
    `## Components\n\n${c.componentsDescription}`,
    c.configsSection,
    c.ioSpecificationSection,
    c.triggerInputsSection,
    '## Usage\n\n```ts\n' +
      "import { ModularPipeline } from '@modular-diffusers/core';\nimport '@modular-diffusers/hub';\n\n" +
      `const pipeline = await ModularPipeline.fromPretrained('${repo}'${trust});\nawait pipeline.loadComponents();\n` +
      "const images = await pipeline({ prompt: 'an astronaut riding a horse' }, { output: 'images' });\n```" +
      (options.hasCode ? '\n\nThe blocks are JavaScript that runs in a sandbox, and only with `trustRemoteCode: true`: read the bundle before you trust it.' : ''),
  ];
  return `${sections.filter(Boolean).join('\n\n')}\n`;
}
