import { HubError } from './hub-errors.js';

/** One file whose sha256 differs from the pin: null on a side where the file is absent. */
export interface RemoteCodeFileChange {
  path: string;
  pinnedSha256: string | null;
  actualSha256: string | null;
}

const short = (sha: string | null) => (sha === null ? 'absent' : sha.slice(0, 12));

function describeChanges(changes: readonly RemoteCodeFileChange[]): string {
  return changes.map((c) => `${c.path} (${c.pinnedSha256 === null ? 'new file' : c.actualSha256 === null ? 'removed' : `sha256 ${short(c.pinnedSha256)}… -> ${short(c.actualSha256)}…`})`).join(', ');
}

/**
 * A trusted repo's code is not what the remote-code lock pinned: the revision now resolves to
 * another commit (a branch moved on, a tag was moved), or a recorded file (bundle,
 * `modular_config.json`, the model index) has other bytes under the same commit (an edited cache
 * or a tampering mirror). Nothing was run and the lock was left as it was.
 */
export class RemoteCodeChangedError extends HubError {
  static override readonly code: string = 'REMOTE_CODE_CHANGED';
  override name = 'RemoteCodeChangedError';
  /** The commit the lock pins for the repo. */
  readonly pinnedCommit: string;
  /** The commit this load resolved to (equal to pinnedCommit when files changed under one commit). */
  readonly commit: string;

  constructor(
    readonly repo: string,
    pinnedCommit: string,
    commit: string,
    /** The revision the caller asked for (`main` when none). */
    readonly revision: string,
    readonly changedFiles: readonly RemoteCodeFileChange[],
    readonly lockFile: string,
    /** The revision the pin was made from (null: not recorded, a version-1 pin). */
    readonly pinnedRevision: string | null = null,
  ) {
    const pinnedFrom = pinnedRevision === null || pinnedRevision === pinnedCommit ? '' : ` (pinned from revision ${pinnedRevision})`;
    const accept = 'accept it with { trustRemoteCode: { update: true } } (CLI: modular run --update-trust)';
    const files = changedFiles.length > 0 ? `changed files: ${describeChanges(changedFiles)}` : 'no recorded file changed';
    super(
      pinnedCommit === commit
        ? `The code of ${repo} at commit ${commit} is not what was trusted: ${files}. The remote-code lock (${lockFile}) pinned other bytes for ` +
            'this same commit, and a commit never changes on the Hub, so the cached copy (or a mirror) was altered. Nothing was run. ' +
            `Delete the cached snapshot of ${repo} and load again to download it afresh; if you trust the altered files, ${accept}.`
        : `${repo} (revision ${revision}) resolves to commit ${commit}, but the remote-code lock (${lockFile}) trusts commit ${pinnedCommit}${pinnedFrom}; ` +
            `${files}. Nothing was run. Read the new code first (\`modular inspect ${repo} --revision ${commit}\`), then ${accept}; ` +
            `or keep the trusted code with { revision: '${pinnedCommit}' }.`,
    );
    this.pinnedCommit = pinnedCommit;
    this.commit = commit;
  }
}
