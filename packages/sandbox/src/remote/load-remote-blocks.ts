/**
 * Loads a trusted plugin bundle into a fresh sandbox and describes the blocks
 * its export names. The sandbox that did the describing is kept ("parked")
 * and handed to the first pipeline built from the blocks, so loading a
 * pipeline starts one sandbox process, not two.
 */
import { hostValueCodec } from './host-codec.js';
import { RemoteBlocks, type RemoteOrigin } from './remote-blocks.js';
import { RemoteSession, type RemoteSandboxOptions, type RemoteSource } from './remote-session.js';

export async function loadRemoteBlocks(source: RemoteSource, options: RemoteSandboxOptions = {}): Promise<RemoteBlocks> {
  checkSource(source);
  const [session, codec] = await Promise.all([RemoteSession.start(source, options), hostValueCodec()]);
  let described;
  try {
    described = await session.describe([]);
  } catch (error) {
    await session.dispose();
    throw error;
  }
  const origin: RemoteOrigin = { source: { ...source }, options: { ...options }, described, codec, parked: session };
  return new RemoteBlocks(origin, described.root, []);
}

function checkSource(source: RemoteSource): void {
  const bad = (what: string) => new TypeError(`loadRemoteBlocks(source): ${what}`);
  if (source === null || typeof source !== 'object') throw bad('source must be { source, filename, exportName, repo, commit }');
  if (typeof source.source !== 'string') throw bad('source.source must be the bundle text');
  if (typeof source.filename !== 'string' || source.filename === '') throw bad('source.filename must name the bundle');
  if (typeof source.exportName !== 'string' || source.exportName === '') throw bad("source.exportName must name the export auto_map points at");
}
