/**
 * The `code` of every error class of @modular-diffusers/hub: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const HUB_ERROR_CODES = [
  'BLOCKS_NOT_FOUND', // BlocksNotFoundError
  'ENTRY_NOT_FOUND', // EntryNotFoundError
  'HUB', // HubError
  'HUB_CACHE_MISS', // HubCacheMissError
  'HUB_CACHE_WRITE', // HubCacheWriteError
  'HUB_CONFIG', // HubConfigError
  'HUB_INTEGRITY', // HubIntegrityError
  'HUB_JSON', // HubJsonError
  'HUB_REQUEST', // HubRequestError
  'HUB_UNAUTHORIZED', // HubUnauthorizedError
  'LOCAL_COMPONENT_PATH', // LocalComponentPathError
  'NO_REMOTE_CODE', // NoRemoteCodeError
  'PYTHON_REMOTE_CODE', // PythonRemoteCodeError
  'REMOTE_CODE_CHANGED', // RemoteCodeChangedError
  'REMOTE_CODE_DISABLED', // RemoteCodeDisabledError
  'REMOTE_CODE_HASH_MISMATCH', // RemoteCodeHashMismatchError
  'REMOTE_CODE_LOADER_MISSING', // RemoteCodeLoaderMissingError
  'REMOTE_CODE_NOT_TRUSTED', // RemoteCodeNotTrustedError
  'REPO_CONFIG', // RepoConfigError
  'REPO_NOT_FOUND', // RepoNotFoundError
  'REVISION_NOT_FOUND', // RevisionNotFoundError
] as const;

export type HubErrorCode = (typeof HUB_ERROR_CODES)[number];
