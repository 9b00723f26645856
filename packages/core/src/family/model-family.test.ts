import { describe, expect, it } from 'vitest';
import { getBlocksClass, getDefaultBlocksClass } from '../blocks/blocks-classes.js';
import { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { ComponentLoaderRegistry, defaultLoaderRegistry } from '../components/loader-registry.js';
import { InvalidArgumentError } from '../errors.js';
import { ModularPipeline } from '../pipeline/modular-pipeline.js';
import { getPipelineClass, modelNameOfPipelineClass } from '../pipeline/pipeline-classes.js';
import { getRunMemoryEstimator } from '../pipeline/run-memory.js';
import { registeredFamilies, registerFamily, type ModelFamily } from './model-family.js';

class ToyAutoBlocks extends ModularPipelineBlocks {}
class ToyStepBlocks extends ModularPipelineBlocks {}
class ToyPipeline extends ModularPipeline {}
const estimator = () => null;

function toyFamily(installs: string[]): ModelFamily {
  return {
    name: 'toy',
    modelName: 'toy-model',
    pipelineClass: ToyPipeline,
    pipelineClassNames: ['ToyDiffusersPipeline'],
    blocksClasses: [ToyStepBlocks],
    defaultBlocksClass: ToyAutoBlocks,
    runMemoryEstimator: estimator,
    componentLoaders: () => [{ type: 'ToyModel', fromConfig: () => 'toy model' }],
    install: () => installs.push('installed'),
  };
}

describe('registerFamily', () => {
  it('registers nothing until called, then every declaration of the family, once', () => {
    const installs: string[] = [];
    const family = toyFamily(installs);
    expect(registeredFamilies()).toEqual([]);
    expect(getPipelineClass('toy-model')).toBeUndefined();

    registerFamily(family);
    registerFamily(family);

    expect(registeredFamilies()).toEqual([family]);
    expect(getPipelineClass('toy-model')).toBe(ToyPipeline);
    expect(modelNameOfPipelineClass('ToyDiffusersPipeline')).toBe('toy-model');
    expect(getBlocksClass('ToyStepBlocks')).toBe(ToyStepBlocks);
    expect(getBlocksClass('ToyAutoBlocks')).toBe(ToyAutoBlocks);
    expect(getDefaultBlocksClass('toy-model')).toBe(ToyAutoBlocks);
    expect(getRunMemoryEstimator('toy-model')).toBe(estimator);
    expect(defaultLoaderRegistry.has('ToyModel')).toBe(true);
    expect(installs).toEqual(['installed']);
  });

  it('puts the loaders in the registry it is given, leaving the default one alone', () => {
    const registry = new ComponentLoaderRegistry();
    registerFamily({ name: 'loaders-only', componentLoaders: () => [{ type: 'OtherModel', fromConfig: () => 'other' }] }, { loaderRegistry: registry });
    expect(registry.has('OtherModel')).toBe(true);
    expect(defaultLoaderRegistry.has('OtherModel')).toBe(false);
    expect(registeredFamilies().map((f) => f.name)).not.toContain('loaders-only');
  });

  it('refuses a value that is not a family, and model-name declarations without a modelName', () => {
    expect(() => registerFamily(undefined as unknown as ModelFamily)).toThrow(InvalidArgumentError);
    expect(() => registerFamily({ name: '' })).toThrow(/registerFamily\(family\): pass a model family value/);
    expect(() => registerFamily({ name: 'nameless', pipelineClass: ToyPipeline })).toThrow(/registerFamily\(nameless\): .* need the family's modelName/);
  });
});
