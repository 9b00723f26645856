/** Checks and normalises the prompt inputs of the text encoder step (diffusers' check_inputs and encode_prompt rules). */
import { SdxlInputError } from '../errors.js';

export type PromptInput = string | readonly string[];

export function isPromptInput(value: unknown): value is PromptInput {
  return typeof value === 'string' || (Array.isArray(value) && value.every((p) => typeof p === 'string'));
}

/** Throws unless `value` is absent, a string or a list of strings. */
export function checkPromptInput(value: unknown, name: string): void {
  if (value === null || value === undefined || isPromptInput(value)) return;
  throw new SdxlInputError(`\`${name}\` has to be a string or a list of strings, but is ${describe(value)}.`);
}

/** One prompt per batch item: a string is a batch of one. */
export function promptList(value: PromptInput): string[] {
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * The negative prompts for a batch of `batchSize` prompts: a string applies
 * to every prompt, a list must have one entry per prompt.
 */
export function negativePromptList(value: PromptInput, batchSize: number, name = 'negative_prompt'): string[] {
  if (typeof value === 'string') return new Array<string>(batchSize).fill(value);
  if (value.length !== batchSize) {
    throw new SdxlInputError(
      `\`${name}\` has ${value.length} prompt(s) but \`prompt\` has ${batchSize}. Pass one negative prompt per prompt, or a single string for all of them.`,
    );
  }
  return [...value];
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list containing ${value.map((v) => typeof v).filter((t) => t !== 'string')[0] ?? 'non-strings'}`;
  return value === null ? 'null' : typeof value === 'object' ? ((value as object).constructor?.name ?? 'an object') : typeof value;
}
