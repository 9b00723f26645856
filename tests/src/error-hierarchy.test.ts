/**
 * One error hierarchy across the packages: every exported error class is a
 * ModularDiffusersError whose static `code` is its own (not inherited), non-empty
 * and used by no other class, and each package's `*_ERROR_CODES` lists exactly
 * the codes of its classes.
 */
import * as cli from '@modular-diffusers/cli';
import * as core from '@modular-diffusers/core';
import { BlockExecutionError, InvalidArgumentError, ModularDiffusersError, ModularPipelineBlocks, PipelineState, SequentialPipelineBlocks, type BlockResult, type PipelineComponents } from '@modular-diffusers/core';
import * as diffusion from '@modular-diffusers/diffusion';
import { SchedulerStateError } from '@modular-diffusers/diffusion';
import * as hub from '@modular-diffusers/hub';
import * as hubServer from '@modular-diffusers/hub-server';
import * as modelBuilder from '@modular-diffusers/model-builder';
import * as diffdiff from '@modular-diffusers/plugin-diffdiff';
import * as runtime from '@modular-diffusers/runtime';
import * as sandbox from '@modular-diffusers/sandbox';
import { TensorShapeError } from '@modular-diffusers/runtime';
import * as sdxl from '@modular-diffusers/sdxl';
import { SdxlInputError } from '@modular-diffusers/sdxl';
import { describe, expect, it } from 'vitest';

type ErrorClass = (abstract new (...args: never[]) => Error) & { readonly code?: unknown };

const packages: Record<string, { exports: Record<string, unknown>; codes: readonly string[] | null }> = {
  core: { exports: core, codes: core.CORE_ERROR_CODES },
  runtime: { exports: runtime, codes: runtime.RUNTIME_ERROR_CODES },
  diffusion: { exports: diffusion, codes: diffusion.DIFFUSION_ERROR_CODES },
  'model-builder': { exports: modelBuilder, codes: modelBuilder.MODEL_BUILDER_ERROR_CODES },
  hub: { exports: hub, codes: hub.HUB_ERROR_CODES },
  'hub-server': { exports: hubServer, codes: hubServer.HUB_SERVER_ERROR_CODES },
  sandbox: { exports: sandbox, codes: sandbox.SANDBOX_ERROR_CODES },
  sdxl: { exports: sdxl, codes: sdxl.SDXL_ERROR_CODES },
  cli: { exports: cli, codes: cli.CLI_ERROR_CODES },
  'plugin-diffdiff': { exports: diffdiff, codes: null },
};

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && value.prototype instanceof Error;
}

/** Each error class once, with the first package that exports it (sdxl re-exports some of core's). */
function errorClasses(): Array<{ pkg: string; name: string; cls: ErrorClass }> {
  const seen = new Set<unknown>();
  const found: Array<{ pkg: string; name: string; cls: ErrorClass }> = [];
  for (const [pkg, { exports }] of Object.entries(packages)) {
    for (const [name, value] of Object.entries(exports)) {
      if (!isErrorClass(value) || seen.has(value)) continue;
      seen.add(value);
      found.push({ pkg, name, cls: value });
    }
  }
  return found;
}

