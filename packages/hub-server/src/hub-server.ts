import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { AccessControl, type HubTokens } from './access-control.js';
import { Exchange, type HubRequestRecord } from './exchange.js';
import { FaultInjector, type HubFault, type HubRouteName } from './fault-injection.js';
import { lfsObject, resolveFile } from './file-routes.js';
import { HubHttpError, HubServerError } from './hub-server-error.js';
import { HubStore } from './hub-store.js';
import { importFolderToHubStore, type ImportFolderOptions, type ImportFolderResult } from './import-folder.js';
import { pathsInfo, tree } from './info-routes.js';
import { DEFAULT_LFS_THRESHOLD_BYTES } from './lfs-policy.js';
import { LfsLinks } from './lfs-links.js';
import { branch, createRepo, deleteRepo, listCommits, listRefs, repoInfo, revisionInfo, tag, whoami } from './repo-routes.js';
import { matchRoute, type MatchedRoute } from './route-table.js';
import type { RouteHandler, ServerContext } from './server-context.js';
import { commit, lfsBatch, lfsUpload, preupload } from './upload-routes.js';
import { validateYaml } from './validate-yaml.js';

export interface HubServerOptions {
  /** Folder holding the store; created if missing, reused across restarts. */
  root: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** A loopback address; default `127.0.0.1`. */
  host?: string;
  /** Accepted tokens and their users, e.g. `{ hf_alice: 'alice' }`. */
  tokens?: HubTokens;
  /** Faults to inject from the start; change them later with `setFaults`. */
  faults?: HubFault[];
  /** Files of this size or more go to LFS whatever their name. Default 10 MiB, as the Hub. */
  lfsThresholdBytes?: number;
  /** Entries per page of a tree listing before a `Link: rel="next"`. Default 1000, as the Hub. */
  treePageSize?: number;
  /** Answer `resolve` of LFS files with a 302 to a signed object URL, as the Hub's CDN. Default false. */
  lfsRedirect?: boolean;
  /**
   * The URL clients reach the server by when it is not a loopback name (behind a
   * reverse proxy, e.g. `https://hub.internal`): its host is accepted in `Host`, and
   * links in answers use it. Requests naming any other host are refused.
   */
  publicUrl?: string;
}

export interface RequestFilter {
  route?: HubRouteName;
  method?: string;
  /** Substring of the path and query. */
  path?: string;
}

export interface HubServer {
  /** Base URL to pass as `hubUrl` / `HF_ENDPOINT`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly root: string;
  readonly store: HubStore;
  /** Every request so far, oldest first. */
  readonly requestLog: readonly HubRequestRecord[];
  countRequests(filter?: RequestFilter): number;
  clearRequestLog(): void;
  /** Replaces the injected faults (an empty list stops injecting). */
  setFaults(faults: HubFault[]): void;
  /** Faults not used up yet, with the hits each has left. */
  pendingFaults(): { fault: HubFault; remaining: number }[];
  /** Seeds a branch of a repo with exactly the files of a local folder (see {@link importFolderToHubStore}). */
  importFolder(repo: string, folder: string, options?: ImportFolderOptions): Promise<ImportFolderResult>;
  /** Stops accepting requests, drops open connections and waits for writes in progress. */
  close(): Promise<void>;
}

const HANDLERS: Partial<Record<HubRouteName, Partial<Record<string, RouteHandler>>>> = {
  whoami: { GET: whoami },
  'create-repo': { POST: createRepo },
  'delete-repo': { DELETE: deleteRepo },
  'validate-yaml': { POST: validateYaml },
  'repo-info': { GET: repoInfo },
  'revision-info': { GET: revisionInfo },
  tree: { GET: tree },
  'paths-info': { POST: pathsInfo },
  refs: { GET: listRefs },
  commits: { GET: listCommits },
  preupload: { POST: preupload },
  commit: { POST: commit },
  branch: { POST: branch, DELETE: branch },
  tag: { POST: tag, DELETE: tag },
  'lfs-batch': { POST: lfsBatch },
  'lfs-upload': { PUT: lfsUpload },
  'lfs-object': { GET: lfsObject, HEAD: lfsObject },
  resolve: { GET: resolveFile, HEAD: resolveFile },
  raw: { GET: resolveFile, HEAD: resolveFile },
};

const MAX_LOG_ENTRIES = 100_000;

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The origin a request names in `Host`, if it is this server's: a loopback name
 * (any port), or the public URL's host. A DNS-rebinding page in a browser reaches a
 * loopback server under its own name (`Host: evil.example`), so anything else is
 * refused before any route runs, and links are never built from a foreign name.
 */
