import { ComponentLoaderRegistry, PipelineAbortedError, PipelineState, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { afterAll, describe, expect, test } from 'vitest';
import { RemoteCodeError, SandboxTimeoutError } from '../sandbox/errors.js';
import { RemotePipelineError, loadRemoteBlocks, type RemoteModularPipeline, type RemoteSandboxOptions } from './index.js';
import { TOY_SCALER_ACCESS, ToyScaler, toyPluginBundle } from './remote-test-kit.test-helpers.js';
import { TOY_PRESET, ToyRefineLoop, ToyRemoteBlocks } from './toy-plugin.test-helpers.js';
import { manualClock } from '../sandbox/sandbox-test-kit.test-helpers.js';

// Budgets far above the work, so a loaded machine never trips them; the tests about a budget use
// code that never ends, or a clock they advance by hand.
const options: RemoteSandboxOptions = { libraries: { cacheDir: false }, limits: { timeoutMs: 10_000 } };
const open: RemoteModularPipeline[] = [];
afterAll(async () => {
  await Promise.all(open.map((p) => p.dispose()));
});

async function toyPipeline(exportName = 'ToyRemoteBlocks', offset = 1, extra: RemoteSandboxOptions = {}) {
  const blocks = await loadRemoteBlocks(
    { source: await toyPluginBundle(), filename: 'hf://me/toy@abc/block.js', exportName, repo: 'me/toy', commit: 'abc' },
    { ...options, ...extra },
  );
  const pipeline = blocks.initPipeline({ componentAccess: TOY_SCALER_ACCESS });
  const scaler = new ToyScaler(offset);
  pipeline.updateComponents({ scaler });
  open.push(pipeline);
  return { blocks, pipeline, scaler };
}

const latents = () => new Tensor('float32', new Float32Array([1, -2, 0.5]), [3]);
/** Remote code types no outputs: a test checks the value is a tensor before reading it. */
const tensorOf = (value: unknown): Tensor<'float32'> => {
  expect(value).toBeInstanceOf(Tensor);
  return value as Tensor<'float32'>;
};
// scale: x * factor + offset; each refine step: x * 1 + offset + guidance_scale * shift.
const expected = (x: number[], { factor = 2, offset = 1, steps = 3, guidance = 2, shift = 0.25 } = {}) =>
  x.map((v) => v * factor + offset + steps * (offset + guidance * shift));

describe('RemoteModularPipeline: the toy plugin in the sandbox', () => {
  test("a conditional block's per-branch defaults cross the sandbox boundary (defaultsByBlock, diffusers' defaults_by_block)", async () => {
    const { blocks } = await toyPipeline('ToyBranchDefaults');
    const strength = blocks.inputs.find((p) => p.name === 'strength')!;
    expect(strength.default).toBeUndefined();
    expect(strength.defaultsByBlock).toEqual({ inpaint: 0.9999, img2img: 0.3 });
    expect(blocks.doc.split(/\s+/).join(' ')).toContain('strength (`float`, *optional*, defaults to 0.9999 or 0.3, depending on the workflow):');
  });

  test('runs end to end: host component arithmetic, a sandbox-built guider, pipeline config and progress', async () => {
    const { pipeline, scaler } = await toyPipeline();
    const progress: unknown[] = [];
    const scaled = tensorOf(await pipeline({ latents: latents(), output: 'scaled' }, { onProgress: (e) => progress.push(e) }));
    expect(scaled).toBeInstanceOf(Tensor);
    expect(scaled.shape).toEqual([3]);
    // [1, -2, 0.5] * 2 + 1 = [3, -3, 2]; three steps of +1 + 2 * 0.25 = +1.5 each.
    expect(Array.from(scaled.data)).toEqual([7.5, 1.5, 6.5]);
    expect(Array.from(scaled.data)).toEqual(expected([1, -2, 0.5]));
    expect(scaler.calls).toBe(4);
    expect(progress).toEqual([1, 2, 3].map((step) => ({ block: 'ToyRefineLoop', step, total: 3 })));
    const both = await pipeline.run({ latents: latents(), factor: 0.5, num_steps: 1, output: ['scaled', 'factor'] });
    expect(both.factor).toBe(0.5);
    expect(Array.from(tensorOf(both.scaled).data)).toEqual(expected([1, -2, 0.5], { factor: 0.5, steps: 1 }));
  });

  test('printouts and docs are computed in the sandbox and equal the host ones for the same blocks', async () => {
    const { blocks, pipeline } = await toyPipeline();
    const local = new ToyRemoteBlocks();
    expect(blocks.toString()).toBe(local.toString());
    expect(blocks.doc).toBe(local.doc);
    expect(pipeline.doc).toBe(local.doc);
    expect(blocks.getBlock('refine').toString()).toBe(new ToyRefineLoop().toString());
    expect(blocks.getBlock('refine.refine_step').doc).toBe(local.getBlock('refine.refine_step').doc);
    expect(blocks.className).toBe('ToyRemoteBlocks');
    expect(pipeline.className).toBe(local.initPipeline().className);
    expect(pipeline.componentNames).toEqual(['scaler', 'guider']);
    expect(pipeline.config).toEqual({ shift: 0.25 });
    expect(blocks.inputNames).toEqual(local.inputNames);
    expect(blocks.requiredInputs).toEqual(['latents']);

    const preset = await loadRemoteBlocks({ source: await toyPluginBundle(), filename: 'toy.js', exportName: 'TOY_PRESET', repo: null, commit: null }, options);
    expect(preset.toString()).toBe(SequentialPipelineBlocks.fromBlocksDict(TOY_PRESET).toString());
    await preset.remoteOrigin.parked?.dispose();
  });

  test('host updateComponents reaches the sandbox: a config value, a new guider (rebuilt from its config), a new scaler', async () => {
    const { pipeline } = await toyPipeline();
    pipeline.updateComponents({ shift: 1 });
    let out = tensorOf(await pipeline({ latents: latents(), output: 'scaled' }));
    expect(Array.from(out.data)).toEqual(expected([1, -2, 0.5], { shift: 1 }));
    pipeline.updateComponents({ guider: ClassifierFreeGuidance.fromConfig({ guidance_scale: 4 }) });
    out = tensorOf(await pipeline({ latents: latents(), output: 'scaled' }));
    expect(Array.from(out.data)).toEqual(expected([1, -2, 0.5], { shift: 1, guidance: 4 }));
    pipeline.updateComponents({ scaler: new ToyScaler(-1) });
    out = tensorOf(await pipeline({ latents: latents(), output: 'scaled' }));
    expect(Array.from(out.data)).toEqual(expected([1, -2, 0.5], { shift: 1, guidance: 4, offset: -1 }));
    // Unloaded on the host means null in the sandbox too, exactly as a local pipeline sees it.
    pipeline.updateComponents({ scaler: null });
    await expect(pipeline({ latents: latents(), output: 'scaled' })).rejects.toThrow(/Error in block 'scale' \(ToyScaleStep\): Cannot read properties of null/);
  });

  test('a component loaded after a run is offered to the sandbox again: the store tells the runner about loads too', async () => {
    const registry = new ComponentLoaderRegistry().register({ type: 'ToyScaler', fromPretrained: async () => new ToyScaler(-1) });
    const blocks = await loadRemoteBlocks(
      { source: await toyPluginBundle(), filename: 'hf://me/toy@abc/block.js', exportName: 'ToyRemoteBlocks', repo: 'me/toy', commit: 'abc' },
      options,
    );
    const pipeline = blocks.initPipeline({ componentAccess: TOY_SCALER_ACCESS, loaderRegistry: registry });
    open.push(pipeline);
    pipeline.updateComponents({ scaler: new ToyScaler(1) });
    expect(Array.from(tensorOf(await pipeline({ latents: latents(), output: 'scaled' })).data)).toEqual(expected([1, -2, 0.5]));
    pipeline.unloadComponents('scaler');
    await expect(pipeline({ latents: latents(), output: 'scaled' })).rejects.toThrow(/Cannot read properties of null/);
    const report = await pipeline.loadComponents('scaler', { repo: 'me/scaler' });
    expect(report.loaded).toEqual(['scaler']);
    // The loaded scaler (offset -1) is what the sandbox uses now, not the null it was offered last run.
    expect(Array.from(tensorOf(await pipeline({ latents: latents(), output: 'scaled' })).data)).toEqual(expected([1, -2, 0.5], { offset: -1 }));
  });

  test('without output the whole state comes back, and a run can continue from it', async () => {
    const { pipeline } = await toyPipeline();
    const state = await pipeline({ latents: latents(), num_steps: 0 });
    expect(state).toBeInstanceOf(PipelineState);
    expect(state.keys()).toEqual(['latents', 'factor', 'num_steps', 'scaled']);
    expect(Array.from(tensorOf(state.get('scaled')).data)).toEqual([3, -3, 2]);
    const more = tensorOf(await pipeline({ state, num_steps: 2, output: 'scaled' }));
    expect(Array.from(more.data)).toEqual(expected([1, -2, 0.5], { steps: 2 }));
  });

  test('sandboxed code gets only allow-listed methods of its own pipeline components, never another pipeline\'s', async () => {
    const other = await toyPipeline('ToyRemoteBlocks', 100);
    const { pipeline } = await toyPipeline('ToySneakyStep', 1);
    const { attempts } = { attempts: await pipeline({ output: 'attempts' }) as string[] };
    expect(attempts[0]).toMatch(/method 'secret' of component 'scaler' \(ToyScaler\) is not allowed; allowed: scale/);
    expect(attempts[1]).toMatch(/method 'constructor' of component 'scaler' \(ToyScaler\) is not allowed/);
    expect(attempts[2]).toMatch(/this pipeline has no component 'vault' \(its components: scaler\)/);
    expect(attempts[3]).toMatch(/takes a component name, a method name and an array of arguments/);
    // The same name resolves to THIS pipeline's scaler (offset 1: 1 * 1 + 1 = 2), not the other one's (offset 100).
    const own = (await pipeline({ target: 'scaler', output: 'attempts' })) as string[];
    expect(own[2]).toBe('ok: {"$tensor":{"dtype":"float32","shape":[1],"data":{"0":2}}}');
    expect(other.scaler.calls).toBe(0);
  });

  test('abort: the run rejects at once with PipelineAbortedError and the pipeline stays usable', async () => {
    const { pipeline, scaler } = await toyPipeline();
    let release!: () => void;
    scaler.gate = new Promise<void>((resolve) => (release = resolve));
    const controller = new AbortController();
    const run = pipeline({ latents: latents(), output: 'scaled' }, { signal: controller.signal });
    while (scaler.calls === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error('user pressed Ctrl-C'));
    // "At once": the run settles while the host component it is waiting on is still held.
    const error = await run.catch((e) => e);
    expect(error).toBeInstanceOf(PipelineAbortedError);
    // The sandbox run stops before its next step, so the aborted run made exactly one scaler call.
    release();
    scaler.gate = null;
    const out = tensorOf(await pipeline({ latents: latents(), output: 'scaled' }));
    expect(Array.from(out.data)).toEqual([7.5, 1.5, 6.5]);
    expect(scaler.calls).toBe(1 + 4);
  });

  test('a run past its wall-clock budget stops the sandbox with SandboxTimeoutError (budget on an injected clock)', async () => {
    const clock = manualClock();
    const { pipeline, scaler } = await toyPipeline('ToyRemoteBlocks', 1, { limits: { timeoutMs: 10_000, callTimeoutMs: 300 }, clock });
    scaler.gate = new Promise<void>(() => {});
    let settled = false;
    const run = pipeline({ latents: latents(), output: 'scaled' });
    run.catch(() => {}).finally(() => (settled = true));
    // Setup calls (init) finish before the run call holds on the scaler; only then does time pass.
    while (scaler.calls === 0) await new Promise((r) => setTimeout(r, 5));
    clock.advance(299);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(run).rejects.toBeInstanceOf(SandboxTimeoutError);
    scaler.gate = null;
    await expect(pipeline({ latents: latents(), output: 'scaled' })).rejects.toBeInstanceOf(SandboxTimeoutError);
  });

  test('remote blocks do not run on the host, and edited remote blocks are refused', async () => {
    const { blocks, pipeline } = await toyPipeline();
    await expect(blocks.call(pipeline, new PipelineState())).rejects.toThrow(/runs only inside its sandbox/);
    pipeline.blocks.blocks.pop('refine');
    await expect(pipeline({ latents: latents(), output: 'scaled' })).rejects.toBeInstanceOf(RemotePipelineError);
    await expect(pipeline({ latents: latents(), output: 'scaled' })).rejects.toThrow(/were edited on the host \(the sub-blocks of 'ToyRemoteBlocks' are now scale\)/);
  });
});

describe('loadRemoteBlocks: bundles that misbehave', () => {
  const load = (source: string, exportName = 'Blocks', extra: RemoteSandboxOptions = {}) =>
    loadRemoteBlocks({ source, filename: 'hf://bad/plugin@1/block.js', exportName, repo: 'bad/plugin', commit: '1' }, { ...options, ...extra });

  test('a bundle that throws at load is a RemoteCodeError with its message and the bundle name', async () => {
    const error = await load(`(() => { function explode() { throw new TypeError('boom at load'); } explode(); })();`).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeError);
    expect(error.remoteName).toBe('TypeError');
    expect(error.remoteMessage).toBe('boom at load');
    expect(error.remoteStack).toContain('hf://bad/plugin@1/block.js');
  });

  test('a bundle that never returns is stopped by its entry budget', async () => {
    const error = await load('while (true) {}', 'Blocks', { limits: { timeoutMs: 300 } }).catch((e) => e);
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    expect(error.limitMs).toBe(300);
  });

  test('a bundle without defineBlocks, a missing export and a non-block export are named clearly', async () => {
    await expect(load('const x = 1;')).rejects.toThrow(/never called defineBlocks\(1, factory\)/);
    const missing = await load(`defineBlocks(1, () => ({ Other: class Other {} }));`).catch((e) => e);
    expect(missing).toBeInstanceOf(RemoteCodeError);
    expect(missing.message).toMatch(/exports no "Blocks" \(it exports: Other\); fix auto_map/);
    await expect(load(`defineBlocks(1, () => ({ Blocks: class NotABlock {} }));`)).rejects.toThrow(/NotABlock\) is not a ModularPipelineBlocks subclass/);
    await expect(load(`defineBlocks(1, () => ({ '@remote': 1 }));`)).rejects.toThrow(/a name the host reserves/);
  });
});