describe('the error hierarchy', () => {
  const classes = errorClasses();

  it('finds the error classes of every package', () => {
    const perPackage = new Set(classes.map((c) => c.pkg));
    expect([...perPackage].sort()).toEqual(Object.keys(packages).sort());
    expect(classes.length).toBeGreaterThan(80);
  });

  it('makes every exported error class a ModularDiffusersError with its own non-empty code', () => {
    const wrong = classes
      .filter(({ cls }) => !(cls.prototype instanceof ModularDiffusersError || cls === ModularDiffusersError) || !Object.hasOwn(cls, 'code') || typeof cls.code !== 'string' || cls.code === '')
      .map(({ pkg, name }) => `${pkg}.${name}`);
    expect(wrong).toEqual([]);
  });

  it('gives no two classes the same code', () => {
    const byCode = new Map<string, string[]>();
    for (const { pkg, name, cls } of classes) byCode.set(cls.code as string, [...(byCode.get(cls.code as string) ?? []), `${pkg}.${name}`]);
    expect([...byCode.values()].filter((names) => names.length > 1)).toEqual([]);
  });

  it("lists exactly each package's codes in its *_ERROR_CODES", () => {
    for (const [pkg, { codes }] of Object.entries(packages)) {
      if (!codes) continue;
      const own = classes.filter((c) => c.pkg === pkg).map((c) => c.cls.code as string);
      expect({ pkg, codes: [...codes].sort() }).toEqual({ pkg, codes: own.sort() });
    }
  });

  it('copies the class code onto instances, keeping names and messages', () => {
    const scheduler = new SchedulerStateError('Call setTimesteps() first.');
    const sdxlInput = new SdxlInputError('width must be a multiple of 8.');
    const tensor = new TensorShapeError('shape [2] does not fit [3].');
    for (const error of [scheduler, sdxlInput, tensor]) expect(error).toBeInstanceOf(ModularDiffusersError);
    expect([scheduler.code, sdxlInput.code, tensor.code]).toEqual(['SCHEDULER_STATE', 'SDXL_INPUT', 'TENSOR_SHAPE']);
    expect([scheduler.name, sdxlInput.name, tensor.name]).toEqual(['SchedulerStateError', 'SdxlInputError', 'TensorShapeError']);
    expect(scheduler.message).toBe('Call setTimesteps() first.');
    expect(Object.hasOwn(scheduler, 'code')).toBe(true);
    expect(JSON.parse(JSON.stringify(sdxlInput))).toMatchObject({ code: 'SDXL_INPUT' });
    // A subclass keeps its parent's kind for instanceof but has its own code.
    expect(sdxlInput).toBeInstanceOf(InvalidArgumentError);
    expect(new InvalidArgumentError('x').code).toBe('INVALID_ARGUMENT');
  });

  it('keeps the sandbox errors their codes', () => {
    const timeout = new sandbox.SandboxTimeoutError('the plugin', 100);
    expect(timeout).toBeInstanceOf(ModularDiffusersError);
    expect(timeout.name).toBe('SandboxTimeoutError');
    expect(timeout.code).toBe('SANDBOX_TIMEOUT');
  });
});

describe('errors thrown inside a block', () => {
  class SchedulerMisuse extends ModularPipelineBlocks {
    override async call(): Promise<BlockResult> {
      throw new SchedulerStateError('Call setTimesteps() before step().');
    }
  }
  class BadSdxlInput extends ModularPipelineBlocks {
    override async call(): Promise<BlockResult> {
      throw new SdxlInputError('height must be a multiple of 8.');
    }
  }
  const failure = async (block: typeof ModularPipelineBlocks): Promise<ModularDiffusersError> => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict({ step: block });
    const error: unknown = await blocks.call({} as PipelineComponents, new PipelineState()).then(() => null, (e: unknown) => e);
    if (!(error instanceof ModularDiffusersError)) throw new Error(`expected a ModularDiffusersError, got ${String(error)}`);
    return error;
  };

  it("come back the same way for a scheduler's error and an SDXL input error: unwrapped, with the block's path", async () => {
    const [scheduler, sdxlInput] = [await failure(SchedulerMisuse), await failure(BadSdxlInput)];
    for (const error of [scheduler, sdxlInput]) {
      expect(error).toBeInstanceOf(ModularDiffusersError);
      expect(error).not.toBeInstanceOf(BlockExecutionError);
      expect(error.blockPath).toEqual(['step']);
    }
    expect([scheduler.code, scheduler.message]).toEqual(['SCHEDULER_STATE', 'Call setTimesteps() before step().']);
    expect([sdxlInput.code, sdxlInput.message]).toEqual(['SDXL_INPUT', 'height must be a multiple of 8.']);
  });
});
