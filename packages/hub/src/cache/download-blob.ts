import { downloadFile } from '@huggingface/hub';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CacheLayout } from './cache-layout.js';
import { BlobHasher, blobHashKind, hashFileInto } from './content-hash.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import { EntryNotFoundError, HubIntegrityError, HubRequestError } from './hub-errors.js';
import type { HubSession } from './hub-session.js';
import type { RemoteFile } from './remote-files.js';

export interface BlobDownloadOptions {
  session: HubSession;
  layout: CacheLayout;
  commit: string;
  /** The revision the caller asked for, for error messages. */
  revision: string;
  file: RemoteFile;
  /** Further attempts after a dropped connection, a 5xx or bytes that fail the hash. */
  retries: number;
  lock?: Omit<FileLockOptions, 'signal'>;
  /** Bytes of this file on disk so far, including a resumed prefix. */
  onBytes(fileBytes: number): void;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** A blob on disk of the expected size counts as present; {@link fetchRepoFiles}' `verify` hashes it too. */
async function blobPresent(path: string, size: number): Promise<boolean> {
  return (await sizeOf(path)) === size;
}

/**
 * Puts a file's blob in `blobs/<etag>` and returns its path (and whether this call transferred it). Bytes go to
 * `blobs/<etag>.incomplete` (the name Python uses, so either side resumes the
 * other's partial file), are hashed on the way and renamed only when the hash
 * matches the etag: a final name never holds a partial or wrong file. A lock
 * (`blobs/<etag>.lock`) lets concurrent processes share the work: the second
 * waits, then finds the blob.
 */
export async function ensureBlob(options: BlobDownloadOptions): Promise<{ blobPath: string; transferred: boolean }> {
  const { layout, file } = options;
  const blobPath = layout.blobPath(file.etag);
  if (await blobPresent(blobPath, file.size)) return { blobPath, transferred: false };
  await mkdir(dirname(blobPath), { recursive: true });
  return withFileLock(`${blobPath}.lock`, { ...options.lock, signal: options.session.signal }, async () => {
    if (await blobPresent(blobPath, file.size)) return { blobPath, transferred: false };
    // A blob of the wrong size is damaged: replace it.
    await rm(blobPath, { force: true });
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadToIncomplete(options, `${blobPath}.incomplete`);
        await rename(`${blobPath}.incomplete`, blobPath);
        return { blobPath, transferred: true };
      } catch (error) {
        const mapped = error instanceof HubIntegrityError || error instanceof EntryNotFoundError ? error : toDownloadError(options, error);
        if (attempt >= options.retries || !isRetryable(mapped)) throw mapped;
        // A busy or failing server gets a moment; a dropped connection resumes at once.
        if (mapped instanceof HubRequestError && mapped.status !== undefined) await delay(250 * 2 ** attempt, undefined, { signal: options.session.signal });
      }
    }
  });
}

function isRetryable(error: unknown): boolean {
  if (error instanceof HubIntegrityError) return true;
  // Network failures have no status; 5xx, 408 and 429 are worth another try, other 4xx are not.
  return error instanceof HubRequestError && (error.status === undefined || error.status >= 500 || error.status === 408 || error.status === 429);
}

/** `blob.stream()` of the client reports an HTTP failure as bare text; recover its status from the fetch log. */
function toDownloadError(options: BlobDownloadOptions, error: unknown, failuresBefore = 0): unknown {
  const { session, file } = options;
  if (session.signal?.aborted) return session.signal.reason;
  if (typeof error === 'string') {
    const failure = session.hubFetch.failures.slice(failuresBefore).at(-1);
    return new HubRequestError(
      `Downloading ${file.path} of ${session.repo.designation} failed${failure ? ` with HTTP ${failure.status}` : ''}: ${error}`,
      failure?.status,
    );
  }
  return session.mapError(error, options.revision, file.path);
}

/**
 * Fills `incomplete` up to the file's size, resuming after the bytes already
 * there (a `Range` request through the client's blob slice), then checks the
 * hash. A mismatch deletes the partial file so the next attempt restarts.
 */
async function downloadToIncomplete(options: BlobDownloadOptions, incomplete: string): Promise<void> {
  const { session, file } = options;
  let have = (await sizeOf(incomplete)) ?? 0;
  if (have > file.size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
  const hasher = new BlobHasher(blobHashKind(file.etag), file.size);
  await hashFileInto(hasher, incomplete, have);
  options.onBytes(have);

  if (have < file.size || file.size === 0) {
    const failuresBefore = session.hubFetch.failures.length;
    const blob = await session.call(options.revision, () => downloadFile({ ...session.params, repo: session.repo.designation, path: file.path, revision: options.commit }), file.path);
    if (!blob) throw new EntryNotFoundError(session.repo.designation, options.revision, [file.path]);
    if (blob.size !== file.size) {
      throw new HubRequestError(`The Hub announced ${file.size} bytes for ${file.path} of ${session.repo.designation} but serves ${blob.size}; try again later.`);
    }
    const handle = await open(incomplete, have > 0 ? 'a' : 'w');
    try {
      const stream = (have > 0 ? blob.slice(have) : blob).stream();
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        await handle.write(chunk);
        hasher.update(chunk);
        have += chunk.byteLength;
        options.onBytes(have);
      }
    } catch (error) {
      throw toDownloadError(options, error, failuresBefore);
    } finally {
      await handle.close();
    }
  }
  if (have !== file.size) {
    throw new HubRequestError(`The download of ${file.path} of ${session.repo.designation} ended after ${have} of ${file.size} bytes.`);
  }
  const actual = hasher.digest();
  if (actual !== undefined && actual !== file.etag) {
    await rm(incomplete, { force: true });
    throw new HubIntegrityError(session.repo.designation, file.path, file.etag, actual, 'The bad download was deleted; run again, and if it repeats the Hub or a proxy between serves wrong bytes.');
  }
}
