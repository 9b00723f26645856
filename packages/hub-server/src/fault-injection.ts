/** Names of the server's routes, for request counting and fault matching. */
export type HubRouteName =
  | 'whoami'
  | 'create-repo'
  | 'delete-repo'
  | 'validate-yaml'
  | 'repo-info'
  | 'revision-info'
  | 'tree'
  | 'paths-info'
  | 'refs'
  | 'commits'
  | 'preupload'
  | 'commit'
  | 'branch'
  | 'tag'
  | 'lfs-batch'
  | 'lfs-upload'
  | 'lfs-object'
  | 'resolve'
  | 'raw'
  | 'unknown';

/** Which requests a fault hits; every given field must match. */
export interface FaultMatch {
  route?: HubRouteName | HubRouteName[];
  /** HTTP method, e.g. `GET`. */
  method?: string;
  /** A substring of, or a pattern tested on, the request's path and query. */
  path?: string | RegExp;
  /** How many requests it hits before it is used up. Default: all of them. */
  times?: number;
}

/**
 * A fault the server injects:
 * - `error`: answer with `status` (default 500) instead of handling the request;
 * - `slow`: send the body in `chunkBytes` pieces (default 16 KiB), waiting `delayMs` before each;
 * - `truncate`: declare the full length, send `afterBytes` bytes, then close the socket.
 *   Only a body longer than `afterBytes` uses it up (a `Range: bytes=0-0` probe passes).
 */
export type HubFault =
  | (FaultMatch & { kind: 'error'; status?: number; message?: string })
  | (FaultMatch & { kind: 'slow'; delayMs: number; chunkBytes?: number })
  | (FaultMatch & { kind: 'truncate'; afterBytes: number });

export interface RequestFacts {
  route: HubRouteName;
  method: string;
  /** Path and query, as received. */
  path: string;
}

export interface BodyFaults {
  slow?: { delayMs: number; chunkBytes: number };
  truncateAfter?: number;
}

interface ActiveFault {
  fault: HubFault;
  remaining: number;
}

/** The server's current faults, used up as matching requests arrive. */
export class FaultInjector {
  private active: ActiveFault[] = [];

  set(faults: readonly HubFault[]): void {
    this.active = faults.map((fault) => ({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY }));
  }

  /** Faults not used up yet, with how many hits each has left. */
  pending(): { fault: HubFault; remaining: number }[] {
    return this.active.filter((a) => a.remaining > 0).map((a) => ({ ...a }));
  }

  private find(kind: HubFault['kind'], request: RequestFacts, accept: (f: HubFault) => boolean = () => true): ActiveFault | undefined {
    const hit = this.active.find((a) => a.remaining > 0 && a.fault.kind === kind && matches(a.fault, request) && accept(a.fault));
    if (hit) hit.remaining--;
    return hit;
  }

  takeError(request: RequestFacts): { status: number; message: string } | undefined {
    const hit = this.find('error', request);
    if (!hit || hit.fault.kind !== 'error') return undefined;
    return { status: hit.fault.status ?? 500, message: hit.fault.message ?? 'Injected fault: internal error' };
  }

  takeBodyFaults(request: RequestFacts, bodyLength: number): BodyFaults {
    const faults: BodyFaults = {};
    const slow = this.find('slow', request);
    if (slow?.fault.kind === 'slow') faults.slow = { delayMs: slow.fault.delayMs, chunkBytes: slow.fault.chunkBytes ?? 16 * 1024 };
    const truncate = this.find('truncate', request, (f) => f.kind === 'truncate' && bodyLength > f.afterBytes);
    if (truncate?.fault.kind === 'truncate') faults.truncateAfter = truncate.fault.afterBytes;
    return faults;
  }
}

function matches(fault: FaultMatch, request: RequestFacts): boolean {
  if (fault.route !== undefined) {
    const routes = Array.isArray(fault.route) ? fault.route : [fault.route];
    if (!routes.includes(request.route)) return false;
  }
  if (fault.method !== undefined && fault.method.toUpperCase() !== request.method) return false;
  if (fault.path !== undefined) {
    if (typeof fault.path === 'string' ? !request.path.includes(fault.path) : !fault.path.test(request.path)) return false;
  }
  return true;
}
