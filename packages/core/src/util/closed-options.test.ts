import { describe, expect, it } from 'vitest';
import { AddStep, MulStep } from '../blocks/test-blocks.test-helpers.js';
import { defineOptions, editDistance, nearestKey, option, toCamelCase, UnknownOptionError } from './closed-options.js';
import { ModularPipeline } from '../pipeline/modular-pipeline.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';

describe('closed options', () => {
  const OPTIONS = defineOptions('thing', { trustRemoteCode: option<boolean>(), componentsManager: option<object>(), device: option<string>() });

  it('names the key that was meant: snake_case, case slips and typos', () => {
    expect(toCamelCase('trust_remote_code')).toBe('trustRemoteCode');
    expect(toCamelCase('trust-remote-code')).toBe('trustRemoteCode');
    expect(nearestKey('trust_remote_code', OPTIONS.keys)).toBe('trustRemoteCode');
    expect(nearestKey('trustRemotecode', OPTIONS.keys)).toBe('trustRemoteCode');
    expect(nearestKey('component_manager', OPTIONS.keys)).toBe('componentsManager');
    expect(nearestKey('devcie', OPTIONS.keys)).toBe('device');
    expect(nearestKey('seed', OPTIONS.keys)).toBeNull();
    // Worked values: kitten -> sitting is 3 (two substitutions, one insertion); a swap is one edit.
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('devcie', 'device')).toBe(1);
  });

  it('throws UnknownOptionError with the suggestion and the valid keys, even for an undefined value', () => {
    const error = (() => {
      try {
        OPTIONS.check({ trust_remote_code: undefined });
      } catch (e) {
        return e;
      }
    })() as UnknownOptionError;
    expect(error).toBeInstanceOf(UnknownOptionError);
    expect(error.message).toBe(
      "thing: unknown option 'trust_remote_code'. Did you mean 'trustRemoteCode'? Valid options: trustRemoteCode, componentsManager, device.",
    );
    expect(error.suggestion).toBe('trustRemoteCode');
    expect(() => OPTIONS.check({ seed: 1 })).toThrow("thing: unknown option 'seed'. Valid options:");
    expect(() => OPTIONS.check('cuda')).toThrow('thing: options must be an object, got string.');
    expect(() => OPTIONS.check({ device: 'cpu', trustRemoteCode: true })).not.toThrow();
    expect(() => OPTIONS.check(undefined)).not.toThrow();
  });

  it('extends and omits declarations into new closed lists', () => {
    const more = OPTIONS.omit('less', 'device').extend('more', { seed: option<number>() });
    expect(more.keys).toEqual(['trustRemoteCode', 'componentsManager', 'seed']);
    expect(() => more.check({ device: 'cpu' })).toThrow("more: unknown option 'device'.");
  });

  it('closes the pipeline API: initPipeline, run, loadComponents and fromPretrained refuse misspelt options', async () => {
    const seq = () => SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: MulStep });
    // @ts-expect-error a misspelt option is a compile error too
    expect(() => seq().initPipeline({ component_manager: null })).toThrow(
      "initPipeline: unknown option 'component_manager'. Did you mean 'componentsManager'?",
    );
    const pipe = seq().initPipeline();
    // @ts-expect-error
    await expect(pipe.run({}, { strcit: true })).rejects.toThrow("pipeline.run: unknown option 'strcit'. Did you mean 'strict'?");
    // @ts-expect-error
    await expect(pipe.loadComponents({ torch_dtype: 'float16' })).rejects.toThrow(
      "pipeline.loadComponents: unknown option 'torch_dtype'. Did you mean 'torchDtype'?",
    );
    await expect(pipe.loadComponents({ perComponent: { ader: { device: 'cpu' } } })).rejects.toThrow(
      "perComponent names 'ader', which is not a component of this pipeline. Did you mean 'adder'?",
    );
    // Checked before the hub hook is looked up: the typo is reported even without the hub package.
    // @ts-expect-error
    await expect(ModularPipeline.fromPretrained('a/b', { trust_remote_code: true })).rejects.toThrow(
      "ModularPipeline.fromPretrained: unknown option 'trust_remote_code'. Did you mean 'trustRemoteCode'?",
    );
  });
});
