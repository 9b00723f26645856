import { downloadFile } from '@huggingface/hub';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CacheLayout } from './cache-layout.js';
import { blobHashKind, hashBlobFile } from './content-hash.js';
import type { FileLockOptions } from './file-lock.js';
import { EntryNotFoundError, HubIntegrityError, HubRequestError } from './hub-errors.js';
import { isTransient, type HubSession } from './hub-session.js';
import { withOsLock } from './os-file-lock.js';
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
 * Puts a file's blob in `blobs/<etag>` and returns its path (and whether this
 * call transferred it). The work runs under the lock Python's
 * `huggingface_hub` takes for the same blob, `.locks/<repo folder>/<etag>.lock`
 * with an OS lock ({@link withOsLock}), so the two never write the same
 * file at once. Bytes go to `blobs/<etag>.incomplete` (the name Python uses,
 * so either side resumes the other's partial file). Before the rename the file
 * **on disk** is checked (size, then sha256 or git sha1 against the name): bytes
 * another writer left or added cannot reach the final name; a mismatch is
 * deleted and downloaded again.
 */
export async function ensureBlob(options: BlobDownloadOptions): Promise<{ blobPath: string; transferred: boolean }> {
  const { layout, file } = options;
  const blobPath = layout.blobPath(file.etag);
  if (await blobPresent(blobPath, file.size)) return { blobPath, transferred: false };
  await mkdir(dirname(blobPath), { recursive: true });
  return withOsLock(layout.lockPath(file.etag), { ...options.lock, signal: options.session.signal }, async () => {
    if (await blobPresent(blobPath, file.size)) return { blobPath, transferred: false };
    // A blob of the wrong size is damaged: replace it.
    await rm(blobPath, { force: true });
    const incomplete = `${blobPath}.incomplete`;
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadToIncomplete(options, incomplete);
        await assertOnDisk(options, incomplete);
        await rename(incomplete, blobPath);
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

/**
 * The file as it is on disk, not the bytes this call streamed, must match the
 * name: size first, then the hash. A mismatch deletes it, so the next attempt
 * starts over and nothing wrong is ever committed.
 */
async function assertOnDisk(options: BlobDownloadOptions, incomplete: string): Promise<void> {
  const { session, file } = options;
  const size = await sizeOf(incomplete);
  const actual = size === file.size ? await hashBlobFile(incomplete, blobHashKind(file.etag)) : `${size ?? 0} bytes instead of ${file.size}`;
  if (actual === undefined || actual === file.etag) return;
  await rm(incomplete, { force: true });
  throw new HubIntegrityError(session.repo.designation, file.path, file.etag, actual, 'The bad download was deleted and is fetched again; if it repeats, the Hub, a proxy or another program writing the same cache corrupts it.');
}

function isRetryable(error: unknown): boolean {
  // Network failures have no status; 5xx, 408 and 429 are worth another try, other 4xx are not.
  return error instanceof HubIntegrityError || isTransient(error);
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
 * there (a `Range` request through the client's blob slice).
 */
async function downloadToIncomplete(options: BlobDownloadOptions, incomplete: string): Promise<void> {
  const { session, file } = options;
  let have = (await sizeOf(incomplete)) ?? 0;
  if (have > file.size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
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
}
