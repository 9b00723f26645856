// Hub settings from the environment (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE).
export * from './config/index.js';

// Downloads into the Hugging Face cache (Python's layout), JSON files of repos, the remote-code lock.
export * from './cache/index.js';

// fromPretrained / savePretrained: the Hub repo resolver, the remote-code gate, saving and pushing.
export { HubRepoResolver, MODULAR_MODEL_INDEX_FILE, MODEL_INDEX_FILE } from './pretrained/hub-repo-resolver.js';
export type { HubRepoResolverOptions } from './pretrained/hub-repo-resolver.js';
export type { HubAccessOptions } from './pretrained/hub-access-options.js';
export { selectVariantFiles } from './pretrained/variant-files.js';
export { blocksFromPretrained, pipelineFromPretrained } from './pretrained/from-pretrained.js';
export type { HubFromPretrainedOptions } from './pretrained/from-pretrained.js';
export { installHubIntegration } from './pretrained/install-hub-integration.js';
export { setRemoteCodeLoader, getRemoteCodeLoader } from './pretrained/remote-code-loader.js';
export type { RemoteCodeLoader, RemoteCodeRequest } from './pretrained/remote-code-loader.js';
export { recordRemoteCodeOrigin, getRemoteCodeOrigin } from './pretrained/remote-code-origin.js';
export type { RemoteCodeOrigin } from './pretrained/remote-code-origin.js';
export { REMOTE_CODE_KILL_SWITCHES, remoteCodeDisabledBy } from './pretrained/remote-code-switch.js';
export { passRemoteCodeGate } from './pretrained/remote-code-gate.js';
export type { TrustedBundle, RemoteCodeGateInput } from './pretrained/remote-code-gate.js';
export { parseModularConfig, blocksCodeEntry, buildModularConfig, MODULAR_CONFIG_FILE, BLOCKS_AUTO_MAP_KEY } from './pretrained/modular-config.js';
export type { ModularConfig, BlocksCodeEntry, BuildModularConfigInput } from './pretrained/modular-config.js';
export {
  BlocksNotFoundError,
  LocalComponentPathError,
  NoRemoteCodeError,
  RemoteCodeDisabledError,
  RemoteCodeHashMismatchError,
  RemoteCodeLoaderMissingError,
  RemoteCodeNotTrustedError,
  RepoConfigError,
  PythonRemoteCodeError,
} from './pretrained/pretrained-errors.js';
export { savePipeline, saveBlocks } from './save/save-pretrained.js';
export type { HubSaveOptions, SaveBundle } from './save/save-pretrained.js';
export { pushToHub } from './save/push-to-hub.js';
export type { PushToHubOptions, PushResult } from './save/push-to-hub.js';
export { modelCardContent, renderModelCard } from './save/model-card.js';
export type { ModelCardContent } from './save/model-card.js';
export { writeFolderAtomic } from './save/write-folder-atomic.js';
export type { FolderFile } from './save/write-folder-atomic.js';

// installHub() makes core's fromPretrained/savePretrained work; importing does nothing. Trusted remote
// code runs once @modular-diffusers/sandbox's installSandbox() (or another loader) is installed too.
export { installHub } from './install-hub.js';

// Why a component location would be read from this machine instead of the Hub (publishing refuses those).
export { localReason } from './pretrained/component-locations.js';
export * from './error-codes.js';
