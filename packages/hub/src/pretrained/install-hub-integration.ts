import { setDefaultRepoResolver, setPretrainedHooks, type PretrainedHooks } from '@modular-diffusers/core';
import { saveBlocks, savePipeline } from '../save/save-pretrained.js';
import { blocksFromPretrained, pipelineFromPretrained, type HubFromPretrainedOptions } from './from-pretrained.js';
import { HubRepoResolver } from './hub-repo-resolver.js';

const hooks: PretrainedHooks = {
  blocksFromPretrained: (repo, options) => blocksFromPretrained(repo, options as unknown as HubFromPretrainedOptions),
  pipelineFromPretrained: (repo, options) => pipelineFromPretrained(repo, options as unknown as HubFromPretrainedOptions),
  savePipeline: (pipeline, dir, options) => savePipeline(pipeline, dir, options),
  saveBlocks: (blocks, dir, options) => saveBlocks(blocks, dir, options),
};

let installed = false;

/**
 * Makes core's `fromPretrained`/`savePretrained` work and gives pipelines a
 * default resolver over the Hub cache (settings from the environment).
 * `installHub()` runs it; calling it again does nothing.
 */
export function installHubIntegration(): void {
  if (installed) return;
  installed = true;
  setPretrainedHooks(hooks);
  setDefaultRepoResolver(new HubRepoResolver());
}
