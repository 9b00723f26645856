/** Where a pipeline's or blocks' code came from, so saving can write the bundle and its pin back out. */
export interface RemoteCodeOrigin {
  repo: string;
  commit: string | null;
  bundleFile: string;
  bundleSha256: string;
  bundleSource: string;
  exportName: string;
  /** The bundle's Python (PEP 440) and npm requirements, written back on re-save. */
  requirements: Record<string, string>;
  npmRequirements: Record<string, string>;
}

const origins = new WeakMap<object, RemoteCodeOrigin>();

/**
 * Remembers that `target` (a pipeline or blocks object) was built from a
 * bundle. A pipeline is recorded with its `blocks` too, because its methods
 * run on the object behind its callable proxy.
 */
export function recordRemoteCodeOrigin(target: object, origin: RemoteCodeOrigin): void {
  origins.set(target, origin);
  const blocks = (target as { blocks?: unknown }).blocks;
  if (blocks !== null && typeof blocks === 'object') origins.set(blocks, origin);
}

/** The bundle `target` (or its blocks) was built from, if any. */
export function getRemoteCodeOrigin(target: object): RemoteCodeOrigin | undefined {
  const direct = origins.get(target);
  if (direct) return direct;
  const blocks = (target as { blocks?: unknown }).blocks;
  return blocks !== null && typeof blocks === 'object' ? origins.get(blocks) : undefined;
}
