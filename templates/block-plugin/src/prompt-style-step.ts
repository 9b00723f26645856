/**
 * The plugin's own block: adds a style phrase to the prompt before the text
 * encoder reads it. Replace it with your block; keep the shape: what it
 * needs, what it takes, what it gives, what it does.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';

export const MODEL_NAME = 'stable-diffusion-xl';

export const DEFAULT_STYLE = 'watercolor painting';

/** `prompt` -> `prompt, style`; an empty style leaves the prompt as it is. */
export function styledPrompt(prompt: string, style: string): string {
  const phrase = style.trim();
  return phrase === '' ? prompt : `${prompt}, ${phrase}`;
}

/** What the block needs, takes and gives; the state `call` reads is typed from it. */
const promptStyleSpec = blockSpec({
  description: 'Adds a style phrase to the prompt, so every image of the pipeline shares one look',
  inputs: {
    prompt: input<string | string[]>({ required: true, typeHint: 'str', description: 'The prompt to guide the image generation' }),
    style: input<string>({
      typeHint: 'str',
      default: DEFAULT_STYLE,
      description: 'A phrase appended to the prompt; an empty string turns the block off',
      metadata: { mellon: 'textbox' },
    }),
  },
  outputs: {
    prompt: output<string>({ typeHint: 'str', description: 'The prompt with the style phrase, read by the text encoder' }),
  },
});

export class BlockPluginPromptStyleStep extends TypedBlock(promptStyleSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (typeof bs.prompt !== 'string') {
      throw new TypeError(`${this.className}: 'prompt' must be a string; got ${Array.isArray(bs.prompt) ? 'a list' : typeof bs.prompt}.`);
    }
    bs.prompt = styledPrompt(bs.prompt, bs.style ?? '');
    this.setBlockState(state, bs);
    return [components, state];
  }
}
