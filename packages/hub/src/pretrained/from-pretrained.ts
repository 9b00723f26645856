import type {
  ComponentLoaderRegistry,
  ComponentsManager,
  InitPipelineOptions,
  Logger,
  ModularPipeline,
  ModularPipelineBlocks,
  PipelineConstructor,
  PipelineFromPretrainedOptions,
  TrustRemoteCode,
} from '@modular-diffusers/core';
import { BLOCKS_FROM_PRETRAINED_OPTIONS, InvalidArgumentError, PIPELINE_FROM_PRETRAINED_OPTIONS } from '@modular-diffusers/core';
import { HubError } from '../cache/hub-errors.js';
import { chooseBlocks } from './choose-blocks.js';
import { pickHubAccess, type HubAccessOptions } from './hub-access-options.js';
import { HubRepoResolver } from './hub-repo-resolver.js';
import { RemoteCodeLoaderMissingError } from './pretrained-errors.js';
import { getRemoteCodeLoader, type RemoteCodeRequest } from './remote-code-loader.js';
import { checkIndexLocations } from './component-locations.js';
import { passRemoteCodeGate, type TrustedBundle } from './remote-code-gate.js';
import { recordRemoteCodeOrigin } from './remote-code-origin.js';
import { readRepoDescription, type RepoDescription } from './repo-description.js';

/** `fromPretrained` options as the hub implements them. */
export interface HubFromPretrainedOptions extends HubAccessOptions {
  /** Branch, tag or commit; resolved to a commit before anything else is read. Default `main`. */
  revision?: string | null;
  /**
   * Allows THIS repo's code (its bundle) to run in the sandbox, pinned in the remote-code lock.
   * `{ update: true }` also accepts code that changed since it was pinned (and re-pins it).
   * Never forwarded to component repos; the process-wide kill switch overrides it.
   */
  trustRemoteCode?: TrustRemoteCode;
  /**
   * Let this repo's model index and blocks name local folders for components (default false:
   * they must name Hub repos; the repo itself, when it is a local folder, is always readable).
   */
  allowLocalComponents?: boolean;
  componentsManager?: ComponentsManager | null;
  /** The developer guide's spelling (`component_manager=`) of `componentsManager`. */
  componentManager?: ComponentsManager | null;
  collection?: string | null;
  loaderRegistry?: ComponentLoaderRegistry;
  strict?: boolean;
  logger?: Logger;
  pipelineClass?: PipelineConstructor<ModularPipeline>;
  /** Where components go when loaded (passed to every `loadComponents` call), e.g. 'cpu', 'cuda', 'auto'. */
  device?: string;
  /** diffusers' name for `accessToken`. */
  token?: string;
  /** Prune the repo's blocks to this workflow (see `blocks.availableWorkflows`); an unknown name lists the available ones. */
  workflow?: string;
  /** The largest run the pipeline starts (see InitPipelineOptions.maxMemory). */
  maxMemory?: number | string;
  /** ModularPipelineBlocks.fromPretrained only: the blocks' folder in the repo. */
  subfolder?: string | null;
}

/** `ModularPipelineBlocks.fromPretrained`: the repo's blocks, from its trusted bundle or a registered class. */
export async function blocksFromPretrained(repo: string, options: HubFromPretrainedOptions = {}): Promise<ModularPipelineBlocks> {
  BLOCKS_FROM_PRETRAINED_OPTIONS.check(options);
  const access = pickHubAccess(options as Record<string, unknown>);
  const description = await readRepoDescription(repo, options.revision, access);
  const trusted = await passGate(description, options, access);
  if (!trusted) return chooseBlocks(description);
  const loader = requireLoader(repo);
  if (!loader.loadBlocks) {
    throw new HubError(
      `The installed remote-code loader cannot hand out ${repo}'s blocks on their own (its code runs only inside the sandbox). ` +
        'Use ModularPipeline.fromPretrained(repo, { trustRemoteCode: true }) to get a pipeline built from them.',
    );
  }
  const blocks = await loader.loadBlocks(remoteCodeRequest('blocks', repo, description, trusted, options, access));
  recordRemoteCodeOrigin(blocks, originOf(repo, description, trusted));
  return blocks;
}

/**
 * `ModularPipeline.fromPretrained`: a lazy pipeline (no weights loaded
 * until `loadComponents`) whose components resolve through the Hub, each
 * downloading only its own files.
 */
