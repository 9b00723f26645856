// The Modular Diffusers engine: params, specs, state, blocks, pipelines and
// the components manager. Pure TypeScript: no models, no I/O, no Node built-ins.

export * from './errors.js';
export * from './error-codes.js';
export * from './logger.js';

export * from './util/abort.js';
export * from './util/insertable-ordered-dict.js';
export * from './util/python-repr.js';
export { resolveHfHome, modularDiffusersHome, expandUserPath, type EnvVars } from './util/hf-home.js';
export { inspectSymbol } from './util/inspect.js';
export { formatTable, formatBytes } from './util/format-table.js';

export * from './params/type-hint.js';
export * from './params/input-param.js';
export * from './params/output-param.js';
export * from './params/config-spec.js';

export * from './components/load-id.js';
export * from './components/component-library.js';
export * from './components/component-spec.js';
export * from './components/loader-registry.js';
export * from './components/repo-resolver.js';
export * from './components/merge-component-specs.js';
export * from './components/model-index.js';
export * from './components/component-pattern.js';
export * from './components/components-manager.js';
export * from './components/memory-budget.js';
export * from './components/offloadable-component.js';
export * from './components/saveable-component.js';
export * from './components/offload-strategy.js';
export type { ResidencyEvent } from './components/auto-offload.js';

export * from './state/run-context.js';
export * from './state/pipeline-state.js';
export * from './state/block-state.js';
export { isTensorLike, formatStateValue, formatBlockStateValue } from './state/format-value.js';

export { BLOCK_BRAND, isBlock, isTypedBlockBase } from './blocks/block-brand.js';
export * from './blocks/blocks-dict.js';
export { sequenceInputs, alternativeInputs, combineInputs, distinctDefaults, sameDefault, combineOutputs, uniqueInputs, type SequenceStep } from './blocks/combine-params.js';
export { formatCompositeBlocks, formatLeafBlock, formatComponents, formatConfigs } from './blocks/format-blocks.js';
export * from './blocks/make-doc-string.js';
export * from './blocks/workflows.js';
export * from './blocks/requirements.js';
export * from './blocks/modular-pipeline-blocks.js';
export * from './blocks/typed-block.js';
export * from './compat/index.js';
export * from './blocks/blocks-classes.js';
export * from './blocks/sequential-pipeline-blocks.js';
export * from './blocks/loop-sequential-pipeline-blocks.js';
export * from './blocks/conditional-pipeline-blocks.js';

export * from './hub/pretrained-hooks.js';

// A pipeline by concept: the components object, the loader service, a blocks runner, output selection; callability opt-in.
export * from './pipeline/modular-pipeline.js';
export { PipelineComponentStore } from './pipeline/pipeline-component-store.js';
export type { ComponentStoreSettings, ComponentChangeListener } from './pipeline/pipeline-component-store.js';
export { ComponentLoadService } from './pipeline/component-loading.js';
export { localBlocksRunner } from './pipeline/blocks-runner.js';
export type { BlocksRunner, RunTarget } from './pipeline/blocks-runner.js';
export { runBlocks } from './pipeline/run-blocks.js';
export { checkRunInputs, selectOutput } from './pipeline/run-result.js';
export { callable, callableFormOf } from './pipeline/callable-pipeline.js';
export type { CallableOf, PipelineInputsOf, PipelineOutputsOf } from './pipeline/callable-pipeline.js';
export * from './pipeline/pipeline-loader.js';
export * from './pipeline/pipeline-classes.js';
export * from './pipeline/pipeline-options.js';
export * from './components/component-load-options.js';
export * from './util/closed-options.js';
export * from './pipeline/run-memory.js';
export * from './family/model-family.js';
