/** A Hub setting (environment variable, token file or option) that cannot be used as given. */
export class HubConfigError extends Error {
  override name = 'HubConfigError';
}
