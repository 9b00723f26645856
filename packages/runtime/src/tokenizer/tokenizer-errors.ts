/** A tokenizer folder is missing a file or holds one we cannot use. */
export class TokenizerFilesError extends Error {
  override name = 'TokenizerFilesError';
}

/** encode()/decode() got input they cannot handle. */
export class TokenizerInputError extends Error {
  override name = 'TokenizerInputError';
}
