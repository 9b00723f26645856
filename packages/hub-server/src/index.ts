// Local Hub-compatible server (tests, the demo, `modular hub serve`).
export { startHubServer } from './hub-server.js';
export type { HubServer, HubServerOptions, RequestFilter } from './hub-server.js';
export { HubStore } from './hub-store.js';
export type { CommitOperation, CommitRequest, CommitResult, ResolvedRevision } from './hub-store.js';
export { importFolderToHubStore } from './import-folder.js';
export type { ImportFolderOptions, ImportFolderResult } from './import-folder.js';
export type { HubFault, HubRouteName, FaultMatch } from './fault-injection.js';
export type { HubRequestRecord } from './exchange.js';
export type { HubTokens, HubUserConfig } from './access-control.js';
export { HubServerError, HubHttpError } from './hub-server-error.js';
export { gitBlobSha1, sha256Hex, lfsPointer } from './git-objects.js';
export { DEFAULT_GITATTRIBUTES } from './gitattributes.js';
export { parseRepoDesignation } from './repo-id.js';
export type { HubRepoId } from './repo-id.js';
export * from './error-codes.js';
