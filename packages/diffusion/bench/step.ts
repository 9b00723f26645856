/**
 * Per denoise-step cost of the schedulers (scaleModelInput + step) and of
 * the CFG combine, at SDXL latent sizes. Run directly:
 *   node --conditions=source --import tsx packages/diffusion/bench/step.ts
 * or call benchSchedulersAndGuiders() from the repo's bench script.
 */
import { pathToFileURL } from 'node:url';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import {
  ClassifierFreeGuidance,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  type NoiseGenerator,
  type Scheduler,
} from '../src/index.js';

export interface BenchRow {
  name: string;
  shape: string;
  ms: number;
}

const SDXL = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  steps_offset: 1,
  timestep_spacing: 'leading',
} as const;

function randomTensor(shape: number[], seed: number): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    // xorshift32: cheap deterministic values in [-1, 1)
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = (state >>> 0) / 2 ** 31 - 1;
  }
  return new Tensor('float32', data, shape);
}

/** Median of per-iteration times after warm-up, in milliseconds. */
function time(iterations: number, body: () => void): number {
  for (let i = 0; i < 3; i++) body();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    body();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function schedulerStep(scheduler: Scheduler, shape: number[], iterations: number): number {
  const modelOutput = randomTensor(shape, 1);
  const noise = randomTensor(shape, 2);
  const generator: NoiseGenerator = { randn: () => noise };
  let sample = randomTensor(shape, 3);
  let i = 0;
  scheduler.setTimesteps(50);
  return time(iterations, () => {
    if (i === scheduler.timesteps.length) {
      scheduler.setTimesteps(50);
      i = 0;
    }
    const t = scheduler.timesteps[i++];
    const scaled = scheduler.scaleModelInput(sample, t);
    // diffusers feeds the scaled sample to the model and steps the unscaled one
    void scaled;
    sample = scheduler.step(modelOutput, t, sample, { generator }).prevSample;
  });
}

export function benchSchedulersAndGuiders(iterations = 30): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const shape of [
    [1, 4, 128, 128],
    [2, 4, 128, 128],
  ]) {
    const label = shape.join('x');
    const schedulers: Array<[string, Scheduler]> = [
      ['EulerDiscreteScheduler', EulerDiscreteScheduler.fromConfig(SDXL)],
      ['EulerAncestralDiscreteScheduler', EulerAncestralDiscreteScheduler.fromConfig(SDXL)],
      ['DPMSolverMultistepScheduler (2M Karras)', DPMSolverMultistepScheduler.fromConfig(SDXL, { use_karras_sigmas: true })],
      ['DDIMScheduler', DDIMScheduler.fromConfig(SDXL, { clip_sample: false, set_alpha_to_one: false })],
    ];
    for (const [name, scheduler] of schedulers) {
      rows.push({ name: `${name} scaleModelInput+step`, shape: label, ms: schedulerStep(scheduler, shape, iterations) });
    }
    const cond = randomTensor(shape, 4);
    const uncond = randomTensor(shape, 5);
    const cfg = new ClassifierFreeGuidance({ guidance_scale: 7.5 });
    rows.push({ name: 'ClassifierFreeGuidance combine', shape: label, ms: time(iterations, () => cfg.forward({ pred_cond: cond, pred_uncond: uncond })) });
    const rescaled = new ClassifierFreeGuidance({ guidance_scale: 7.5, guidance_rescale: 0.7 });
    rows.push({
      name: 'ClassifierFreeGuidance combine + rescale 0.7',
      shape: label,
      ms: time(iterations, () => rescaled.forward({ pred_cond: cond, pred_uncond: uncond })),
    });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = benchSchedulersAndGuiders();
  console.table(rows.map((r) => ({ name: r.name, shape: r.shape, 'ms/step (median)': r.ms.toFixed(3) })));
}
