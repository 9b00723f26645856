/** A failed answer seen by {@link HubFetch}, in arrival order. */
export interface HubFailure {
  url: string;
  status: number;
  code: string | undefined;
}

/**
 * The `fetch` handed to `@huggingface/hub`: it adds the caller's AbortSignal to
 * every request and remembers failed answers with their `X-Error-Code`, which
 * the client's `HubApiError` drops but which tells a missing repo from a
 * missing revision or file (Python's client reads the same header). A blob's
 * `stream()` also reports an HTTP failure only as text; the record keeps its status.
 */
export interface HubFetch {
  fetch: typeof fetch;
  readonly failures: readonly HubFailure[];
  errorCode(url: string): string | undefined;
}

export function createHubFetch(base: typeof fetch = fetch, signal?: AbortSignal): HubFetch {
  const failures: HubFailure[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const signals = [init?.signal, signal].filter((s): s is AbortSignal => s != null);
    const response = await base(input, { ...init, signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] });
    if (!response.ok) {
      const url = input instanceof Request ? input.url : String(input);
      const code = response.headers.get('x-error-code') ?? undefined;
      failures.push({ url, status: response.status, code });
      if (response.url && response.url !== url) failures.push({ url: response.url, status: response.status, code });
    }
    return response;
  };
  return {
    fetch: wrapped,
    failures,
    errorCode: (url) => failures.findLast((f) => f.url === url)?.code,
  };
}
