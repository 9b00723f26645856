import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getBlocksClass, getLogger, type TrustRemoteCode } from '@modular-diffusers/core';
import { RemoteCodeLock, type RemoteCodeObservation } from '../cache/remote-code-lock.js';
import { COMMIT_SHA } from '../cache/cache-layout.js';
import { resolveHubConfig } from '../config/hub-config.js';
import type { HubAccessOptions } from './hub-access-options.js';
import { blocksCodeEntry, MODULAR_CONFIG_FILE, type ModularConfig } from './modular-config.js';
import {
  NoRemoteCodeError,
  RemoteCodeDisabledError,
  RemoteCodeHashMismatchError,
  RemoteCodeNotTrustedError,
  PythonRemoteCodeError,
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
  /** sha256 of the `modular_config.json` and model index bytes that were parsed, by path. */
  configHashes?: Record<string, string>;
  /** The revision the caller asked for (null or undefined: `main`). */
  revision?: string | null;
  trustRemoteCode: TrustRemoteCode | undefined;
  access: HubAccessOptions;
}

/** True for `true` and for the object form; false for false, undefined and anything else. */
export function isTrusted(trust: TrustRemoteCode | undefined): boolean {
  return trust === true || (trust !== null && typeof trust === 'object' && !Array.isArray(trust));
}

const acceptsUpdate = (trust: TrustRemoteCode | undefined) => isTrusted(trust) && typeof trust === 'object' && trust.update === true;

/**
 * Decides whether a repo's code may run, before a byte of it is downloaded:
 * null for a repo without code; a typed error when it has code that is not
 * trusted (or remote code is off); and for trusted code, the bundle fetched,
 * hashed once, checked against the sha256 `modular_config.json` declares and
 * against the remote-code lock (same repo must mean same commit, and the same
 * bytes for the bundle, `modular_config.json` and the model index), then pinned.
 *
 * The kill switch is read from the process environment only: no option (not
 * `env`, not the trust flag) turns remote code back on. Trust is the caller's
 * flag for THIS repo only: nothing here remembers it beyond the pin.
 */
export async function passRemoteCodeGate(input: RemoteCodeGateInput): Promise<TrustedBundle | null> {
  const { listing, modularConfig, access } = input;
  const repo = listing.repo;
  const commit = listing.commit ?? null;
  const entry = modularConfig ? blocksCodeEntry(modularConfig, repo) : null;
  const disabledBy = remoteCodeDisabledBy(process.env);
  const trusted = isTrusted(input.trustRemoteCode);

  if (entry && !listing.paths.includes(entry.file)) {
    // auto_map "block.MyBlocks" with block.py beside it: diffusers' Python custom blocks, not a bundle that went missing.
    const python = `${entry.file.slice(0, -'.js'.length)}.py`;
    if (listing.paths.includes(python)) {
      throw new PythonRemoteCodeError(repo, commit, python, entry.exportName, listing.paths.includes('modular_model_index.json'));
    }
    // diffusers' blocks.save_pretrained of its own blocks names the diffusers module that defines them
    // ("modular_blocks_stable_diffusion_xl.StableDiffusionXLAutoBlocks"), a file the repo does not hold:
    // nothing can run from it, and the class installed here under that name is what the repo means.
    if (getBlocksClass(entry.exportName) && (modularConfig?.className ?? entry.exportName) === entry.exportName) {
      if (trusted && !disabledBy) throw new NoRemoteCodeError(repo);
      return null;
    }
  }
  if (!entry) {
    // As diffusers: asking to trust code that is not there is a mistake worth reporting (unless code is off anyway).
    if (trusted && !disabledBy) throw new NoRemoteCodeError(repo);
    return null;
  }
  if (disabledBy) throw new RemoteCodeDisabledError(repo, commit, [entry.file], disabledBy);
  if (!trusted) throw new RemoteCodeNotTrustedError(repo, commit, [entry.file]);
  if (!listing.paths.includes(entry.file)) {
    throw new RepoConfigError(repo, MODULAR_CONFIG_FILE, `auto_map names the bundle ${entry.file}, which is not in the repo${commit ? ` at commit ${commit}` : ''}`);
  }

  const localPath = listing.local ? join(listing.snapshotDir, ...entry.file.split('/')) : (await fetchListedFiles(listing, [entry.file], access)).files[0]!.localPath;
  const bytes = await readFile(localPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (commit) {
    const revision = input.revision ?? 'main';
    const observed: RemoteCodeObservation = { commit, revision, files: { ...input.configHashes, [entry.file]: sha256 } };
    const lock = new RemoteCodeLock(resolveHubConfig({ env: access.env, cacheDir: access.cacheDir }));
    // The pin is checked first: code that is not what was trusted is refused whatever its config says.
    const check = await lock.check(repo, observed);
    // Naming the full commit IS the decision to trust that commit: it moves the pin, as a changed lock entry would.
    const namedThisCommit = COMMIT_SHA.test(revision) && revision === commit && check.status === 'changed' && check.commitMoved;
    if (check.status === 'changed' && !namedThisCommit && !acceptsUpdate(input.trustRemoteCode)) throw lock.changedError(repo, check, observed);
    if (entry.declaredSha256 && entry.declaredSha256 !== sha256) throw new RemoteCodeHashMismatchError(repo, commit, entry.file, entry.declaredSha256, sha256);
    if (check.status === 'changed') {
      const files = check.changedFiles.map((c) => c.path).join(', ') || 'none';
      getLogger().warn(
        `The remote-code lock now trusts ${repo} at commit ${commit} (was ${check.pin.commit}; changed files: ${files}), ` +
          `${namedThisCommit ? 'because that commit was asked for by its sha' : 'as trustRemoteCode: { update: true } asked'}.`,
      );
    }
    if (check.status !== 'pinned' || check.pin.revision === null) await lock.trust(repo, observed);
  } else if (entry.declaredSha256 && entry.declaredSha256 !== sha256) {
    throw new RemoteCodeHashMismatchError(repo, commit, entry.file, entry.declaredSha256, sha256);
  }
  getLogger().warn(
    `Running trusted remote code from ${repo}${commit ? ` at commit ${commit}` : ' (a local folder, not pinned)'}: ${entry.file} (sha256 ${sha256}) in the sandbox.`,
  );
  return { file: entry.file, localPath, sha256, source: bytes.toString('utf8'), exportName: entry.exportName };
}
