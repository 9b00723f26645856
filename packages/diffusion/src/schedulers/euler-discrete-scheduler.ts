/**
 * Euler's method on the probability-flow ODE in sigma space (Karras et al.
 * 2022, Algorithm 2), SDXL's default scheduler. Mirrors diffusers'
 * EulerDiscreteScheduler: schedules in float64, stored as float32.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import {
  booleanField,
  choiceField,
  nullableNumberField,
  resolveConfig,
  type ConfigMeta,
  type FieldSpecs,
  type RawConfig,
} from '../config/config-fields.js';
import { baseSchedulerFields, FOREIGN_SCHEDULER_KEYS, type BaseSchedulerConfig } from '../config/scheduler-config.js';
import { ComponentConfigError, DiffusionInputError } from '../errors.js';
import { interpOnIndexGrid, linspace, torchLinspaceFloat32 } from '../schedule/numpy-semantics.js';
import { trainingSigmas } from '../schedule/noise-schedule.js';
import { exponentialSigmas, karrasSigmas, logFloat32, sigmaToTimestep } from '../schedule/sigma-conversions.js';
import { spacedTimesteps } from '../schedule/timestep-spacing.js';
import { float32Like, requireFloat32, requireSameShape, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { drawNoise } from '../tensor-math/noise-source.js';
import { perSample } from '../tensor-math/per-sample-scalars.js';
import type { SchedulerStepOutput, SetTimestepsOptions, StepOptions } from './scheduler.js';
import { SchedulerBase } from './scheduler-base.js';

const f32 = Math.fround;

export type EulerDiscreteConfig = BaseSchedulerConfig & {
  interpolation_type: 'linear' | 'log_linear';
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  sigma_min: number | null;
  sigma_max: number | null;
  timestep_type: 'discrete' | 'continuous';
  final_sigmas_type: 'zero' | 'sigma_min';
};

const FIELDS: FieldSpecs<EulerDiscreteConfig> = {
  ...baseSchedulerFields({ timestep_spacing: 'linspace', predictionTypes: ['epsilon', 'v_prediction', 'sample'] }),
  interpolation_type: choiceField('linear', ['linear', 'log_linear'] as const),
  use_karras_sigmas: booleanField(false),
  use_exponential_sigmas: booleanField(false),
  use_beta_sigmas: booleanField(false, 'beta sigmas (arXiv 2407.12173) are not implemented; use use_karras_sigmas or use_exponential_sigmas'),
  sigma_min: nullableNumberField({ min: 0, minExclusive: true }),
  sigma_max: nullableNumberField({ min: 0, minExclusive: true }),
  timestep_type: choiceField('discrete', ['discrete', 'continuous'] as const),
  final_sigmas_type: choiceField('zero', ['zero', 'sigma_min'] as const),
};

export interface EulerStepOptions extends StepOptions {
  /** Churn: extra noise injected per step (Karras' S_churn); 0 keeps the ODE deterministic. */
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export class EulerDiscreteScheduler extends SchedulerBase<EulerDiscreteConfig> {
  static readonly className = 'EulerDiscreteScheduler';
  readonly className = EulerDiscreteScheduler.className;
  private _sigmas: Float32Array;
  /** sigma per training timestep, ascending in t (float32). */
  private readonly trainSigmas: Float32Array;

  constructor(config: Partial<EulerDiscreteConfig> = {}) {
    super(resolveEulerConfig({}, config));
    const c = this.config;
    const sigmaFamilies = [c.use_karras_sigmas, c.use_exponential_sigmas, c.use_beta_sigmas].filter(Boolean).length;
    if (sigmaFamilies > 1) {
      throw new ComponentConfigError(
        `${this.className}: only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true.`,
        this.className,
        'use_karras_sigmas',
      );
    }
    this.trainSigmas = trainingSigmas(this.noiseSchedule.alphasCumprod);
    const T = c.num_train_timesteps;
    const sigmas = new Float32Array(T + 1);
    for (let i = 0; i < T; i++) sigmas[i] = this.trainSigmas[T - 1 - i];
    this._sigmas = sigmas;
    this._timesteps = this.usesContinuousTimesteps()
      ? continuousTimesteps(sigmas.subarray(0, T))
      : Float32Array.from(linspace(0, T - 1, T).reverse());
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): EulerDiscreteScheduler {
    return new EulerDiscreteScheduler(resolveEulerConfig(config, overrides));
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
    const c = this.config;
    let n = this.requireStepCount(numInferenceSteps, options);
    if (options.timesteps !== undefined) {
      this.checkCustomSchedule(options.timesteps, 'timesteps');
      const flag = c.use_karras_sigmas ? 'use_karras_sigmas' : c.use_exponential_sigmas ? 'use_exponential_sigmas' : null;
      if (flag) throw new DiffusionInputError(`${this.className}.setTimesteps: custom timesteps cannot be used with config.${flag} = true.`);
      if (this.usesContinuousTimesteps()) {
        throw new DiffusionInputError(
          `${this.className}.setTimesteps: custom timesteps cannot be used with timestep_type 'continuous' and prediction_type 'v_prediction'.`,
        );
      }
    }
    if (options.sigmas !== undefined) this.checkCustomSchedule(options.sigmas, 'sigmas');
    n ??= options.timesteps !== undefined ? options.timesteps.length : options.sigmas!.length - 1;
    this._numInferenceSteps = n;

    const logSigmas = logFloat32(this.trainSigmas);
    let timesteps: ArrayLike<number>;
    let sigmas: Float32Array;
    if (options.sigmas !== undefined) {
      sigmas = Float32Array.from(options.sigmas);
      timesteps = Array.from(sigmas.subarray(0, sigmas.length - 1), (s) => sigmaToTimestep(s, logSigmas, true));
    } else {
      let steps: ArrayLike<number> =
        options.timesteps !== undefined
          ? Float32Array.from(options.timesteps)
          : Float32Array.from(
              spacedTimesteps(c.timestep_spacing, {
                numTrainTimesteps: c.num_train_timesteps,
                numInferenceSteps: n,
                stepsOffset: c.steps_offset,
                roundLinspace: false,
              }),
            );
      let base: Float64Array;
      if (c.interpolation_type === 'linear') {
        base = Float64Array.from(steps, (t) => interpOnIndexGrid(t, this.trainSigmas));
      } else {
        // diffusers spaces n + 1 sigmas evenly in log space from the largest to the smallest, in float32.
        const T = this.trainSigmas.length;
        const logs = torchLinspaceFloat32(f32(Math.log(this.trainSigmas[T - 1])), f32(Math.log(this.trainSigmas[0])), n + 1);
        base = Float64Array.from(logs, (v) => f32(Math.exp(v)));
      }
      if (c.use_karras_sigmas || c.use_exponential_sigmas) {
        const sigmaMin = c.sigma_min ?? base[base.length - 1];
        const sigmaMax = c.sigma_max ?? base[0];
        base = c.use_karras_sigmas ? karrasSigmas(sigmaMin, sigmaMax, n) : exponentialSigmas(sigmaMin, sigmaMax, n);
        steps = Float64Array.from(base, (s) => sigmaToTimestep(s, logSigmas));
      }
      timesteps = steps;
      const last = c.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0] : 0;
      sigmas = new Float32Array(base.length + 1);
      sigmas.set(base);
      sigmas[base.length] = last;
    }
    this._sigmas = sigmas;
    this._timesteps = this.usesContinuousTimesteps()
      ? continuousTimesteps(sigmas.subarray(0, sigmas.length - 1))
      : Float32Array.from(timesteps);
    this._stepIndex = undefined;
    this._beginIndex = undefined;
  }

  scaleModelInput(sample: Tensor, timestep: number): Float32Tensor {
    const x = requireFloat32(sample, 'sample', `${this.className}.scaleModelInput`);
    if (this._stepIndex === undefined) this.initStepIndex(timestep);
    const sigma = this._sigmas[this._stepIndex!];
    const denominator = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
    const src = x.data;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = src[i] / denominator;
    return float32Like(x.shape, out);
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: EulerStepOptions = {}): SchedulerStepOutput {
    const who = `${this.className}.step`;
    const m = requireFloat32(modelOutput, 'modelOutput', who);
    let x = requireFloat32(sample, 'sample', who);
    requireSameShape(m, x, ['modelOutput', 'sample'], who);
    if (this._stepIndex === undefined) this.initStepIndex(timestep);
    const index = this._stepIndex!;
    if (index + 1 >= this._sigmas.length) {
      throw new DiffusionInputError(`${who}: the schedule has no step after index ${index}; call setTimesteps again to start a new run.`);
    }
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = options;
    const sigma = this._sigmas[index];
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this._sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = f32(sigma * (gamma + 1));
    if (gamma > 0) {
      const noise = drawNoise(options.generator, m.shape, who).data;
      const amount = Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
      const churned = new Float32Array(x.data.length);
      for (let i = 0; i < churned.length; i++) churned[i] = x.data[i] + noise[i] * sNoise * amount;
      x = float32Like(x.shape, churned);
    }
    const dt = this._sigmas[index + 1] - sigmaHat;
    const xs = x.data;
    const ms = m.data;
    const prev = new Float32Array(xs.length);
    const pred = new Float32Array(xs.length);
    const type = this.config.prediction_type;
    if (type === 'epsilon') {
      for (let i = 0; i < xs.length; i++) {
        const x0 = xs[i] - sigmaHat * ms[i];
        pred[i] = x0;
        prev[i] = xs[i] + ((xs[i] - x0) / sigmaHat) * dt;
      }
    } else {
      const cOut = type === 'v_prediction' ? -sigma / Math.sqrt(sigma * sigma + 1) : 1;
      const cSkip = type === 'v_prediction' ? 1 / (sigma * sigma + 1) : 0;
      for (let i = 0; i < xs.length; i++) {
        const x0 = ms[i] * cOut + xs[i] * cSkip;
        pred[i] = x0;
        prev[i] = xs[i] + ((xs[i] - x0) / sigmaHat) * dt;
      }
    }
    this._stepIndex = index + 1;
    return { prevSample: float32Like(x.shape, prev), predOriginalSample: float32Like(x.shape, pred) };
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor {
    return addSigmaNoise(this.className, originalSamples, noise, this.addNoiseIndices(timesteps).map((i) => this._sigmas[i]));
  }

  private usesContinuousTimesteps(): boolean {
    return this.config.timestep_type === 'continuous' && this.config.prediction_type === 'v_prediction';
  }
}

