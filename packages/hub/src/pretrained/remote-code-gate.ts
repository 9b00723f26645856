import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getLogger } from '@modular-diffusers/core';
import { RemoteCodeLock } from '../cache/remote-code-lock.js';
import { resolveHubConfig, type HubEnv } from '../config/hub-config.js';
import type { HubAccessOptions } from './hub-access-options.js';
import { blocksCodeEntry, MODULAR_CONFIG_FILE, type ModularConfig } from './modular-config.js';
import {
  NoRemoteCodeError,
  RemoteCodeDisabledError,
  RemoteCodeHashMismatchError,
  RemoteCodeNotTrustedError,
  RepoConfigError,
} from './pretrained-errors.js';
import { remoteCodeDisabledBy } from './remote-code-switch.js';
import { fetchListedFiles, type RepoListing } from './repo-listing.js';

/** A bundle that passed the gate: hashed, checked against its declaration and pin, and pinned. */
export interface TrustedBundle {
  file: string;
  localPath: string;
  sha256: string;
  /** The exact text that was hashed: the only thing that may be run. */
  source: string;
  exportName: string;
}

export interface RemoteCodeGateInput {
  listing: RepoListing;
  /** Null when the repo has no `modular_config.json`. */
  modularConfig: ModularConfig | null;
  trustRemoteCode: boolean | undefined;
  access: HubAccessOptions;
  env?: HubEnv;
}

/**
 * Decides whether a repo's code may run, before a byte of it is downloaded:
 * null for a repo without code; a typed error when it has code that is not
 * trusted (or remote code is off); and for trusted code, the bundle fetched,
 * hashed once, checked against the remote-code lock (same commit must mean
 * same bytes) and the sha256 `modular_config.json` declares, then pinned.
 * Trust is the caller's flag for THIS repo only: nothing here remembers it.
 */
export async function passRemoteCodeGate(input: RemoteCodeGateInput): Promise<TrustedBundle | null> {
  const { listing, modularConfig, access } = input;
  const repo = listing.repo;
  const commit = listing.commit ?? null;
  const entry = modularConfig ? blocksCodeEntry(modularConfig, repo) : null;
  const disabledBy = remoteCodeDisabledBy(input.env ?? access.env ?? process.env);

  if (!entry) {
    // As diffusers: asking to trust code that is not there is a mistake worth reporting (unless code is off anyway).
    if (input.trustRemoteCode === true && !disabledBy) throw new NoRemoteCodeError(repo);
    return null;
  }
  if (disabledBy) throw new RemoteCodeDisabledError(repo, commit, [entry.file], disabledBy);
  if (input.trustRemoteCode !== true) throw new RemoteCodeNotTrustedError(repo, commit, [entry.file]);
  if (!listing.paths.includes(entry.file)) {
    throw new RepoConfigError(repo, MODULAR_CONFIG_FILE, `auto_map names the bundle ${entry.file}, which is not in the repo${commit ? ` at commit ${commit}` : ''}`);
  }

  const localPath = listing.local ? join(listing.snapshotDir, ...entry.file.split('/')) : (await fetchListedFiles(listing, [entry.file], access)).files[0]!.localPath;
  const bytes = await readFile(localPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (commit) {
    // The pin is checked first: a bundle changed under a pinned commit is tampering, whatever the config says.
    const lock = new RemoteCodeLock(resolveHubConfig({ env: access.env, cacheDir: access.cacheDir }).cacheDir);
    await lock.checkPinned(repo, commit, entry.file, sha256);
    if (entry.declaredSha256 && entry.declaredSha256 !== sha256) throw new RemoteCodeHashMismatchError(repo, commit, entry.file, entry.declaredSha256, sha256);
    await lock.pin(repo, commit, { [entry.file]: sha256 });
  } else if (entry.declaredSha256 && entry.declaredSha256 !== sha256) {
    throw new RemoteCodeHashMismatchError(repo, commit, entry.file, entry.declaredSha256, sha256);
  }
  getLogger().warn(
    `Running trusted remote code from ${repo}${commit ? ` at commit ${commit}` : ' (a local folder, not pinned)'}: ${entry.file} (sha256 ${sha256}) in the sandbox.`,
  );
  return { file: entry.file, localPath, sha256, source: bytes.toString('utf8'), exportName: entry.exportName };
}
