export { DEFAULT_HUB_URL, isTrueEnvValue, resolveHubConfig } from './hub-config.js';
export type { HubConfig, HubConfigOptions, HubEnv, TokenSource } from './hub-config.js';
export { HubConfigError } from './hub-config-error.js';
