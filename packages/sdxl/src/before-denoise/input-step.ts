/**
 * SDXL's input step: reads the batch size off `prompt_embeds`, and expands
 * every embedding to `batch_size * num_images_per_prompt` rows: text
 * embeddings repeat each prompt's row in place ([a, b] -> [a, a, b, b]),
 * IP-Adapter embeddings repeat the whole list, as diffusers does.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState, type StateOf } from '@modular-diffusers/core';
import { Tensor, repeatBatch, repeatInterleave } from '@modular-diffusers/runtime';
import { SdxlInputError, showInputValue } from '../errors.js';
import { unetDtype } from '../pipeline/sdxl-pipeline-properties.js';
import { GUIDER_FIELDS, MODEL, numImagesPerPromptInput, type ModelDType } from './params.js';

const pre = <T>(what: string, typeHint = 'Tensor') => input<T | null>({ typeHint, description: `Pre-generated ${what}` });
const preRequired = (what: string) => input<Tensor>({ required: true, typeHint: 'Tensor', description: `Pre-generated ${what}` });
const tagged = <T>(description: string, typeHint = 'Tensor') => output<T>({ typeHint, kwargsType: GUIDER_FIELDS, description });

const inputStepSpec = blockSpec({
  description:
    'Input processing step that:\n' +
    '  1. Determines `batch_size` and `dtype` based on `prompt_embeds`\n' +
    '  2. Adjusts input tensor shapes based on `batch_size` (number of prompts) and `num_images_per_prompt`\n\n' +
    'All input tensors are expected to have either batch_size=1 or match the batch_size\n' +
    'of prompt_embeds. The tensors will be duplicated across the batch dimension to\n' +
    'have a final batch_size of batch_size * num_images_per_prompt.',
  inputs: {
    num_images_per_prompt: numImagesPerPromptInput(),
    prompt_embeds: preRequired('text embeddings. Can be generated from text_encoder step.'),
    negative_prompt_embeds: pre<Tensor>('negative text embeddings. Can be generated from text_encoder step.'),
    pooled_prompt_embeds: preRequired('pooled text embeddings. Can be generated from text_encoder step.'),
    negative_pooled_prompt_embeds: pre<Tensor>('negative pooled text embeddings. Can be generated from text_encoder step.'),
    ip_adapter_embeds: pre<Tensor[]>('image embeddings for IP-Adapter. Can be generated from ip_adapter step.', 'List[Tensor]'),
    negative_ip_adapter_embeds: pre<Tensor[]>('negative image embeddings for IP-Adapter. Can be generated from ip_adapter step.', 'List[Tensor]'),
  },
  outputs: {
    batch_size: output<number>({
      typeHint: 'int',
      description: 'Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt',
    }),
    dtype: output<ModelDType>({ typeHint: 'dtype', description: 'Data type of model tensor inputs (determined by `prompt_embeds`)' }),
    prompt_embeds: tagged<Tensor>('text embeddings used to guide the image generation'),
    negative_prompt_embeds: tagged<Tensor | null>('negative text embeddings used to guide the image generation'),
    pooled_prompt_embeds: tagged<Tensor>('pooled text embeddings used to guide the image generation'),
    negative_pooled_prompt_embeds: tagged<Tensor | null>('negative pooled text embeddings used to guide the image generation'),
    ip_adapter_embeds: tagged<Tensor[] | null>('image embeddings for IP-Adapter', 'List[Tensor]'),
    negative_ip_adapter_embeds: tagged<Tensor[] | null>('negative image embeddings for IP-Adapter', 'List[Tensor]'),
  },
});

export class StableDiffusionXLInputStep extends TypedBlock(inputStepSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    const n = state.get('num_images_per_prompt');
    if (n != null && !(typeof n === 'number' && Number.isInteger(n) && n >= 1)) {
      throw new SdxlInputError(`\`num_images_per_prompt\` must be a positive integer, got ${showInputValue(n)}.`);
    }
  }

  override async call(components: ComponentsOf<typeof inputStepSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    checkEmbeddings(bs);
    const n = bs.num_images_per_prompt;
    bs.batch_size = bs.prompt_embeds.shape[0];
    bs.dtype = unetDtype(components);

    // One image per prompt keeps the tensors as they are (pipeline tensors are not written in place): no copy.
    const perPrompt = (t: Tensor) => (n === 1 ? t : repeatInterleave(t, n, 0));
    const perPromptOrNull = (t: Tensor | null | undefined) => (t == null ? null : perPrompt(t));
    bs.prompt_embeds = perPrompt(bs.prompt_embeds);
    bs.negative_prompt_embeds = perPromptOrNull(bs.negative_prompt_embeds);
    bs.pooled_prompt_embeds = perPrompt(bs.pooled_prompt_embeds);
    bs.negative_pooled_prompt_embeds = perPromptOrNull(bs.negative_pooled_prompt_embeds);
    const wholeList = (list: readonly Tensor[] | null | undefined) => (list == null ? null : list.map((t) => repeatBatch(t, n)));
    bs.ip_adapter_embeds = wholeList(bs.ip_adapter_embeds);
    bs.negative_ip_adapter_embeds = wholeList(bs.negative_ip_adapter_embeds);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The embeddings as given: checked at run time too, since a caller's values are not typed. */
function checkEmbeddings(bs: StateOf<typeof inputStepSpec>): void {
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
  for (const name of ['ip_adapter_embeds', 'negative_ip_adapter_embeds'] as const) {
    if (bs[name] != null && !Array.isArray(bs[name])) throw new SdxlInputError(`\`${name}\` must be a list of Tensors, one per IP-Adapter.`);
  }
  const negatives = bs.negative_ip_adapter_embeds;
  if (Array.isArray(bs.ip_adapter_embeds) && Array.isArray(negatives)) {
    bs.ip_adapter_embeds.forEach((t, i) => {
      if (shape(t) !== shape(negatives[i])) {
        throw new SdxlInputError(`\`ip_adapter_embeds\` and \`negative_ip_adapter_embeds\` must match, but entry ${i} is ${shape(t)} != ${shape(negatives[i])}.`);
      }
    });
  }
}
