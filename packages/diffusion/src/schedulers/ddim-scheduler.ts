/**
 * Denoising Diffusion Implicit Models (Song et al. 2020, arXiv 2010.02502):
 * eta = 0 is deterministic, eta = 1 matches DDPM's variance. Works on
 * alphas_cumprod directly (no sigmas). Mirrors diffusers' DDIMScheduler.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import { booleanField, numberField, resolveConfig, type ConfigMeta, type FieldSpecs, type RawConfig } from '../config/config-fields.js';
import { baseSchedulerFields, FOREIGN_SCHEDULER_KEYS, type BaseSchedulerConfig } from '../config/scheduler-config.js';
import { DiffusionInputError, SchedulerStateError } from '../errors.js';
import { spacedTimesteps } from '../schedule/timestep-spacing.js';
import { float32Like, requireFloat32, requireSameShape, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { drawNoise } from '../tensor-math/noise-source.js';
import { perSample } from '../tensor-math/per-sample-scalars.js';
import type { SchedulerStepOutput, SetTimestepsOptions, StepOptions } from './scheduler.js';
import { SchedulerBase } from './scheduler-base.js';

const f32 = Math.fround;

export type DDIMConfig = BaseSchedulerConfig & {
  clip_sample: boolean;
  set_alpha_to_one: boolean;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
};

const FIELDS: FieldSpecs<DDIMConfig> = {
  ...baseSchedulerFields({ timestep_spacing: 'leading', predictionTypes: ['epsilon', 'v_prediction', 'sample'] }),
  clip_sample: booleanField(true),
  set_alpha_to_one: booleanField(true),
  thresholding: booleanField(false, 'dynamic thresholding (pixel-space models) is not implemented; SDXL latents do not use it'),
  dynamic_thresholding_ratio: numberField(0.995, { min: 0, max: 1 }),
  clip_sample_range: numberField(1.0, { min: 0, minExclusive: true }),
  sample_max_value: numberField(1.0, { min: 0, minExclusive: true }),
};

export interface DDIMStepOptions extends StepOptions {
  /** Recompute the noise estimate from the clipped x_0 (as in the GLIDE code). */
  useClippedModelOutput?: boolean;
  /** Noise for eta > 0 instead of drawing from the generator. */
  varianceNoise?: Tensor;
}

export class DDIMScheduler extends SchedulerBase<DDIMConfig> {
  static readonly className = 'DDIMScheduler';
  readonly className = DDIMScheduler.className;
  readonly initNoiseSigma = 1.0;
  /** alpha_bar used past the end of the schedule: 1 with set_alpha_to_one, else alphas_cumprod[0]. */
  private readonly finalAlphaCumprod: number;

  constructor(config: Partial<DDIMConfig> = {}) {
    super(resolveDdimConfig({}, config));
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.noiseSchedule.alphasCumprod[0];
    const T = this.config.num_train_timesteps;
    this._timesteps = Float32Array.from({ length: T }, (_, i) => T - 1 - i);
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): DDIMScheduler {
    return new DDIMScheduler(resolveDdimConfig(config, overrides));
  }

  /** DDIM has no sigma schedule. */
  get sigmas(): undefined {
    return undefined;
  }

  setTimesteps(numInferenceSteps?: number | null, options: SetTimestepsOptions = {}): void {
    this.rejectCustomSchedule(options, ['timesteps', 'sigmas']);
    const n = this.requireStepCount(numInferenceSteps, options)!;
    const c = this.config;
    if (n > c.num_train_timesteps) {
      throw new DiffusionInputError(
        `${this.className}.setTimesteps: numInferenceSteps ${n} exceeds num_train_timesteps ${c.num_train_timesteps}; the model only knows that many timesteps.`,
      );
    }
    this._numInferenceSteps = n;
    this._timesteps = Float32Array.from(
      spacedTimesteps(c.timestep_spacing, {
        numTrainTimesteps: c.num_train_timesteps,
        numInferenceSteps: n,
        stepsOffset: c.steps_offset,
        roundLinspace: true,
      }),
    );
  }

