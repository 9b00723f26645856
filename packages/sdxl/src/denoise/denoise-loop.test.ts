import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PipelineAbortedError, PipelineState, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance, EulerDiscreteScheduler } from '@modular-diffusers/diffusion';
import { Generator, Tensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { goldenPrintout } from '../printouts/guide-printout.test-helpers.js';
import { StableDiffusionXLDenoiseLoop } from './denoise-steps.js';

let repo: TinyRepoFixture;
let pipeline: any;
let denoise: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  const before = TEXT2IMAGE_BLOCKS.copy();
  before.pop('denoise');
  before.pop('decode');
  pipeline = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(before));
  // The loop alone, on the same components: it continues from the state the steps before it leave.
  denoise = new StableDiffusionXLDenoiseLoop().initPipeline({ loaderRegistry: repo.registry });
  denoise.updateComponents({ unet: pipeline.unet, scheduler: pipeline.scheduler });
});
afterAll(async () => {
  await repo.dispose();
});

const useGuidance = (scale: number) => {
  const guider = new ClassifierFreeGuidance({ guidance_scale: scale });
  pipeline.updateComponents({ guider });
  denoise.updateComponents({ guider });
  return guider;
};

/** The state the denoise loop starts from: embeddings, time ids, timesteps and noise latents for 64x64 images. */
const prepared = (inputs: Record<string, unknown> = {}): Promise<PipelineState> =>
  pipeline({ prompt: ['a red fox', 'a blue bird'], num_inference_steps: 4, height: 64, width: 64, generator: new Generator(7), ...inputs });

const spyRuns = () => vi.spyOn((denoise.unet as UNet2DConditionModel).model, 'run');

