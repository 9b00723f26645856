import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HubHttpError } from './hub-server-error.js';
import type { HubRepoId } from './repo-id.js';

const UPLOAD_TTL_MS = 60 * 60 * 1000;
const DOWNLOAD_TTL_S = 60 * 60;

/**
 * Pre-authorised URLs for LFS bytes. The client PUTs LFS uploads to the batch
 * answer's `href` with no Authorization header, so the href itself must carry the
 * permission: a random one-use ticket. Downloads redirected away from `resolve` get
 * an HMAC-signed, expiring URL, like a CDN's. Both live only as long as the server.
 */
export class LfsLinks {
  private readonly key = randomBytes(32);
  private readonly uploads = new Map<string, { oid: string; size: number; repo: HubRepoId; expires: number }>();

  /** A one-use URL for the bytes of `oid`, which then belong to `repo` (the repo whose batch asked). */
  uploadHref(origin: string, oid: string, size: number, repo: HubRepoId): string {
    this.dropExpired();
    const ticket = randomBytes(16).toString('hex');
    this.uploads.set(ticket, { oid, size, repo, expires: Date.now() + UPLOAD_TTL_MS });
    return `${origin}/_lfs/upload/${ticket}`;
  }

  /** The object an upload ticket allows; 404 when unknown or expired. */
  upload(ticket: string): { oid: string; size: number; repo: HubRepoId } {
    const entry = this.uploads.get(ticket);
    if (!entry || entry.expires < Date.now()) {
      throw new HubHttpError(404, 'Unknown or expired LFS upload URL: ask the LFS batch API for a new one.', 'UploadNotFound');
    }
    return entry;
  }

  /** Forgets a ticket once its upload succeeded. */
  completeUpload(ticket: string): void {
    this.uploads.delete(ticket);
  }

  downloadHref(origin: string, oid: string): string {
    const expires = Math.floor(Date.now() / 1000) + DOWNLOAD_TTL_S;
    return `${origin}/_lfs/objects/${oid}?expires=${expires}&signature=${this.sign(oid, expires)}`;
  }

  /** 403 unless the query carries a valid, unexpired signature for `oid`. */
  assertDownloadAllowed(oid: string, query: URLSearchParams): void {
    const expires = Number(query.get('expires'));
    const given = Buffer.from(query.get('signature') ?? '', 'hex');
    const wanted = Buffer.from(this.sign(oid, expires), 'hex');
    const valid = Number.isInteger(expires) && given.length === wanted.length && timingSafeEqual(given, wanted);
    if (!valid || expires < Date.now() / 1000) {
      throw new HubHttpError(403, 'This LFS download URL is invalid or expired: resolve the file again to get a fresh one.', 'Forbidden');
    }
  }

  private sign(oid: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${oid}:${expires}`).digest('hex');
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [ticket, entry] of this.uploads) if (entry.expires < now) this.uploads.delete(ticket);
  }
}