function allowedOrigin(hostHeader: string | undefined, publicUrl: URL | undefined): string | undefined {
  if (!hostHeader) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search) return undefined;
  const name = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (publicUrl && url.host === publicUrl.host) return publicUrl.origin;
  return isLoopback(name) ? `http://${url.host}` : undefined;
}

/**
 * Starts a Hub-compatible HTTP server over a folder, on loopback, that the
 * unmodified `@huggingface/hub` client (and `huggingface_hub` through
 * `HF_ENDPOINT`) can download from, list, and commit to.
 */
export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    throw new HubServerError(`The local Hub server only listens on loopback (127.0.0.1, ::1, localhost), not ${host}: it serves private repos with test tokens.`);
  }
  let publicUrl: URL | undefined;
  if (options.publicUrl !== undefined) {
    try {
      publicUrl = new URL(options.publicUrl);
    } catch {
      throw new HubServerError(`publicUrl "${options.publicUrl}" is not a URL: give the address clients use, e.g. https://hub.internal.`);
    }
    if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') throw new HubServerError(`publicUrl "${options.publicUrl}" must be http or https.`);
  }
  const root = resolve(options.root);
  const store = await HubStore.open(root);
  const faults = new FaultInjector();
  faults.set(options.faults ?? []);
  const ctx: ServerContext = {
    store,
    access: new AccessControl(options.tokens),
    links: new LfsLinks(),
    lfsThresholdBytes: options.lfsThresholdBytes ?? DEFAULT_LFS_THRESHOLD_BYTES,
    treePageSize: Math.max(1, options.treePageSize ?? 1000),
    lfsRedirect: options.lfsRedirect ?? false,
    startedAt: new Date(),
  };
  const log: HubRequestRecord[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? '/';
    const requestId = randomBytes(8).toString('hex');
    let route: MatchedRoute;
    try {
      route = matchRoute(new URL(path, 'http://localhost').pathname);
    } catch {
      route = { name: 'unknown', args: [] };
    }
    const record: HubRequestRecord = { method: req.method ?? 'GET', path, route: route.name, faults: [] };
    if (typeof req.headers.range === 'string') record.range = req.headers.range;
    log.push(record);
    // A long-running server (`modular hub serve`) keeps only the recent past.
    if (log.length > MAX_LOG_ENTRIES) log.splice(0, log.length - MAX_LOG_ENTRIES);
    const origin = allowedOrigin(req.headers.host, publicUrl);
    const ex = new Exchange(req, res, route, record, requestId, faults, origin ?? 'http://localhost');
    try {
      if (origin === undefined) {
        throw new HubHttpError(
          403,
          `This local Hub server does not answer to the host ${JSON.stringify(req.headers.host ?? '')}: use localhost, 127.0.0.1 or [::1]${publicUrl ? ` or ${publicUrl.host}` : ''} (a server behind a proxy is given its address with publicUrl / --public-url).`,
          'ForbiddenHost',
        );
      }
      if (await ex.injectedError()) return;
      ex.caller = ctx.access.authenticate(req.headers.authorization);
      record.user = ex.caller?.user.name;
      const handler = HANDLERS[route.name]?.[ex.method];
      if (!handler) {
        throw route.name === 'unknown'
          ? new HubHttpError(404, `Not found: ${ex.method} ${ex.url.pathname} is not a route of this local Hub server.`, 'NotFound')
          : new HubHttpError(405, `${ex.method} is not allowed on ${route.name} routes.`, 'MethodNotAllowed');
      }
      await handler(ex, ctx);
    } catch (error) {
      const answer =
        error instanceof HubHttpError
          ? error
          : new HubHttpError(500, `Internal error of the local Hub server: ${error instanceof Error ? error.message : String(error)}`, 'InternalError');
      if (!res.headersSent) await ex.error(answer).catch(() => res.destroy());
      else res.destroy();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new HubServerError('The local Hub server did not get a TCP port.');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    root,
    store,
    get requestLog() {
      return log;
    },
    countRequests(filter: RequestFilter = {}) {
      return log.filter(
        (r) =>
          (filter.route === undefined || r.route === filter.route) &&
          (filter.method === undefined || r.method === filter.method.toUpperCase()) &&
          (filter.path === undefined || r.path.includes(filter.path)),
      ).length;
    },
    clearRequestLog() {
      log.length = 0;
    },
    setFaults(list: HubFault[]) {
      faults.set(list);
    },
    pendingFaults() {
      return faults.pending();
    },
    importFolder(repo: string, folder: string, importOptions: ImportFolderOptions = {}) {
      return importFolderToHubStore(store, repo, folder, { lfsThresholdBytes: ctx.lfsThresholdBytes, ...importOptions });
    },
    async close() {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await store.idle();
    },
  };
}
