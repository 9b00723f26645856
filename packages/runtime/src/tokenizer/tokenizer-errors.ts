import { ModularDiffusersError } from '@modular-diffusers/core';

/** A tokenizer folder is missing a file or holds one we cannot use. */
export class TokenizerFilesError extends ModularDiffusersError {
  static override readonly code: string = 'TOKENIZER_FILES';
  override name = 'TokenizerFilesError';
}

/** encode()/decode() got input they cannot handle. */
export class TokenizerInputError extends ModularDiffusersError {
  static override readonly code: string = 'TOKENIZER_INPUT';
  override name = 'TokenizerInputError';
}
