// Local Hub-compatible server (tests, the demo, `modular hub serve`).
export { startHubServer } from './server/hub-server.js';
export type { HubServer, HubServerOptions, RequestFilter } from './server/hub-server.js';
export { HubStore } from './server/hub-store.js';
export type { CommitOperation, CommitRequest, CommitResult, ResolvedRevision } from './server/hub-store.js';
export { importFolderToHubStore } from './server/import-folder.js';
export type { ImportFolderOptions, ImportFolderResult } from './server/import-folder.js';
export type { HubFault, HubRouteName, FaultMatch } from './server/fault-injection.js';
export type { HubRequestRecord } from './server/exchange.js';
export type { HubTokens, HubUserConfig } from './server/access-control.js';
export { HubServerError, HubHttpError } from './server/hub-server-error.js';
export { gitBlobSha1, sha256Hex, lfsPointer } from './server/git-objects.js';
export { DEFAULT_GITATTRIBUTES } from './server/gitattributes.js';

// Remote-code sandbox: plugin bundles run in a locked-down vm context inside a Worker.
export * from './sandbox/index.js';

// Hub settings from the environment (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE).
export * from './config/index.js';

// Downloads into the Hugging Face cache (Python's layout), JSON files of repos, the remote-code lock.
export * from './cache/index.js';
