import { ModularDiffusersError } from '@modular-diffusers/core';

/** A Hub setting (environment variable, token file or option) that cannot be used as given. */
export class HubConfigError extends ModularDiffusersError {
  static override readonly code: string = 'HUB_CONFIG';
  override name = 'HubConfigError';
}