/** EDM-style preconditioned timesteps: t = 0.25 * ln(sigma), in float32. */
function continuousTimesteps(sigmas: Float32Array): Float32Array {
  return sigmas.map((s) => f32(0.25 * f32(Math.log(s))));
}

/** x + sigma * noise, per batch sample: the variance-exploding forward process the Euler family uses. */
export function addSigmaNoise(who: string, originalSamples: Tensor, noise: Tensor, sigmas: number[]): Float32Tensor {
  const name = `${who}.addNoise`;
  const x = requireFloat32(originalSamples, 'originalSamples', name);
  const n = requireFloat32(noise, 'noise', name);
  requireSameShape(x, n, ['originalSamples', 'noise'], name);
  const { values, inner } = perSample(sigmas, x.shape, name);
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < values.length; b++) {
    const sigma = values[b];
    for (let i = b * inner, end = i + inner; i < end; i++) out[i] = x.data[i] + n.data[i] * sigma;
  }
  return float32Like(x.shape, out);
}

function resolveEulerConfig(config: RawConfig, overrides: RawConfig): Readonly<EulerDiscreteConfig> & ConfigMeta {
  return resolveConfig(FIELDS, config, overrides, {
    className: EulerDiscreteScheduler.className,
    kind: 'scheduler',
    foreignNeutral: FOREIGN_SCHEDULER_KEYS,
  });
}
