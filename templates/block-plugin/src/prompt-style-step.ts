/**
 * The plugin's own block: adds a style phrase to the prompt before the text
 * encoder reads it. Replace it with your block; keep the shape: what it
 * needs, what it takes, what it gives, what it does.
 */
import {
  InputParam,
  ModularPipelineBlocks,
  OutputParam,
  type BlockResult,
  type PipelineComponents,
  type PipelineState,
} from '@modular-diffusers/core';

export const MODEL_NAME = 'stable-diffusion-xl';

export const DEFAULT_STYLE = 'watercolor painting';

/** `prompt` -> `prompt, style`; an empty style leaves the prompt as it is. */
export function styledPrompt(prompt: string, style: string): string {
  const phrase = style.trim();
  return phrase === '' ? prompt : `${prompt}, ${phrase}`;
}

export class BlockPluginPromptStyleStep extends ModularPipelineBlocks {
  static override modelName = MODEL_NAME;

  override get description() {
    return 'Adds a style phrase to the prompt, so every image of the pipeline shares one look';
  }

  override get inputs() {
    return [
      new InputParam('prompt', { required: true, typeHint: 'str', description: 'The prompt to guide the image generation' }),
      new InputParam('style', {
        typeHint: 'str',
        default: DEFAULT_STYLE,
        description: 'A phrase appended to the prompt; an empty string turns the block off',
        metadata: { mellon: 'textbox' },
      }),
    ];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('prompt', { typeHint: 'str', description: 'The prompt with the style phrase, read by the text encoder' })];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (typeof bs.prompt !== 'string') {
      throw new TypeError(`${this.className}: 'prompt' must be a string; got ${Array.isArray(bs.prompt) ? 'a list' : typeof bs.prompt}.`);
    }
    bs.prompt = styledPrompt(bs.prompt, String(bs.style ?? ''));
    this.setBlockState(state, bs);
    return [components, state];
  }
}
