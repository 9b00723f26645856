import type { HubConfig } from '../config/hub-config.js';
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

  mapError(error: unknown, revision: string, path?: string): unknown {
    return mapHubError(error, {
      repo: this.repo.designation,
      revision,
      path,
      hubUrl: this.config.hubUrl,
      tokenSource: this.config.tokenSource,
      errorCode: (url) => this.hubFetch.errorCode(url),
      signal: this.signal,
    });
  }
}
