import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/**
 * How a cache blob's name relates to its bytes, as on the Hub: an LFS file is
 * named by its sha256 (64 hex), a regular file by its git blob id,
 * sha1("blob <size>\0" + content) (40 hex). Other ids (xet hashes) cannot be
 * checked locally.
 */
export type BlobHashKind = 'sha256' | 'git-sha1' | 'unknown';

export function blobHashKind(etag: string): BlobHashKind {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256';
  if (/^[0-9a-f]{40}$/.test(etag)) return 'git-sha1';
  return 'unknown';
}

/** An incremental hash of a blob's content in the form its name uses. */
export class BlobHasher {
  private readonly hash: Hash | undefined;

  constructor(
    readonly kind: BlobHashKind,
    size: number,
  ) {
    if (kind === 'sha256') this.hash = createHash('sha256');
    if (kind === 'git-sha1') this.hash = createHash('sha1').update(`blob ${size}\0`);
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  /** The hex digest, or undefined when the kind cannot be checked. */
  digest(): string | undefined {
    return this.hash?.digest('hex');
  }
}

/** Feeds a file (or its first `length` bytes) to a hasher. */
export async function hashFileInto(hasher: BlobHasher, path: string, length?: number): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(path, length === undefined ? {} : { start: 0, end: length - 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) hasher.update(chunk);
}

/** The digest a blob file has in the form its name uses (`undefined` for unknown kinds). */
export async function hashBlobFile(path: string, kind: BlobHashKind): Promise<string | undefined> {
  const hasher = new BlobHasher(kind, (await stat(path)).size);
  await hashFileInto(hasher, path);
  return hasher.digest();
}

/** sha256 of a file's content, hex (what the remote-code lock pins). */
export async function sha256File(path: string): Promise<string> {
  return (await hashBlobFile(path, 'sha256'))!;
}
