import { isAbsolute } from 'node:path';
import { isLocalFolder } from '../cache/local-files.js';
import { parseRepoRef } from '../cache/repo-ref.js';
import { LocalComponentPathError, RepoConfigError } from './pretrained-errors.js';

/**
 * Why `location` would be read from this machine rather than the Hub, or null when it is a Hub
 * repo id that no local folder shadows. The fetch layer treats any existing folder as local,
 * so a bare `org/name` is checked against the working directory too.
 */
export async function localReason(location: string): Promise<string | null> {
  if (isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location) || location.startsWith('\\\\')) return 'an absolute path on this machine';
  if (location.startsWith('~')) return 'a path in a home folder';
  if (/^\.\.?([\\/]|$)/.test(location) || location.includes('\\')) return 'a path relative to the working directory';
  try {
    parseRepoRef(location);
  } catch {
    return 'a local path (it is not a Hub repo id)';
  }
  if (await isLocalFolder(location)) return 'which is also a folder in the working directory, so it would be read from disk';
  return null;
}

/** Refuses a location from a repo that would read this machine's files (see localReason). */
export async function assertHubLocation(location: string, repo: string, where: string): Promise<void> {
  const reason = await localReason(location);
  if (reason) throw new LocalComponentPathError(repo, location, where, reason);
}

/** A subfolder must stay inside its repo: no absolute path, no `..` segment. */
export function assertSubfolder(subfolder: string | null | undefined, repo: string, where: string): void {
  if (subfolder === null || subfolder === undefined || subfolder === '') return;
  const parts = subfolder.replace(/\\/g, '/').split('/');
  if (isAbsolute(subfolder) || /^[A-Za-z]:/.test(subfolder) || parts.includes('..')) {
    throw new RepoConfigError(repo, where, `the subfolder ${JSON.stringify(subfolder)} leaves the repo; give a folder inside it, e.g. "unet"`);
  }
}

/**
 * Checks every component entry of a parsed model index before a pipeline is built from it:
 * entries naming a local folder (other than the repo itself) are refused unless allowed.
 */
export async function checkIndexLocations(index: Record<string, unknown>, repo: string, file: string, allowLocal: boolean): Promise<void> {
  for (const [name, value] of Object.entries(index)) {
    if (name.startsWith('_') || !Array.isArray(value) || value.length !== 3) continue;
    const spec = value[2] as Record<string, unknown> | null;
    if (spec === null || typeof spec !== 'object') continue;
    const where = `${file} entry "${name}"`;
    assertSubfolder(typeof spec.subfolder === 'string' ? spec.subfolder : null, repo, file);
    const location = typeof spec.pretrained_model_name_or_path === 'string' ? spec.pretrained_model_name_or_path : typeof spec.repo === 'string' ? spec.repo : null;
    if (location === null || location === repo || allowLocal) continue;
    await assertHubLocation(location, repo, where);
  }
}
