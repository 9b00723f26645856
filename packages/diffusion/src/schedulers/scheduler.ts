/**
 * The scheduler interface the pipeline blocks program against, the same
 * surface diffusers' schedulers expose (in TypeScript casing). Timesteps and
 * sigmas are float32 arrays, as diffusers holds them in float32 tensors;
 * integer-valued schedules (DPM-Solver, DDIM) hold exact integers.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import type { ConfigMeta, RawConfig } from '../config/config-fields.js';
import type { Float32Tensor } from '../tensor-math/latent-checks.js';
import type { NoiseGenerator } from '../tensor-math/noise-source.js';

/** What any scheduler config exposes; each class types its full config (e.g. EulerDiscreteConfig). */
export type SchedulerConfigView = ConfigMeta & { readonly num_train_timesteps: number };

export interface SetTimestepsOptions {
  /** Accepted for parity with diffusers; schedules always live in CPU memory. */
  device?: string;
  /** A custom descending timestep schedule (then numInferenceSteps must be left out). */
  timesteps?: readonly number[];
  /** A custom descending sigma schedule ending with the final sigma (then numInferenceSteps must be left out). */
  sigmas?: readonly number[];
}

export interface StepOptions {
  /** Source of noise for stochastic steps (Euler ancestral, DDIM with eta > 0, SDE solvers, Euler churn). */
  generator?: NoiseGenerator;
  /**
   * DDIM's eta. Other schedulers ignore it, as diffusers' pipelines pass eta
   * only to schedulers whose step accepts it.
   */
  eta?: number;
}

export interface SchedulerStepOutput {
  /** x_{t-1}: the next sample of the denoising loop. */
  prevSample: Float32Tensor;
  /** The model's estimate of x_0 at this step, where the scheduler computes one. */
  predOriginalSample?: Float32Tensor;
}

export interface Scheduler {
  /** diffusers' class name, e.g. 'EulerDiscreteScheduler'. */
  readonly className: string;
  /** The full config with defaults, snake_case keys as diffusers saves scheduler_config.json. */
  readonly config: SchedulerConfigView;
  /** Model evaluations per timestep (1 for every scheduler here). */
  readonly order: number;
  readonly timesteps: Float32Array;
  /** Noise levels per step plus the final one; undefined for schedulers that do not use sigmas (DDIM). */
  readonly sigmas: Float32Array | undefined;
  /** Standard deviation of the initial noise: multiply fresh noise by it before the first step. */
  readonly initNoiseSigma: number;
  readonly numInferenceSteps: number | undefined;
  readonly stepIndex: number | undefined;
  readonly beginIndex: number | undefined;
  setTimesteps(numInferenceSteps?: number | null, options?: SetTimestepsOptions): void;
  /** Start stepping at this index of `timesteps` (img2img sets it to skip the noisiest steps). */
  setBeginIndex(beginIndex?: number): void;
  scaleModelInput(sample: Tensor, timestep: number): Float32Tensor;
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepOptions): SchedulerStepOutput;
  /** Noise clean samples to the level of `timesteps` (one per batch sample, or one for all). */
  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor;
}

/** What a registry needs of a scheduler class. */
export interface SchedulerClass {
  readonly className: string;
  fromConfig(config?: RawConfig, overrides?: RawConfig): Scheduler;
}
