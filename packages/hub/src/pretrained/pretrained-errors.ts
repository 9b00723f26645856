import { HubError } from '../cache/hub-errors.js';

const INSPECT_HINT = (repo: string, revision: string) =>
  `Inspect the code first (\`modular inspect ${repo}${revision ? ` --revision ${revision}` : ''}\`, or read the files in the repo at that commit)`;

/** The repo ships code and the caller did not pass `trustRemoteCode: true` for it. Nothing was run. */
export class RemoteCodeNotTrustedError extends HubError {
  static override readonly code: string = 'REMOTE_CODE_NOT_TRUSTED';
  override name = 'RemoteCodeNotTrustedError';
  constructor(
    readonly repo: string,
    /** The commit the repo resolved to; null for a local folder. */
    readonly commit: string | null,
    /** The repo files that would run. */
    readonly files: string[],
  ) {
    super(
      `${repo}${commit ? ` at commit ${commit}` : ''} contains code that would run on this machine (${files.join(', ')}); it was not loaded and nothing was run. ` +
        `${INSPECT_HINT(repo, commit ?? '')}, then pass { trustRemoteCode: true${commit ? `, revision: '${commit}'` : ''} } to load it. ` +
        'The code runs in the sandbox and is pinned to this commit and its sha256.',
    );
  }
}

/** Remote code is switched off for the whole process by an environment variable. */
export class RemoteCodeDisabledError extends HubError {
  static override readonly code: string = 'REMOTE_CODE_DISABLED';
  override name = 'RemoteCodeDisabledError';
  constructor(
    readonly repo: string,
    readonly commit: string | null,
    readonly files: string[],
    readonly variable: string,
  ) {
    super(
      `${repo}${commit ? ` at commit ${commit}` : ''} contains code (${files.join(', ')}), and remote code is turned off on this machine by ${variable}; ` +
        `trustRemoteCode cannot override it. Unset ${variable} to allow trusted remote code, or use blocks from an installed package instead.`,
    );
  }
}

/** `trustRemoteCode: true` was passed for a repo that has no code (diffusers raises the same). */
export class NoRemoteCodeError extends HubError {
  static override readonly code: string = 'NO_REMOTE_CODE';
  override name = 'NoRemoteCodeError';
  constructor(readonly repo: string) {
    super(
      `trustRemoteCode: true was passed for ${repo}, but it has no code to trust: its modular_config.json has no auto_map entry ` +
        '"ModularPipelineBlocks" (or there is no modular_config.json). Leave trustRemoteCode out for this repo.',
    );
  }
}

/** The bundle's bytes do not hash to the sha256 that `modular_config.json` declares. */
export class RemoteCodeHashMismatchError extends HubError {
  static override readonly code: string = 'REMOTE_CODE_HASH_MISMATCH';
  override name = 'RemoteCodeHashMismatchError';
  constructor(
    readonly repo: string,
    readonly commit: string | null,
    readonly path: string,
    readonly declaredSha256: string,
    readonly actualSha256: string,
  ) {
    super(
      `${path} of ${repo}${commit ? ` at commit ${commit}` : ''} hashes to sha256 ${actualSha256}, but its modular_config.json declares ${declaredSha256}; ` +
        'it was not run. The bundle and the config were published out of step (rebuild and publish them in one commit), or the file was altered.',
    );
  }
}

/** A trusted repo's code is ready to run, but no remote-code loader is installed in this process. */
export class RemoteCodeLoaderMissingError extends HubError {
  static override readonly code: string = 'REMOTE_CODE_LOADER_MISSING';
  override name = 'RemoteCodeLoaderMissingError';
  constructor(readonly repo: string) {
    super(
      `${repo} holds trusted remote code, but no remote-code loader is installed, so it cannot run. ` +
        "Run `npm install @modular-diffusers/sandbox` and call `installSandbox()` from it once (after `installHub()`), " +
          'or install a loader of your own with setRemoteCodeLoader(...).',
    );
  }
}

/** A repo JSON file (`modular_config.json`, `modular_model_index.json`, `model_index.json`) parses but has the wrong shape. */
export class RepoConfigError extends HubError {
  static override readonly code: string = 'REPO_CONFIG';
  override name = 'RepoConfigError';
  constructor(
    readonly repo: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${path} of ${repo} is malformed: ${problem}. Fix the file in the repo (or pin a revision where it is valid).`);
  }
}

/**
 * A diffusers custom-block repo: its `auto_map` names a Python module (`block.py`), which this
 * runtime cannot run (it runs JavaScript bundles in a sandbox). Raised before anything is fetched
 * or trusted; says which part of the repo can still be used.
 */
export class PythonRemoteCodeError extends HubError {
  static override readonly code: string = 'PYTHON_REMOTE_CODE';
  override name = 'PythonRemoteCodeError';
  constructor(
    readonly repo: string,
    readonly commit: string | null,
    readonly pythonFile: string,
    readonly className: string,
    readonly hasModelIndex: boolean,
  ) {
    super(
      `${repo}${commit ? ` at commit ${commit}` : ''} is a diffusers custom-block repo: its blocks (${className}) are Python code in ${pythonFile}, ` +
        'which this runtime cannot run (it runs JavaScript bundles built with `modular build`); nothing was downloaded or run. ' +
        (hasModelIndex
          ? `Its modular_model_index.json still names the components: use them with blocks of your own, e.g. new MyBlocks().initPipeline('${repo}'), then loadComponents(). `
          : '') +
        'To run the blocks themselves, port them to a JavaScript plugin (`modular create`).',
    );
  }
}

/** No blocks could be chosen for a repo without remote code. */
export class BlocksNotFoundError extends HubError {
  static override readonly code: string = 'BLOCKS_NOT_FOUND';
  override name = 'BlocksNotFoundError';
  constructor(
    readonly repo: string,
    detail: string,
  ) {
    super(
      `Cannot tell which blocks to build for ${repo}: ${detail}. Import the package that registers them (e.g. '@modular-diffusers/sdxl'), ` +
        'or build the blocks yourself and call blocks.initPipeline(repo).',
    );
  }
}

/**
 * A component location that came from a repo (its model index, or its blocks' specs) names a
 * local folder, and the caller did not allow local components for this load. Nothing was read.
 */
export class LocalComponentPathError extends HubError {
  static override readonly code: string = 'LOCAL_COMPONENT_PATH';
  override name = 'LocalComponentPathError';
  constructor(
    /** The repo (or folder) whose index or blocks named the location. */
    readonly repo: string,
    /** The location as it was named. */
    readonly location: string,
    /** Where it was named, e.g. `modular_model_index.json entry "unet"`. */
    readonly where: string,
    reason: string,
  ) {
    super(
      `${where} of ${repo} names ${JSON.stringify(location)}, ${reason}; component locations from a repo must be Hub repo ids ("org/name"), ` +
        'so nothing was read from this machine. If you trust this repo to read folders on your disk, load it with { allowLocalComponents: true } ' +
        '(CLI: --allow-local-components); otherwise ask its author to point the component at a Hub repo.',
    );
  }
}
