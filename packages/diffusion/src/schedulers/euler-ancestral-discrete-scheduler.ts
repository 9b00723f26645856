/**
 * Ancestral sampling with Euler steps (k-diffusion's sample_euler_ancestral):
 * each step goes down to sigma_down deterministically, then adds fresh noise
 * of size sigma_up. Mirrors diffusers' EulerAncestralDiscreteScheduler.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import { resolveConfig, type ConfigMeta, type FieldSpecs, type RawConfig } from '../config/config-fields.js';
import { baseSchedulerFields, FOREIGN_SCHEDULER_KEYS, type BaseSchedulerConfig } from '../config/scheduler-config.js';
import { DiffusionInputError } from '../errors.js';
import { interpOnIndexGrid, linspace } from '../schedule/numpy-semantics.js';
import { trainingSigmas } from '../schedule/noise-schedule.js';
import { spacedTimesteps } from '../schedule/timestep-spacing.js';
import { float32Like, requireFloat32, requireSameShape, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { drawNoise } from '../tensor-math/noise-source.js';
import { addSigmaNoise } from './euler-discrete-scheduler.js';
import type { SchedulerStepOutput, SetTimestepsOptions, StepOptions } from './scheduler.js';
import { SchedulerBase } from './scheduler-base.js';

const f32 = Math.fround;

export type EulerAncestralDiscreteConfig = BaseSchedulerConfig;

const FIELDS: FieldSpecs<EulerAncestralDiscreteConfig> = baseSchedulerFields({
  timestep_spacing: 'linspace',
  // diffusers raises NotImplementedError for 'sample' here too.
  predictionTypes: ['epsilon', 'v_prediction'],
});

export class EulerAncestralDiscreteScheduler extends SchedulerBase<EulerAncestralDiscreteConfig> {
  static readonly className = 'EulerAncestralDiscreteScheduler';
  readonly className = EulerAncestralDiscreteScheduler.className;
  private _sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;

  constructor(config: Partial<EulerAncestralDiscreteConfig> = {}) {
    super(resolveAncestralConfig({}, config));
    this.trainSigmas = trainingSigmas(this.noiseSchedule.alphasCumprod);
    const T = this.config.num_train_timesteps;
    this._sigmas = new Float32Array(T + 1);
    for (let i = 0; i < T; i++) this._sigmas[i] = this.trainSigmas[T - 1 - i];
    this._timesteps = Float32Array.from(linspace(0, T - 1, T).reverse());
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): EulerAncestralDiscreteScheduler {
    return new EulerAncestralDiscreteScheduler(resolveAncestralConfig(config, overrides));
  }

  get sigmas(): Float32Array {
    return this._sigmas;
  }

  get initNoiseSigma(): number {
    let max = 0;
    for (const s of this._sigmas) if (s > max) max = s;
    if (this.config.timestep_spacing === 'linspace' || this.config.timestep_spacing === 'trailing') return max;
    return f32(Math.sqrt(f32(f32(max * max) + 1)));
  }

  setTimesteps(numInferenceSteps?: number | null, options: SetTimestepsOptions = {}): void {
    this.rejectCustomSchedule(options, ['timesteps', 'sigmas']);
    const n = this.requireStepCount(numInferenceSteps, options)!;
    const c = this.config;
    this._numInferenceSteps = n;
    const timesteps = Float32Array.from(
      spacedTimesteps(c.timestep_spacing, {
        numTrainTimesteps: c.num_train_timesteps,
        numInferenceSteps: n,
        stepsOffset: c.steps_offset,
        roundLinspace: false,
      }),
    );
    const sigmas = new Float32Array(timesteps.length + 1);
    for (let i = 0; i < timesteps.length; i++) sigmas[i] = interpOnIndexGrid(timesteps[i], this.trainSigmas);
    this._sigmas = sigmas;
    this._timesteps = timesteps;
    this._stepIndex = undefined;
    this._beginIndex = undefined;
  }

  scaleModelInput(sample: Tensor, timestep: number): Float32Tensor {
    const x = requireFloat32(sample, 'sample', `${this.className}.scaleModelInput`);
    if (this._stepIndex === undefined) this.initStepIndex(timestep);
    const sigma = this._sigmas[this._stepIndex!];
    const denominator = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = x.data[i] / denominator;
    return float32Like(x.shape, out);
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): SchedulerStepOutput {
    const who = `${this.className}.step`;
    const m = requireFloat32(modelOutput, 'modelOutput', who);
    const x = requireFloat32(sample, 'sample', who);
    requireSameShape(m, x, ['modelOutput', 'sample'], who);
    if (this._stepIndex === undefined) this.initStepIndex(timestep);
    const index = this._stepIndex!;
    if (index + 1 >= this._sigmas.length) {
      throw new DiffusionInputError(`${who}: the schedule has no step after index ${index}; call setTimesteps again to start a new run.`);
    }
    const sigmaFrom = this._sigmas[index];
    const sigmaTo = this._sigmas[index + 1];
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)) / (sigmaFrom * sigmaFrom));
    const sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
    const dt = sigmaDown - sigmaFrom;
    // Drawn even when sigma_up is 0 (last step) so the random stream stays aligned with diffusers.
    const noise = drawNoise(options.generator, m.shape, who).data;
    const xs = x.data;
    const ms = m.data;
    const prev = new Float32Array(xs.length);
    const pred = new Float32Array(xs.length);
    const v = this.config.prediction_type === 'v_prediction';
    const cOut = v ? -sigmaFrom / Math.sqrt(sigmaFrom * sigmaFrom + 1) : -sigmaFrom;
    const cSkip = v ? 1 / (sigmaFrom * sigmaFrom + 1) : 1;
    for (let i = 0; i < xs.length; i++) {
      const x0 = ms[i] * cOut + xs[i] * cSkip;
      pred[i] = x0;
      prev[i] = xs[i] + ((xs[i] - x0) / sigmaFrom) * dt + noise[i] * sigmaUp;
    }
    this._stepIndex = index + 1;
    return { prevSample: float32Like(x.shape, prev), predOriginalSample: float32Like(x.shape, pred) };
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor {
    return addSigmaNoise(this.className, originalSamples, noise, this.addNoiseIndices(timesteps).map((i) => this._sigmas[i]));
  }
}

function resolveAncestralConfig(config: RawConfig, overrides: RawConfig): Readonly<EulerAncestralDiscreteConfig> & ConfigMeta {
  return resolveConfig(FIELDS, config, overrides, {
    className: EulerAncestralDiscreteScheduler.className,
    kind: 'scheduler',
    foreignNeutral: FOREIGN_SCHEDULER_KEYS,
  });
}