  scaleModelInput(sample: Tensor, _timestep?: number): Float32Tensor {
    return requireFloat32(sample, 'sample', `${this.className}.scaleModelInput`);
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: DDIMStepOptions = {}): SchedulerStepOutput {
    const who = `${this.className}.step`;
    if (this._numInferenceSteps === undefined) {
      throw new SchedulerStateError(`${who}: call setTimesteps(numInferenceSteps) before stepping.`);
    }
    const m = requireFloat32(modelOutput, 'modelOutput', who);
    const x = requireFloat32(sample, 'sample', who);
    requireSameShape(m, x, ['modelOutput', 'sample'], who);
    const { eta = 0, useClippedModelOutput = false } = options;
    const c = this.config;
    const prevTimestep = timestep - Math.floor(c.num_train_timesteps / this._numInferenceSteps);
    const alphaProdT = this.alphaCumprodAt(timestep, who);
    const alphaProdPrev = prevTimestep >= 0 ? this.alphaCumprodAt(prevTimestep, who) : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlpha = Math.sqrt(alphaProdT);
    const sqrtBeta = Math.sqrt(betaProdT);
    const variance = ((1 - alphaProdPrev) / betaProdT) * (1 - alphaProdT / alphaProdPrev);
    const stdDev = eta * Math.sqrt(variance);
    const directionScale = Math.sqrt(1 - alphaProdPrev - stdDev * stdDev);
    const sqrtAlphaPrev = Math.sqrt(alphaProdPrev);

    let noise: Float32Array | undefined;
    if (eta > 0) {
      if (options.varianceNoise !== undefined && options.generator !== undefined) {
        throw new DiffusionInputError(`${who}: pass either options.generator or options.varianceNoise, not both.`);
      }
      if (options.varianceNoise !== undefined) {
        const v = requireFloat32(options.varianceNoise, 'options.varianceNoise', who);
        requireSameShape(v, m, ['options.varianceNoise', 'modelOutput'], who);
        noise = v.data;
      } else {
        noise = drawNoise(options.generator, m.shape, who).data;
      }
    }

    const clip = c.clip_sample ? c.clip_sample_range : Infinity;
    const type = c.prediction_type;
    const xs = x.data;
    const ms = m.data;
    const prev = new Float32Array(xs.length);
    const pred = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      let x0: number;
      let eps: number;
      if (type === 'epsilon') {
        x0 = (xs[i] - sqrtBeta * ms[i]) / sqrtAlpha;
        eps = ms[i];
      } else if (type === 'sample') {
        x0 = ms[i];
        eps = (xs[i] - sqrtAlpha * x0) / sqrtBeta;
      } else {
        x0 = sqrtAlpha * xs[i] - sqrtBeta * ms[i];
        eps = sqrtAlpha * ms[i] + sqrtBeta * xs[i];
      }
      // Clip in float32 first, as torch clamps the float32 x_0 tensor.
      x0 = Math.min(Math.max(f32(x0), -clip), clip);
      if (useClippedModelOutput) eps = (xs[i] - sqrtAlpha * x0) / sqrtBeta;
      pred[i] = x0;
      prev[i] = sqrtAlphaPrev * x0 + directionScale * eps + (noise ? stdDev * noise[i] : 0);
    }
    return { prevSample: float32Like(x.shape, prev), predOriginalSample: float32Like(x.shape, pred) };
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor {
    const who = `${this.className}.addNoise`;
    const x = requireFloat32(originalSamples, 'originalSamples', who);
    const n = requireFloat32(noise, 'noise', who);
    requireSameShape(x, n, ['originalSamples', 'noise'], who);
    const alphas = Array.from({ length: timesteps.length }, (_, i) => this.alphaCumprodAt(timesteps[i], who));
    const { values, inner } = perSample(alphas, x.shape, who);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < values.length; b++) {
      const sqrtAlpha = Math.sqrt(values[b]);
      const sqrtOneMinus = Math.sqrt(f32(1 - values[b]));
      for (let i = b * inner, end = i + inner; i < end; i++) out[i] = sqrtAlpha * x.data[i] + sqrtOneMinus * n.data[i];
    }
    return float32Like(x.shape, out);
  }

  private alphaCumprodAt(timestep: number, who: string): number {
    const ac = this.noiseSchedule.alphasCumprod;
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= ac.length) {
      throw new SchedulerStateError(
        `${who}: DDIM indexes alphas_cumprod by timestep, so a timestep must be an integer in [0, ${ac.length - 1}]; got ${timestep}. Pass one of scheduler.timesteps.`,
      );
    }
    return ac[timestep];
  }
}

function resolveDdimConfig(config: RawConfig, overrides: RawConfig): Readonly<DDIMConfig> & ConfigMeta {
  return resolveConfig(FIELDS, config, overrides, {
    className: DDIMScheduler.className,
    kind: 'scheduler',
    foreignNeutral: FOREIGN_SCHEDULER_KEYS,
  });
}
