import { isLfsTracked, type LfsRule } from './gitattributes.js';

/** The Hub refuses regular (non-LFS) files of 10 MB or more. */
export const DEFAULT_LFS_THRESHOLD_BYTES = 10 * 1024 * 1024;

export interface LfsPolicy {
  rules: readonly LfsRule[];
  thresholdBytes: number;
}

export interface UploadCandidate {
  path: string;
  size: number;
  /** The first bytes of the file (the client sends 512). */
  sample: Uint8Array;
}

/**
 * Decides as the Hub's preupload does: LFS when `.gitattributes` tracks the path,
 * when the file is at least the size threshold, or when it looks binary (git's
 * heuristic: a NUL byte near the start), because the Hub rejects binary regular files.
 */
export function uploadModeFor(file: UploadCandidate, policy: LfsPolicy): 'lfs' | 'regular' {
  if (isLfsTracked(file.path, policy.rules)) return 'lfs';
  if (file.size >= policy.thresholdBytes) return 'lfs';
  if (file.sample.subarray(0, 8000).includes(0)) return 'lfs';
  return 'regular';
}
