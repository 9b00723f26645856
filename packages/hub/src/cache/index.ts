export { fetchRepoFiles } from './fetch-repo-files.js';
export type { DownloadProgress, FetchRepoFilesOptions, FetchedFile, FetchedRepo } from './fetch-repo-files.js';
export { readJsonFile, readOptionalJsonFile } from './read-json-file.js';
export type { ReadJsonFileOptions, RepoJsonFile } from './read-json-file.js';
export { RemoteCodeLock, REMOTE_CODE_LOCK_FILE } from './remote-code-lock.js';
export type { RemoteCodeLockCheck, RemoteCodeObservation, RemoteCodePin } from './remote-code-lock.js';
export { RemoteCodeChangedError } from './remote-code-lock-errors.js';
export type { RemoteCodeFileChange } from './remote-code-lock-errors.js';
export { sha256File } from './content-hash.js';
export { filterRepoPaths } from './path-patterns.js';
export type { CacheWriteCode } from './hub-errors.js';
export {
  EntryNotFoundError,
  HubCacheMissError,
  HubCacheWriteError,
  HubError,
  HubIntegrityError,
  HubJsonError,
  HubRequestError,
  HubUnauthorizedError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';
