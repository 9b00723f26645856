import type { HubRouteName } from './fault-injection.js';
import { badRequest } from './hub-server-error.js';
import { isValidRepoName, type HubRepoId, type HubRepoType } from './repo-id.js';

/** A request path read as one of the Hub's routes. */
export interface MatchedRoute {
  name: HubRouteName;
  repo?: HubRepoId;
  /** Decoded path segments after the route keyword (revision, file path, ticket...). */
  args: string[];
}

const API_TYPES: Record<string, HubRepoType> = { models: 'model', datasets: 'dataset', spaces: 'space' };
const WEB_PREFIXES: Record<string, HubRepoType> = { datasets: 'dataset', spaces: 'space' };
const REPO_API_ROUTES: Record<string, HubRouteName> = {
  revision: 'revision-info',
  tree: 'tree',
  'paths-info': 'paths-info',
  preupload: 'preupload',
  commit: 'commit',
  commits: 'commits',
  branch: 'branch',
  tag: 'tag',
  refs: 'refs',
};

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Malformed percent-encoding in URL segment "${segment}".`);
  }
}

function repoOf(type: HubRepoType, namespace: string | undefined, name: string | undefined): HubRepoId | undefined {
  if (namespace === undefined || name === undefined) return undefined;
  const ns = decode(namespace);
  const repoName = decode(name);
  return isValidRepoName(ns) && isValidRepoName(repoName) ? { type, namespace: ns, name: repoName } : undefined;
}

const UNKNOWN: MatchedRoute = { name: 'unknown', args: [] };

/** Reads `pathname` (still percent-encoded) as a route; `unknown` when nothing fits. */
export function matchRoute(pathname: string): MatchedRoute {
  const raw = pathname.split('/').slice(1);
  if (raw[0] === 'api') {
    if (raw.length === 2 && raw[1] === 'whoami-v2') return { name: 'whoami', args: [] };
    if (raw.length === 3 && raw[1] === 'repos' && raw[2] === 'create') return { name: 'create-repo', args: [] };
    if (raw.length === 3 && raw[1] === 'repos' && raw[2] === 'delete') return { name: 'delete-repo', args: [] };
    if (raw.length === 2 && raw[1] === 'validate-yaml') return { name: 'validate-yaml', args: [] };
    const type = API_TYPES[raw[1]];
    const repo = type ? repoOf(type, raw[2], raw[3]) : undefined;
    if (!repo) return UNKNOWN;
    if (raw.length === 4) return { name: 'repo-info', repo, args: [] };
    const name = REPO_API_ROUTES[raw[4]];
    return name ? { name, repo, args: raw.slice(5).map(decode) } : UNKNOWN;
  }
  if (raw[0] === '_lfs' && raw.length === 3) {
    if (raw[1] === 'upload') return { name: 'lfs-upload', args: [decode(raw[2])] };
    if (raw[1] === 'objects') return { name: 'lfs-object', args: [decode(raw[2])] };
    return UNKNOWN;
  }
  const type = WEB_PREFIXES[raw[0]] ?? 'model';
  const rest = type === 'model' ? raw : raw.slice(1);
  if (rest.length === 6 && rest[1].endsWith('.git') && rest.slice(2).join('/') === 'info/lfs/objects/batch') {
    const repo = repoOf(type, rest[0], rest[1].slice(0, -'.git'.length));
    return repo ? { name: 'lfs-batch', repo, args: [] } : UNKNOWN;
  }
  if (rest.length >= 5 && (rest[2] === 'resolve' || rest[2] === 'raw')) {
    const repo = repoOf(type, rest[0], rest[1]);
    return repo ? { name: rest[2], repo, args: rest.slice(3).map(decode) } : UNKNOWN;
  }
  return UNKNOWN;
}
