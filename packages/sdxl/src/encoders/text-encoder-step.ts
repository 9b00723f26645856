/**
 * SDXL's text encoder step: both CLIP encoders, each conditioned on a hidden
 * state near its end (the penultimate, or earlier with `clip_skip`), joined
 * on the last axis into [B, 77, 768 + 1280]; the pooled embedding comes from
 * the second encoder's projection. Negative embeddings are computed only
 * when the guider runs more than one condition; with
 * `force_zeros_for_empty_prompt` and no negative prompt they are zeros.
 * Embeddings passed in (`prompt_embeds`, ...) are used instead of encoding.
 */
import { ConfigSpec, TypedBlock, blockSpec, blockStateContext, input, output, type BlockResult, type ComponentsOf, type Logger, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { Tensor, concat, tokenIdsToTensor, type ClipTokenizer } from '@modular-diffusers/runtime';
import { guiderComponent, textEncoder2Component, textEncoderComponent, tokenizerComponent } from '../components/component-specs.js';
import type { CLIPTextModel } from '../components/clip-text-model.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { checkPromptInput, isPromptInput, negativePromptList, promptList, type PromptInput } from './prompt-input.js';

const MODEL = 'stable-diffusion-xl';
const EMBEDS_TAG = 'guider_input_fields';

export interface PromptEmbeddings {
  promptEmbeds: Tensor<'float32'>;
  pooledPromptEmbeds: Tensor<'float32'>;
}

interface EncoderPair {
  tokenizer: ClipTokenizer;
  textEncoder: CLIPTextModel;
}

const precomputed = (what: string) =>
  input<Tensor<'float32'> | null>({ typeHint: 'Tensor', description: `Pre-generated ${what}; when given, the prompt is not encoded.` });
const embedsOutput = (description: string) => output<Tensor<'float32'> | null>({ typeHint: 'Tensor', kwargsType: EMBEDS_TAG, description });

const textEncoderSpec = blockSpec({
  description: 'Text Encoder step that generate text_embeddings to guide the image generation',
  components: {
    text_encoder: textEncoderComponent(),
    text_encoder_2: textEncoder2Component(),
    tokenizer: tokenizerComponent(),
    tokenizer_2: tokenizerComponent(),
    guider: guiderComponent(),
  },
  configs: [new ConfigSpec('force_zeros_for_empty_prompt', true)],
  inputs: {
    // Not `required` (diffusers: precomputed embeddings may stand in), but needed without them:
    // model cards and `modular inspect` list it as required unless those are given.
    prompt: input<PromptInput | null>({ metadata: { requiredUnless: ['prompt_embeds', 'pooled_prompt_embeds'] } }),
    prompt_2: input<PromptInput | null>(),
    negative_prompt: input<PromptInput | null>(),
    negative_prompt_2: input<PromptInput | null>(),
    cross_attention_kwargs: input<Record<string, unknown> | null>(),
    clip_skip: input<number | null>(),
    prompt_embeds: precomputed('text embeddings [B, 77, 2048]'),
    negative_prompt_embeds: precomputed('negative text embeddings'),
    pooled_prompt_embeds: precomputed('pooled text embeddings [B, 1280]'),
    negative_pooled_prompt_embeds: precomputed('negative pooled text embeddings'),
  },
  outputs: {
    prompt_embeds: embedsOutput('text embeddings used to guide the image generation'),
    negative_prompt_embeds: embedsOutput('negative text embeddings used to guide the image generation'),
    pooled_prompt_embeds: embedsOutput('pooled text embeddings used to guide the image generation'),
    negative_pooled_prompt_embeds: embedsOutput('negative pooled text embeddings used to guide the image generation'),
  },
});

type TextEncoderComponents = ComponentsOf<typeof textEncoderSpec>;

export class StableDiffusionXLTextEncoderStep extends TypedBlock(textEncoderSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    for (const name of ['prompt', 'prompt_2', 'negative_prompt', 'negative_prompt_2']) checkPromptInput(state.get(name), name);
    const prompt = state.get('prompt');
    const embeds = state.get('prompt_embeds');
    if (embeds != null && !(embeds instanceof Tensor && embeds.rank === 3)) {
      throw new SdxlInputError(`\`prompt_embeds\` must be a [batch, 77, 2048] Tensor, got ${describeValue(embeds)}.`);
    }
    if (prompt == null && embeds == null) {
      throw new SdxlInputError('The text encoder step needs `prompt` (a string or a list of strings), or precomputed `prompt_embeds` and `pooled_prompt_embeds`.');
    }
    const batchSize = isPromptInput(prompt) ? promptList(prompt).length : embeds instanceof Tensor ? embeds.shape[0]! : null;
    if (batchSize === null) return;
    for (const name of ['negative_prompt', 'negative_prompt_2']) {
      const negative = state.get(name);
      if (isPromptInput(negative)) negativePromptList(negative, batchSize, name);
    }
    const clipSkip = state.get('clip_skip');
    if (clipSkip != null && !(typeof clipSkip === 'number' && Number.isInteger(clipSkip) && clipSkip >= 0)) {
      throw new SdxlInputError(`\`clip_skip\` must be a non-negative integer (1 uses the layer before the penultimate), got ${showInputValue(clipSkip)}.`);
    }
  }

  override async call(components: TextEncoderComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const logger = blockStateContext(bs)?.logger;
    const prepareUnconditional = (components.guider?.numConditions ?? 1) > 1;
    // The tokenizers and encoders are looked up only when something is encoded: with every embedding given they are not needed.
    const pairs = () => encoderPairs(components);
    const clipSkip = bs.clip_skip ?? null;

    let positive: PromptEmbeddings;
    if (bs.prompt_embeds != null) {
      if (bs.pooled_prompt_embeds == null) {
        throw new SdxlInputError('`prompt_embeds` was given without `pooled_prompt_embeds`; pass both (they come from the same text encoder run).');
      }
      positive = { promptEmbeds: bs.prompt_embeds, pooledPromptEmbeds: bs.pooled_prompt_embeds };
    } else {
      if (bs.prompt == null) {
        throw new SdxlInputError('The text encoder step needs `prompt` (a string or a list of strings), or precomputed `prompt_embeds` and `pooled_prompt_embeds`.');
      }
      const prompts = promptList(bs.prompt);
      const prompts2 = bs.prompt_2 ? promptList(bs.prompt_2) : prompts;
      positive = await encodePrompts(pairs(), [prompts, prompts2], { hiddenStateIndex: clipSkip === null ? -2 : -(clipSkip + 2), logger });
    }
    const batchSize = positive.promptEmbeds.shape[0]!;

    let negative: PromptEmbeddings | null = null;
    if (prepareUnconditional) {
      if (bs.negative_prompt_embeds != null) {
        if (bs.negative_pooled_prompt_embeds == null) {
          throw new SdxlInputError('`negative_prompt_embeds` was given without `negative_pooled_prompt_embeds`; pass both.');
        }
        negative = { promptEmbeds: bs.negative_prompt_embeds, pooledPromptEmbeds: bs.negative_pooled_prompt_embeds };
      } else if (bs.negative_prompt == null && components.config.force_zeros_for_empty_prompt) {
        // Embeddings encoded here move next to their zeros; the caller's tensors are kept as given.
        const encodedHere = bs.prompt_embeds == null;
        const withZeros = (t: Tensor<'float32'>): [Tensor<'float32'>, Tensor<'float32'>] => (encodedHere ? withZerosAfter(t) : [t, Tensor.zeros('float32', t.shape)]);
        const [promptEmbeds, zeroPromptEmbeds] = withZeros(positive.promptEmbeds);
        const [pooledPromptEmbeds, zeroPooledPromptEmbeds] = withZeros(positive.pooledPromptEmbeds);
        positive = { promptEmbeds, pooledPromptEmbeds };
        negative = { promptEmbeds: zeroPromptEmbeds, pooledPromptEmbeds: zeroPooledPromptEmbeds };
      } else {
        const negativePrompt: PromptInput = bs.negative_prompt || '';
        const negativePrompt2: PromptInput = bs.negative_prompt_2 || negativePrompt;
        const lists = [negativePromptList(negativePrompt, batchSize), negativePromptList(negativePrompt2, batchSize, 'negative_prompt_2')];
        // diffusers encodes negatives at the penultimate layer whatever clip_skip says.
        negative = await encodePrompts(pairs(), lists, { hiddenStateIndex: -2, maxLength: positive.promptEmbeds.shape[1], logger });
      }
    }

    bs.prompt_embeds = positive.promptEmbeds;
    bs.pooled_prompt_embeds = positive.pooledPromptEmbeds;
    bs.negative_prompt_embeds = negative?.promptEmbeds ?? null;
    bs.negative_pooled_prompt_embeds = negative?.pooledPromptEmbeds ?? null;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** (tokenizer, text_encoder) and (tokenizer_2, text_encoder_2); only the second when the first tokenizer is absent, as in diffusers. */
function encoderPairs(components: TextEncoderComponents): EncoderPair[] {
  const found: { tokenizer: ClipTokenizer | null; textEncoder: CLIPTextModel | null; suffix: string }[] = [
    { tokenizer: components.tokenizer_2, textEncoder: components.text_encoder_2, suffix: '_2' },
  ];
  if (components.tokenizer != null) found.unshift({ tokenizer: components.tokenizer, textEncoder: components.text_encoder, suffix: '' });
  return found.map(({ tokenizer, textEncoder, suffix }) => {
    if (tokenizer == null || textEncoder == null) {
      throw new SdxlInputError(
        `The text encoder step needs tokenizer${suffix} and text_encoder${suffix}; load them with pipeline.loadComponents() or set them with updateComponents().`,
      );
    }
    return { tokenizer, textEncoder };
  });
}

/**
 * Encodes prompt lists with their tokenizer/encoder pairs: the selected hidden
 * states concatenated on the last axis, and the last encoder's pooled output.
 */
export async function encodePrompts(
  pairs: readonly EncoderPair[],
  prompts: readonly (readonly string[])[],
  options: { hiddenStateIndex: number; maxLength?: number; logger?: Logger },
): Promise<PromptEmbeddings> {
  const hidden: Tensor<'float32'>[] = [];
  let pooled: Tensor<'float32'> | null = null;
  for (const [i, { tokenizer, textEncoder }] of pairs.entries()) {
    const texts = prompts[i] ?? prompts[0]!;
    const maxLength = options.maxLength ?? tokenizer.modelMaxLength;
    const { inputIds } = await tokenizer.encode(texts, { padding: 'max_length', maxLength, truncation: true });
    await warnIfTruncated(tokenizer, texts, maxLength, options.logger);
    const out = await textEncoder.encode(tokenIdsToTensor(inputIds), { hiddenStateIndex: options.hiddenStateIndex });
    hidden.push(out.hiddenState);
    pooled = out.pooled;
  }
  return { promptEmbeds: hidden.length === 1 ? hidden[0]! : concat(hidden, -1), pooledPromptEmbeds: pooled! };
}

async function warnIfTruncated(tokenizer: ClipTokenizer, texts: readonly string[], maxLength: number, logger: Logger | undefined): Promise<void> {
  if (!logger) return;
  const { inputIds } = await tokenizer.encode(texts, { padding: false, truncation: false });
  for (const ids of inputIds) {
    if (ids.length <= maxLength) continue;
    const removed = await tokenizer.decode(ids.slice(maxLength - 1, -1), { skipSpecialTokens: true });
    logger.warn(`The following part of your input was truncated because CLIP can only handle sequences up to ${maxLength} tokens: ${removed}`);
  }
}

function describeValue(value: unknown): string {
  return value instanceof Tensor ? value.toString() : value === null ? 'null' : typeof value;
}

/**
 * `t` and zeros of its shape, as the two halves of one buffer: the guider
 * stacks [conditional; unconditional] for the UNet every step, and halves
 * that already sit side by side are stacked without a copy (see
 * guider-batches.ts). The zeros come free with the allocation.
 */
function withZerosAfter(t: Tensor<'float32'>): [Tensor<'float32'>, Tensor<'float32'>] {
  const n = t.data.length;
  const pair = new Float32Array(2 * n);
  pair.set(t.data);
  return [new Tensor('float32', pair.subarray(0, n), t.shape), new Tensor('float32', pair.subarray(n), t.shape)];
}
