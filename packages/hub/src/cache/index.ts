export { fetchRepoFiles } from './fetch-repo-files.js';
export type { DownloadProgress, FetchRepoFilesOptions, FetchedFile, FetchedRepo } from './fetch-repo-files.js';
export { readJsonFile, readOptionalJsonFile } from './read-json-file.js';
export type { ReadJsonFileOptions, RepoJsonFile } from './read-json-file.js';
export { RemoteCodeLock } from './remote-code-lock.js';
export type { RemoteCodePin } from './remote-code-lock.js';
export { sha256File } from './content-hash.js';
export { filterRepoPaths } from './path-patterns.js';
export {
  EntryNotFoundError,
  HubCacheMissError,
  HubError,
  HubIntegrityError,
  HubJsonError,
  HubRequestError,
  HubUnauthorizedError,
  RemoteCodeChangedError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';
