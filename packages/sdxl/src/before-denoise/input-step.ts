/**
 * SDXL's input step: reads the batch size off `prompt_embeds`, and expands
 * every embedding to `batch_size * num_images_per_prompt` rows: text
 * embeddings repeat each prompt's row in place ([a, b] -> [a, a, b, b]),
 * IP-Adapter embeddings repeat the whole list, as diffusers does.
 */
import { InputParam, OutputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { Tensor, repeatBatch, repeatInterleave } from '@modular-diffusers/runtime';
import { SdxlInputError, showInputValue } from '../errors.js';
import { unetDtype } from '../pipeline/sdxl-pipeline-properties.js';
import { GUIDER_FIELDS, MODEL } from './params.js';

export class StableDiffusionXLInputStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return (
      'Input processing step that:\n' +
      '  1. Determines `batch_size` and `dtype` based on `prompt_embeds`\n' +
      '  2. Adjusts input tensor shapes based on `batch_size` (number of prompts) and `num_images_per_prompt`\n\n' +
      'All input tensors are expected to have either batch_size=1 or match the batch_size\n' +
      'of prompt_embeds. The tensors will be duplicated across the batch dimension to\n' +
      'have a final batch_size of batch_size * num_images_per_prompt.'
    );
  }

  override get inputs() {
    return [new InputParam('num_images_per_prompt', { default: 1 })];
  }

  override get intermediatesInputs() {
    const pre = (name: string, what: string, required = false, typeHint = 'Tensor') =>
      new InputParam(name, { required, typeHint, description: `Pre-generated ${what}` });
    return [
      pre('prompt_embeds', 'text embeddings. Can be generated from text_encoder step.', true),
      pre('negative_prompt_embeds', 'negative text embeddings. Can be generated from text_encoder step.'),
      pre('pooled_prompt_embeds', 'pooled text embeddings. Can be generated from text_encoder step.', true),
      pre('negative_pooled_prompt_embeds', 'negative pooled text embeddings. Can be generated from text_encoder step.'),
      pre('ip_adapter_embeds', 'image embeddings for IP-Adapter. Can be generated from ip_adapter step.', false, 'List[Tensor]'),
      pre('negative_ip_adapter_embeds', 'negative image embeddings for IP-Adapter. Can be generated from ip_adapter step.', false, 'List[Tensor]'),
    ];
  }

  override get intermediatesOutputs() {
    const tagged = (name: string, description: string, typeHint = 'Tensor') => new OutputParam(name, { typeHint, kwargsType: GUIDER_FIELDS, description });
    return [
      new OutputParam('batch_size', {
        typeHint: 'int',
        description: 'Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt',
      }),
      new OutputParam('dtype', { typeHint: 'dtype', description: 'Data type of model tensor inputs (determined by `prompt_embeds`)' }),
      tagged('prompt_embeds', 'text embeddings used to guide the image generation'),
      tagged('negative_prompt_embeds', 'negative text embeddings used to guide the image generation'),
      tagged('pooled_prompt_embeds', 'pooled text embeddings used to guide the image generation'),
      tagged('negative_pooled_prompt_embeds', 'negative pooled text embeddings used to guide the image generation'),
      tagged('ip_adapter_embeds', 'image embeddings for IP-Adapter', 'List[Tensor]'),
      tagged('negative_ip_adapter_embeds', 'negative image embeddings for IP-Adapter', 'List[Tensor]'),
    ];
  }

  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    const n = state.get('num_images_per_prompt');
    if (n != null && !(Number.isInteger(n) && (n as number) >= 1)) {
      throw new SdxlInputError(`\`num_images_per_prompt\` must be a positive integer, got ${showInputValue(n)}.`);
    }
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    checkEmbeddings(bs);
    const n: number = bs.num_images_per_prompt;
    const promptEmbeds = bs.prompt_embeds as Tensor<'float32'>;
    bs.batch_size = promptEmbeds.shape[0];
    bs.dtype = unetDtype(components);

    // One image per prompt keeps the tensors as they are (pipeline tensors are not written in place): no copy.
    const perPrompt = (t: Tensor | null | undefined) => (t == null || n === 1 ? t : repeatInterleave(t, n, 0));
    bs.prompt_embeds = perPrompt(promptEmbeds);
    bs.negative_prompt_embeds = perPrompt(bs.negative_prompt_embeds);
    bs.pooled_prompt_embeds = perPrompt(bs.pooled_prompt_embeds);
    bs.negative_pooled_prompt_embeds = perPrompt(bs.negative_pooled_prompt_embeds);
    const wholeList = (list: Tensor[] | null | undefined) => (list == null ? list : list.map((t) => repeatBatch(t, n)));
    bs.ip_adapter_embeds = wholeList(bs.ip_adapter_embeds) ?? null;
    bs.negative_ip_adapter_embeds = wholeList(bs.negative_ip_adapter_embeds) ?? null;
    bs.negative_prompt_embeds ??= null;
    bs.negative_pooled_prompt_embeds ??= null;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

function checkEmbeddings(bs: Record<string, any>): void {
  const shape = (t: unknown) => (t instanceof Tensor ? `[${t.shape.join(', ')}]` : String(t));
  if (!(bs.prompt_embeds instanceof Tensor) || bs.prompt_embeds.rank !== 3) {
    throw new SdxlInputError(`\`prompt_embeds\` must be a [batch, 77, 2048] Tensor, got ${shape(bs.prompt_embeds)}.`);
  }
  if (bs.negative_prompt_embeds != null && shape(bs.negative_prompt_embeds) !== shape(bs.prompt_embeds)) {
    throw new SdxlInputError(
      `\`prompt_embeds\` and \`negative_prompt_embeds\` must have the same shape when passed directly, but got ${shape(bs.prompt_embeds)} != ${shape(bs.negative_prompt_embeds)}.`,
    );
  }
  if (bs.negative_prompt_embeds != null && bs.negative_pooled_prompt_embeds == null) {
    throw new SdxlInputError('`negative_prompt_embeds` was given without `negative_pooled_prompt_embeds`; pass both (they come from the same text encoder run).');
  }
  for (const name of ['ip_adapter_embeds', 'negative_ip_adapter_embeds']) {
    if (bs[name] != null && !Array.isArray(bs[name])) throw new SdxlInputError(`\`${name}\` must be a list of Tensors, one per IP-Adapter.`);
  }
  if (Array.isArray(bs.ip_adapter_embeds) && Array.isArray(bs.negative_ip_adapter_embeds)) {
    bs.ip_adapter_embeds.forEach((t: Tensor, i: number) => {
      if (shape(t) !== shape(bs.negative_ip_adapter_embeds[i])) {
        throw new SdxlInputError(`\`ip_adapter_embeds\` and \`negative_ip_adapter_embeds\` must match, but entry ${i} is ${shape(t)} != ${shape(bs.negative_ip_adapter_embeds[i])}.`);
      }
    });
  }
}