export async function pipelineFromPretrained(repo: string, given: HubFromPretrainedOptions = {}): Promise<ModularPipeline> {
  PIPELINE_FROM_PRETRAINED_OPTIONS.check(given);
  const { componentManager, ...rest } = given;
  const options: HubFromPretrainedOptions = { ...rest, componentsManager: given.componentsManager ?? componentManager ?? null };
  const access = pickHubAccess(options as Record<string, unknown>);
  const description = await readRepoDescription(repo, options.revision, access);
  const trusted = await passGate(description, options, access);
  if (description.modelIndex && description.modelIndexFile) {
    await checkIndexLocations(description.modelIndex, repo, description.modelIndexFile, options.allowLocalComponents === true);
  }
  const resolver = componentResolver(repo, description, options, access);
  const init: InitPipelineOptions = {
    componentsManager: options.componentsManager ?? null,
    collection: options.collection ?? null,
    loaderRegistry: options.loaderRegistry,
    repoResolver: resolver,
    modelIndex: description.modelIndex,
    strict: options.strict,
    logger: options.logger,
    pipelineClass: options.pipelineClass,
    loadOptions: options.device !== undefined ? { device: options.device } : undefined,
    ...(options.maxMemory !== undefined ? { maxMemory: options.maxMemory } : {}),
  };
  if (!trusted) {
    const blocks = chooseBlocks(description);
    return (options.workflow === undefined ? blocks : blocks.getWorkflow(options.workflow)).initPipeline(repo, init);
  }
  if (options.workflow !== undefined) {
    throw new InvalidArgumentError(
      `fromPretrained(${JSON.stringify(repo)}, { workflow }): the blocks of this repo are remote code, which this runtime does not prune to a workflow; ` +
        `load it without { workflow: '${options.workflow}' }.`,
    );
  }

  const loader = requireLoader(repo);
  const request = remoteCodeRequest('pipeline', repo, description, trusted, options, access, resolver);
  const pipeline = await loader.loadPipeline(request);
  recordRemoteCodeOrigin(pipeline, originOf(repo, description, trusted));
  return pipeline;
}

function passGate(description: RepoDescription, options: HubFromPretrainedOptions, access: HubAccessOptions): Promise<TrustedBundle | null> {
  return passRemoteCodeGate({
    listing: description.listing,
    modularConfig: description.modularConfig,
    configHashes: description.fileHashes,
    revision: options.revision,
    trustRemoteCode: options.trustRemoteCode,
    access,
  });
}

/**
 * The resolver a pipeline's components load through: components of this repo without their own
 * revision come from the commit its index was read at, and locations are Hub repos unless the
 * caller allowed local components (the repo itself, as the caller named it, always resolves).
 */
function componentResolver(repo: string, description: RepoDescription, options: HubFromPretrainedOptions, access: HubAccessOptions): HubRepoResolver {
  const commit = description.listing.commit;
  return new HubRepoResolver({
    ...access,
    signal: undefined,
    defaultRevisions: commit ? { [repo]: commit } : {},
    allowLocalFolders: options.allowLocalComponents === true,
    ownRepos: [repo],
    locationsOf: repo,
  });
}

function requireLoader(repo: string) {
  const loader = getRemoteCodeLoader();
  if (!loader) throw new RemoteCodeLoaderMissingError(repo);
  return loader;
}

function remoteCodeRequest(
  target: 'pipeline' | 'blocks',
  repo: string,
  description: RepoDescription,
  trusted: TrustedBundle,
  options: HubFromPretrainedOptions,
  access: HubAccessOptions,
  resolver?: HubRepoResolver,
): RemoteCodeRequest {
  const commit = description.listing.commit ?? null;
  return {
    target,
    repo,
    commit,
    snapshotDir: description.listing.snapshotDir,
    bundleFile: trusted.file,
    bundlePath: trusted.localPath,
    bundleSha256: trusted.sha256,
    bundleSource: trusted.source,
    exportName: trusted.exportName,
    modularConfig: description.modularConfig!,
    modelIndex: description.modelIndex,
    resolver: resolver ?? componentResolver(repo, description, options, access),
    init: {
      componentsManager: options.componentsManager ?? null,
      collection: options.collection ?? null,
      loaderRegistry: options.loaderRegistry,
      device: options.device,
      ...(options.maxMemory !== undefined ? { maxMemory: options.maxMemory } : {}),
    },
    // The trust flag is consumed here: nothing downstream can forward it to another repo.
    options: { ...options, trustRemoteCode: false } as unknown as PipelineFromPretrainedOptions,
    signal: options.signal,
  };
}

function originOf(repo: string, description: RepoDescription, trusted: TrustedBundle) {
  return {
    repo,
    commit: description.listing.commit ?? null,
    bundleFile: trusted.file,
    bundleSha256: trusted.sha256,
    bundleSource: trusted.source,
    exportName: trusted.exportName,
    requirements: description.modularConfig?.requirements ?? {},
    npmRequirements: description.modularConfig?.npmRequirements ?? {},
  };
}