describe('StableDiffusionXLDenoiseLoop', () => {
  it('prints as the developer guide prints it', () => {
    expect(String(new StableDiffusionXLDenoiseLoop())).toBe(goldenPrintout('denoise-loop'));
  });

  it('runs the UNet once per step on batch B when guidance is off (scale 1)', async () => {
    useGuidance(1);
    const state = await prepared();
    const runs = spyRuns();
    await denoise({ state, output: 'latents' });
    expect(runs).toHaveBeenCalledTimes(4);
    for (const [feeds] of runs.mock.calls) {
      expect(feeds.sample!.shape).toEqual([2, 4, 8, 8]);
      expect(feeds.encoder_hidden_states!.shape).toEqual([2, 77, 2048]);
      expect(feeds.time_ids!.shape).toEqual([2, 6]);
    }
    runs.mockRestore();
  });

  it('runs the UNet once per step on batch 2B with classifier-free guidance', async () => {
    useGuidance(7.5);
    const state = await prepared({ num_images_per_prompt: 2 });
    const runs = spyRuns();
    await denoise({ state, output: 'latents' });
    expect(runs).toHaveBeenCalledTimes(4);
    for (const [feeds] of runs.mock.calls) {
      // 2 prompts x 2 images per prompt x (cond, uncond)
      expect(feeds.sample!.shape).toEqual([8, 4, 8, 8]);
      expect(feeds.text_embeds!.shape).toEqual([8, 1280]);
    }
    runs.mockRestore();
  });

  it('stacks the CFG sample into one buffer per run, refilled every step, not kept from one run to the next', async () => {
    useGuidance(7.5);
    const model = (denoise.unet as UNet2DConditionModel).model;
    const realRun = model.run.bind(model);
    const runs = spyRuns();
    const seen: Array<{ buffer: unknown; halvesEqual: boolean; step: Float32Array }> = [];
    runs.mockImplementation(async (feeds, options) => {
      const data = feeds.sample!.data as Float32Array;
      const half = data.length / 2;
      // At the moment of the run, the stack is [scaled latents; scaled latents].
      seen.push({ buffer: data, halvesEqual: data.subarray(0, half).every((v, k) => v === data[half + k]), step: data.slice() });
      return realRun(feeds, options);
    });
    try {
      // The scheduler is stateful (as in diffusers), so one pipeline runs one loop at a time.
      await denoise({ state: await prepared(), output: 'latents' });
      await denoise({ state: await prepared(), output: 'latents' });
    } finally {
      runs.mockRestore();
    }
    expect(seen).toHaveLength(8);
    expect(seen.every((s) => s.halvesEqual)).toBe(true);
    const buffers = new Set(seen.map((s) => s.buffer));
    expect(buffers.size).toBe(2); // one per run, reused by its 4 steps
    // Consecutive steps of a run saw different latents in that one buffer.
    const first = seen.filter((s) => s.buffer === seen[0]!.buffer);
    expect(first).toHaveLength(4);
    expect(first[0]!.step).not.toEqual(first[1]!.step);
  });

  it('gives exactly what separate conditional and unconditional UNet runs combined by CFG give', async () => {
    const scale = 5;
    useGuidance(scale);
    const state = await prepared();
    const latents = (await denoise({ state, output: 'latents' })) as Tensor<'float32'>;

    // Reference: diffusers' classic loop, one UNet run per condition, on a fresh scheduler.
    const unet = denoise.unet as UNet2DConditionModel;
    const scheduler = EulerDiscreteScheduler.fromConfig(pipeline.scheduler.config);
    scheduler.setTimesteps(4);
    let x = state.get('latents') as Tensor<'float32'>;
    const field = (name: string) => state.get(name) as Tensor<'float32'>;
    const predict = async (sample: Tensor, t: number, prefix: '' | 'negative_') => {
      const out = await unet.model.run({
        sample,
        timestep: Tensor.float32([t, t]),
        encoder_hidden_states: field(`${prefix}prompt_embeds`),
        text_embeds: field(`${prefix}pooled_prompt_embeds`),
        time_ids: field(`${prefix}add_time_ids`),
      });
      return out.out_sample as Tensor<'float32'>;
    };
    for (const t of scheduler.timesteps) {
      const sample = scheduler.scaleModelInput(x, t);
      const cond = await predict(sample, t, '');
      const uncond = await predict(sample, t, 'negative_');
      // pred = uncond + s * (cond - uncond)
      const pred = new Float32Array(cond.size);
      for (let k = 0; k < pred.length; k++) pred[k] = uncond.data[k]! + scale * (cond.data[k]! - uncond.data[k]!);
      x = scheduler.step(new Tensor('float32', pred, cond.shape), t, x).prevSample;
    }
    expect(latents.shape).toEqual([2, 4, 8, 8]);
    let maxDiff = 0;
    for (let k = 0; k < x.size; k++) maxDiff = Math.max(maxDiff, Math.abs(x.data[k]! - latents.data[k]!));
    expect(maxDiff).toBeLessThan(1e-6);
  });

  it('lands on a per-channel constant: the tiny UNet x0 target, reached by the full Euler schedule', async () => {
    // The tiny UNet predicts eps = (x - c) / sigma with c constant over space, so the last Euler step
    // (sigma -> 0) returns c exactly: whatever the noise, each channel of each image becomes one value.
    useGuidance(1);
    const latents = (await denoise({ state: await prepared(), output: 'latents' })) as Tensor<'float32'>;
    const plane = 64;
    const means: number[] = [];
    for (let row = 0; row < 2 * 4; row++) {
      const values = latents.data.subarray(row * plane, (row + 1) * plane);
      const mean = values.reduce((a, b) => a + b, 0) / plane;
      means.push(mean);
      for (const v of values) expect(Math.abs(v - mean)).toBeLessThan(1e-4);
    }
    // Two prompts, two targets.
    expect(means.slice(0, 4)).not.toEqual(means.slice(4, 8));
  });

  it('runs over exactly the timesteps it is given (an img2img-truncated schedule) and reports progress', async () => {
    useGuidance(1);
    const state = await prepared({ num_inference_steps: 10 });
    const all = state.get('timesteps') as Tensor;
    const tail = new Tensor('float32', Float32Array.from(all.data as Float32Array).slice(7), [3]);
    const runs = spyRuns();
    const events: number[] = [];
    await denoise({ state, timesteps: tail, num_inference_steps: 3, output: 'latents' }, { onProgress: (e: { step: number }) => events.push(e.step) });
    expect(runs).toHaveBeenCalledTimes(3);
    expect(runs.mock.calls.map(([feeds]) => feeds.timestep!.data[0])).toEqual([...tail.data]);
    expect(events).toEqual([1, 2, 3]);
    runs.mockRestore();
  });

  it('stops between steps when the run is aborted', async () => {
    useGuidance(1);
    const state = await prepared();
    const controller = new AbortController();
    const runs = spyRuns();
    const run = denoise({ state, output: 'latents' }, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(run).rejects.toBeInstanceOf(PipelineAbortedError);
    expect(runs).toHaveBeenCalledTimes(1);
    runs.mockRestore();
  });
});
