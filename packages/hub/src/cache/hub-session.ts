import { setTimeout as delay } from 'node:timers/promises';
import type { HubConfig } from '../config/hub-config.js';
import { HubRequestError } from './hub-errors.js';
import { mapHubError } from './hub-error-mapping.js';
import { createHubFetch, type HubFetch } from './hub-fetch.js';
import type { RepoRef } from './repo-ref.js';

/** What every `@huggingface/hub` call of one load needs: endpoint, token, fetch, and error mapping. */
export class HubSession {
  readonly hubFetch: HubFetch;

  constructor(
    readonly repo: RepoRef,
    readonly config: HubConfig,
    readonly signal: AbortSignal | undefined,
    baseFetch?: typeof fetch,
    /** Further attempts of a metadata call after a 5xx, 408, 429 or a dropped connection. */
    readonly retries = 2,
  ) {
    this.hubFetch = createHubFetch(baseFetch, signal);
  }

  /** The parameters `@huggingface/hub` functions share. */
  get params(): { hubUrl: string; accessToken: string | undefined; fetch: typeof fetch } {
    return { hubUrl: this.config.hubUrl, accessToken: this.config.accessToken, fetch: this.hubFetch.fetch };
  }

  /** Maps any failure of `work` to this package's typed errors. */
  async call<T>(revision: string, work: () => Promise<T>, path?: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.mapError(error, revision, path);
    }
  }

  /**
   * A metadata request (revision, listing, paths-info): a busy or failing Hub
   * (5xx, 408, 429) or a dropped connection gets `retries` more attempts, waiting
   * 250 ms, 500 ms, 1 s... between them, as file downloads do.
   */
  async metadata<T>(revision: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(revision, work);
      } catch (error) {
        if (attempt >= this.retries || !isTransient(error) || this.signal?.aborted) throw error;
        await delay(250 * 2 ** attempt, undefined, { signal: this.signal });
      }
    }
  }

  mapError(error: unknown, revision: string, path?: string): unknown {
    return mapHubError(error, {
      repo: this.repo.designation,
      revision,
      path,
      hubUrl: this.config.hubUrl,
      tokenSource: this.config.tokenSource,
      errorCode: (url) => this.hubFetch.errorCode(url),
      signal: this.signal,
      cacheDir: this.config.cacheDir,
    });
  }
}

/** A failure worth another try: the Hub busy or failing, or no answer at all. */
export function isTransient(error: unknown): boolean {
  return error instanceof HubRequestError && (error.status === undefined || error.status >= 500 || error.status === 408 || error.status === 429);
}
