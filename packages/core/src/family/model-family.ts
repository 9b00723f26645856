/**
 * A model family (SDXL, a plugin's blocks) as a value: what used to be
 * registered as a side effect of importing its package is declared here and
 * registered explicitly, the way onnxruntime-web's `registerBackend` takes a
 * backend. Importing a package registers nothing; an application (the CLI,
 * a script, a test's setup) calls `registerFamily(sdxl)` once.
 */
import { InvalidArgumentError } from '../errors.js';
import { registerBlocksClass, type BlocksConstructor } from '../blocks/blocks-classes.js';
import { defaultLoaderRegistry, type ComponentLoader, type ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { ModularPipeline, PipelineConstructor } from '../pipeline/modular-pipeline.js';
import { registerPipelineClass, registerPipelineClassName } from '../pipeline/pipeline-classes.js';
import { registerRunMemoryEstimator, type RunMemoryEstimator } from '../pipeline/run-memory.js';

export interface ModelFamily {
  /** Names the family in messages and in `registeredFamilies()` (e.g. 'sdxl'). */
  readonly name: string;
  /** The blocks' `modelName` this family serves (diffusers' model type, e.g. 'stable-diffusion-xl'). */
  readonly modelName?: string;
  /** The pipeline class `initPipeline()` builds for blocks of `modelName` (diffusers' MODULAR_PIPELINE_MAPPING). */
  readonly pipelineClass?: PipelineConstructor<ModularPipeline>;
  /** diffusers pipeline class names (`model_index.json` `_class_name`) that mean `modelName`. */
  readonly pipelineClassNames?: readonly string[];
  /** Blocks classes loadable by name from a saved `_blocks_class_name`. */
  readonly blocksClasses?: readonly BlocksConstructor[];
  /** The blocks of a standard `model_index.json` repo of `modelName` (diffusers' `default_blocks_name`). */
  readonly defaultBlocksClass?: BlocksConstructor;
  /** Bounds a run's tensor memory before it allocates (see run-memory.ts). */
  readonly runMemoryEstimator?: RunMemoryEstimator;
  /** The component loaders, registered in the registry passed to `registerFamily` (default: `defaultLoaderRegistry`). */
  readonly componentLoaders?: () => readonly ComponentLoader[];
  /** Anything the declarations above cannot say (e.g. a package-private hook); runs once per registration. */
  readonly install?: () => void;
}

export interface RegisterFamilyOptions {
  /** Where the family's component loaders go; default `defaultLoaderRegistry`. */
  readonly loaderRegistry?: ComponentLoaderRegistry;
}

const registered: ModelFamily[] = [];

/** Registers every declaration of `family`; registering the same family again (into the default registry) does nothing. */
export function registerFamily(family: ModelFamily, options: RegisterFamilyOptions = {}): void {
  if (!family || typeof family !== 'object' || typeof family.name !== 'string' || family.name === '') {
    throw new InvalidArgumentError('registerFamily(family): pass a model family value, e.g. `registerFamily(sdxl)` with `import { sdxl } from \'@modular-diffusers/sdxl\'`.');
  }
  const registry = options.loaderRegistry ?? defaultLoaderRegistry;
  if (registry === defaultLoaderRegistry && registered.includes(family)) return;
  if ((family.pipelineClass || family.defaultBlocksClass || family.runMemoryEstimator || family.pipelineClassNames) && !family.modelName) {
    throw new InvalidArgumentError(`registerFamily(${family.name}): a pipeline class, default blocks, memory estimator or pipeline class names need the family's modelName.`);
  }
  const modelName = family.modelName ?? '';
  if (family.pipelineClass) registerPipelineClass(modelName, family.pipelineClass);
  for (const className of family.pipelineClassNames ?? []) registerPipelineClassName(className, modelName);
  for (const blocksClass of family.blocksClasses ?? []) registerBlocksClass(blocksClass);
  if (family.defaultBlocksClass) registerBlocksClass(family.defaultBlocksClass, { defaultFor: modelName });
  if (family.runMemoryEstimator) registerRunMemoryEstimator(modelName, family.runMemoryEstimator);
  for (const loader of family.componentLoaders?.() ?? []) registry.register(loader);
  family.install?.();
  if (registry === defaultLoaderRegistry && !registered.includes(family)) registered.push(family);
}

/** The families registered with `registerFamily`, in registration order (empty until an application registers one). */
export function registeredFamilies(): readonly ModelFamily[] {
  return [...registered];
}
