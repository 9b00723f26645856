/**
 * DPM-Solver++ multistep (Lu et al. 2022, arXiv 2211.01095): a multistep
 * solver in log-SNR time that reuses previous data predictions, first to
 * third order, deterministic or SDE. With `use_karras_sigmas` this is
 * "DPM++ 2M Karras". Mirrors diffusers' DPMSolverMultistepScheduler for the
 * dpmsolver++ and sde-dpmsolver++ algorithms.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import {
  booleanField,
  choiceField,
  FieldRejection,
  numberField,
  resolveConfig,
  type ConfigMeta,
  type FieldSpec,
  type FieldSpecs,
  type RawConfig,
} from '../config/config-fields.js';
import { baseSchedulerFields, FOREIGN_SCHEDULER_KEYS, type BaseSchedulerConfig } from '../config/scheduler-config.js';
import { ComponentConfigError, DiffusionInputError, SchedulerStateError } from '../errors.js';
import { arange, interpOnIndexGrid, linspace, roundHalfEven } from '../schedule/numpy-semantics.js';
import { trainingSigmas } from '../schedule/noise-schedule.js';
import {
  exponentialSigmas,
  karrasSigmas,
  logFloat32,
  luLambdaSigmas,
  sigmaToTimestep,
} from '../schedule/sigma-conversions.js';
import { float32Like, requireFloat32, requireSameShape, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { drawNoise } from '../tensor-math/noise-source.js';
import { perSample } from '../tensor-math/per-sample-scalars.js';
import type { SchedulerStepOutput, SetTimestepsOptions, StepOptions } from './scheduler.js';
import { SchedulerBase } from './scheduler-base.js';

const f32 = Math.fround;

export type DPMSolverMultistepConfig = BaseSchedulerConfig & {
  solver_order: number;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  algorithm_type: 'dpmsolver++' | 'sde-dpmsolver++';
  solver_type: 'midpoint' | 'heun';
  lower_order_final: boolean;
  euler_at_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_lu_lambdas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  final_sigmas_type: 'zero' | 'sigma_min';
  lambda_min_clipped: number;
  variance_type: null;
  use_dynamic_shifting: boolean;
  time_shift_type: 'exponential';
};

/**
 * diffusers rewrites two legacy values when a DEIS or UniPC config is loaded
 * into this class ('deis' -> 'dpmsolver++'; 'logrho', 'bh1', 'bh2' ->
 * 'midpoint'); the same mapping is kept so those configs load the same way.
 */
function remappedChoice<T extends string>(
  defaultValue: T,
  supported: readonly T[],
  remap: Readonly<Record<string, T>>,
  unsupported: readonly string[],
): FieldSpec<T> {
  const inner = choiceField(defaultValue, supported, unsupported);
  return { ...inner, parse: (value) => (typeof value === 'string' && value in remap ? remap[value] : inner.parse(value)) };
}

const FIELDS: FieldSpecs<DPMSolverMultistepConfig> = {
  ...baseSchedulerFields({ timestep_spacing: 'linspace', predictionTypes: ['epsilon', 'v_prediction', 'sample'] }),
  solver_order: numberField(2, { integer: true, min: 1, max: 3 }),
  thresholding: booleanField(false, 'dynamic thresholding (pixel-space models) is not implemented; SDXL latents do not use it'),
  dynamic_thresholding_ratio: numberField(0.995, { min: 0, max: 1 }),
  sample_max_value: numberField(1.0, { min: 0, minExclusive: true }),
  algorithm_type: remappedChoice('dpmsolver++', ['dpmsolver++', 'sde-dpmsolver++'] as const, { deis: 'dpmsolver++' }, [
    'dpmsolver',
    'sde-dpmsolver',
  ]),
  solver_type: remappedChoice('midpoint', ['midpoint', 'heun'] as const, { logrho: 'midpoint', bh1: 'midpoint', bh2: 'midpoint' }, []),
  lower_order_final: booleanField(true),
  euler_at_final: booleanField(false),
  use_karras_sigmas: booleanField(false),
  use_exponential_sigmas: booleanField(false),
  use_beta_sigmas: booleanField(false, 'beta sigmas (arXiv 2407.12173) are not implemented; use use_karras_sigmas or use_exponential_sigmas'),
  use_lu_lambdas: booleanField(false),
  use_flow_sigmas: booleanField(false, 'flow-matching sigmas are not implemented (SDXL is not a flow model)'),
  flow_shift: numberField(1.0),
  final_sigmas_type: choiceField('zero', ['zero', 'sigma_min'] as const),
  lambda_min_clipped: numberField(-Infinity),
  variance_type: {
    default: null,
    accepts: 'null',
    parse(value) {
      if (value === null) return null;
      if (value === 'learned' || value === 'learned_range') {
        throw new FieldRejection('learned-variance model outputs are not implemented; SDXL predicts 4 channels', 'unsupported');
      }
      throw new FieldRejection('must be null', 'invalid');
    },
  },
  use_dynamic_shifting: booleanField(false, 'dynamic shifting (flow models) is not implemented'),
  time_shift_type: choiceField('exponential', ['exponential'] as const),
};

export interface DPMSolverStepOptions extends StepOptions {
  /** Noise for the SDE variant instead of drawing from the generator. */
  varianceNoise?: Tensor;
}

export class DPMSolverMultistepScheduler extends SchedulerBase<DPMSolverMultistepConfig> {
  static readonly className = 'DPMSolverMultistepScheduler';
  readonly className = DPMSolverMultistepScheduler.className;
  readonly initNoiseSigma = 1.0;
  private _sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  /** lambda(t) = log(alpha_t) - log(sigma_t) per training timestep, float32. */
  private readonly trainLambdas: Float32Array;
  /** Data predictions of the latest steps, oldest first (diffusers' model_outputs). */
  private modelOutputs: Array<Float32Array | null>;
  private lowerOrderNums = 0;

  constructor(config: Partial<DPMSolverMultistepConfig> = {}) {
    super(resolveDpmConfig({}, config));
    const c = this.config;
    if ([c.use_karras_sigmas, c.use_exponential_sigmas, c.use_beta_sigmas].filter(Boolean).length > 1) {
      throw new ComponentConfigError(
        `${this.className}: only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true.`,
        this.className,
        'use_karras_sigmas',
      );
    }
    const ac = this.noiseSchedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(ac);
    this.trainLambdas = ac.map((a) => f32(f32(Math.log(f32(Math.sqrt(a)))) - f32(Math.log(f32(Math.sqrt(f32(1 - a)))))));
    this._sigmas = this.trainSigmas.slice();
    const T = c.num_train_timesteps;
    this._timesteps = Float32Array.from(linspace(0, T - 1, T).reverse());
    this.modelOutputs = new Array(c.solver_order).fill(null);
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(resolveDpmConfig(config, overrides));
  }

  get sigmas(): Float32Array {
    return this._sigmas;
  }

  setTimesteps(numInferenceSteps?: number | null, options: SetTimestepsOptions = {}): void {
    this.rejectCustomSchedule(options, ['sigmas']);
    const c = this.config;
    const n = this.requireStepCount(numInferenceSteps, options);
    let timesteps: Float64Array;
    if (options.timesteps !== undefined) {
      this.checkCustomSchedule(options.timesteps, 'timesteps');
      for (const flag of ['use_karras_sigmas', 'use_lu_lambdas', 'use_exponential_sigmas'] as const) {
        if (c[flag]) throw new DiffusionInputError(`${this.className}.setTimesteps: custom timesteps cannot be used with config.${flag} = true.`);
      }
      timesteps = Float64Array.from(options.timesteps, Math.trunc);
    } else {
      timesteps = this.spacedTimesteps(n!);
    }

    const logSigmas = logFloat32(this.trainSigmas);
    const T = this.trainSigmas.length;
    const roundTimesteps = c.beta_schedule !== 'squaredcos_cap_v2';
    let sigmas: Float64Array;
    if (c.use_karras_sigmas) {
      sigmas = karrasSigmas(this.trainSigmas[0], this.trainSigmas[T - 1], n!);
      timesteps = sigmas.map((s) => sigmaToTimestep(s, logSigmas));
      if (roundTimesteps) timesteps = timesteps.map(roundHalfEven);
    } else if (c.use_lu_lambdas) {
      sigmas = luLambdaSigmas(logSigmas[0], logSigmas[T - 1], n!);
      timesteps = sigmas.map((s) => sigmaToTimestep(s, logSigmas));
      if (roundTimesteps) timesteps = timesteps.map(roundHalfEven);
    } else if (c.use_exponential_sigmas) {
      sigmas = exponentialSigmas(this.trainSigmas[0], this.trainSigmas[T - 1], n!);
      timesteps = sigmas.map((s) => sigmaToTimestep(s, logSigmas));
    } else {
      sigmas = timesteps.map((t) => interpOnIndexGrid(t, this.trainSigmas));
    }
    const last = c.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0] : 0;
    this._sigmas = new Float32Array(sigmas.length + 1);
    this._sigmas.set(sigmas);
    this._sigmas[sigmas.length] = last;
    // diffusers stores int64 timesteps: a cast that truncates toward zero.
    this._timesteps = Float32Array.from(timesteps, Math.trunc);
    this._numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array(c.solver_order).fill(null);
    this.lowerOrderNums = 0;
    this._stepIndex = undefined;
    this._beginIndex = undefined;
  }

  /** DPM-Solver spaces n + 1 points and drops the last, and may clip the low-SNR end (lambda_min_clipped). */
  private spacedTimesteps(n: number): Float64Array {
    const c = this.config;
    const T = c.num_train_timesteps;
    // searchsorted (left) on lambdas in ascending order
    let clipped = 0;
    while (clipped < T && this.trainLambdas[T - 1 - clipped] < c.lambda_min_clipped) clipped++;
    const lastTimestep = T - clipped;
    if (c.timestep_spacing === 'linspace') {
      return linspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().subarray(0, n);
    }
    if (c.timestep_spacing === 'leading') {
      const stepRatio = Math.floor(lastTimestep / (n + 1));
      return Float64Array.from({ length: n }, (_, i) => (n - i) * stepRatio + c.steps_offset);
    }
    return arange(lastTimestep, 0, -T / n).map((v) => roundHalfEven(v) - 1);
  }

  scaleModelInput(sample: Tensor, _timestep?: number): Float32Tensor {
    return requireFloat32(sample, 'sample', `${this.className}.scaleModelInput`);
  }

  /** DPM-Solver's rule: a timestep absent from the schedule means the last step. */
  protected override indexForTimestep(timestep: number): number {
    const index = this.findTimestep(timestep);
    return index >= 0 ? index : this._timesteps.length - 1;
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: DPMSolverStepOptions = {}): SchedulerStepOutput {
    const who = `${this.className}.step`;
    if (this._numInferenceSteps === undefined) {
      throw new SchedulerStateError(`${who}: call setTimesteps(numInferenceSteps) before stepping.`);
    }
    const m = requireFloat32(modelOutput, 'modelOutput', who);
    const x = requireFloat32(sample, 'sample', who);
    requireSameShape(m, x, ['modelOutput', 'sample'], who);
    if (this._stepIndex === undefined) this.initStepIndex(timestep);
    const index = this._stepIndex!;
    const c = this.config;
    const count = this._timesteps.length;
    if (index >= count) {
      throw new DiffusionInputError(`${who}: all ${count} steps are done; call setTimesteps again to start a new run.`);
    }
    const lowerOrderFinal =
      index === count - 1 && (c.euler_at_final || (c.lower_order_final && count < 15) || c.final_sigmas_type === 'zero');
    const lowerOrderSecond = index === count - 2 && c.lower_order_final && count < 15;

    const x0 = this.dataPrediction(m.data, x.data, this._sigmas[index]);
    this.modelOutputs.shift();
    this.modelOutputs.push(x0);

    let noise: Float32Array | undefined;
    if (c.algorithm_type === 'sde-dpmsolver++') {
      if (options.varianceNoise !== undefined) {
        const v = requireFloat32(options.varianceNoise, 'options.varianceNoise', who);
        requireSameShape(v, m, ['options.varianceNoise', 'modelOutput'], who);
        noise = v.data;
      } else {
        noise = drawNoise(options.generator, m.shape, who).data;
      }
    }

    let order: 1 | 2 | 3;
    if (c.solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) order = 1;
    else if (c.solver_order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) order = 2;
    else order = 3;
    const prev = this.update(order, x.data, noise, index);
    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums++;
    this._stepIndex = index + 1;
    return { prevSample: float32Like(x.shape, prev), predOriginalSample: float32Like(x.shape, x0) };
  }

  /** convert_model_output for dpmsolver++: the model's estimate of x_0. */
  private dataPrediction(m: Float32Array, x: Float32Array, sigma: number): Float32Array {
    const { alpha, sigma: s } = alphaSigma(sigma);
    const out = new Float32Array(m.length);
    const type = this.config.prediction_type;
    if (type === 'epsilon') for (let i = 0; i < m.length; i++) out[i] = (x[i] - s * m[i]) / alpha;
    else if (type === 'v_prediction') for (let i = 0; i < m.length; i++) out[i] = alpha * x[i] - s * m[i];
    else out.set(m);
    return out;
  }

  /**
   * One multistep update from x_s to x_t, written as
   * x_t = a*x + b0*D0 + b1*D1 + b2*D2 + c*noise
   * with D0, D1, D2 the divided differences of the stored data predictions.
   */
  private update(order: 1 | 2 | 3, x: Float32Array, noise: Float32Array | undefined, index: number): Float32Array {
    const c = this.config;
    const sde = c.algorithm_type === 'sde-dpmsolver++';
    const t = alphaSigma(this._sigmas[index + 1]);
    const s0 = alphaSigma(this._sigmas[index]);
    const lambdaT = Math.log(t.alpha) - Math.log(t.sigma);
    const lambdaS0 = Math.log(s0.alpha) - Math.log(s0.sigma);
    const h = lambdaT - lambdaS0;
    const expNegH = Math.exp(-h);
    const expNeg2H = Math.exp(-2 * h);

    let a: number;
    let b0: number;
    let b1 = 0;
    let b2 = 0;
    let noiseScale = 0;
    if (sde) {
      a = (t.sigma / s0.sigma) * expNegH;
      b0 = t.alpha * (1 - expNeg2H);
      noiseScale = t.sigma * Math.sqrt(1 - expNeg2H);
      if (order === 2) b1 = c.solver_type === 'midpoint' ? 0.5 * b0 : t.alpha * ((1 - expNeg2H) / (-2 * h) + 1);
      if (order === 3) {
        b1 = t.alpha * ((1 - expNeg2H) / (-2 * h) + 1);
        b2 = t.alpha * ((1 - expNeg2H - 2 * h) / (2 * h) ** 2 - 0.5);
      }
    } else {
      a = t.sigma / s0.sigma;
      b0 = -t.alpha * (expNegH - 1);
      if (order === 2) b1 = c.solver_type === 'midpoint' ? 0.5 * b0 : t.alpha * ((expNegH - 1) / h + 1);
      if (order === 3) {
        b1 = t.alpha * ((expNegH - 1) / h + 1);
        b2 = -t.alpha * ((expNegH - 1 + h) / h ** 2 - 0.5);
      }
    }

    const outputs = this.modelOutputs;
    const m0 = outputs[outputs.length - 1]!;
    const out = new Float32Array(x.length);
    if (order === 1) {
      for (let i = 0; i < x.length; i++) out[i] = a * x[i] + b0 * m0[i] + (noise ? noiseScale * noise[i] : 0);
      return out;
    }
    const s1 = alphaSigma(this._sigmas[index - 1]);
    const lambdaS1 = Math.log(s1.alpha) - Math.log(s1.sigma);
    const r0 = (lambdaS0 - lambdaS1) / h;
    const m1 = outputs[outputs.length - 2]!;
    if (order === 2) {
      for (let i = 0; i < x.length; i++) {
        const d1 = (m0[i] - m1[i]) / r0;
        out[i] = a * x[i] + b0 * m0[i] + b1 * d1 + (noise ? noiseScale * noise[i] : 0);
      }
      return out;
    }
    const s2 = alphaSigma(this._sigmas[index - 2]);
    const lambdaS2 = Math.log(s2.alpha) - Math.log(s2.sigma);
    const r1 = (lambdaS1 - lambdaS2) / h;
    const m2 = outputs[outputs.length - 3]!;
    for (let i = 0; i < x.length; i++) {
      const d10 = (m0[i] - m1[i]) / r0;
      const d11 = (m1[i] - m2[i]) / r1;
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (d10 - d11) / (r0 + r1);
      out[i] = a * x[i] + b0 * m0[i] + b1 * d1 + b2 * d2 + (noise ? noiseScale * noise[i] : 0);
    }
    return out;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor {
    const who = `${this.className}.addNoise`;
    const x = requireFloat32(originalSamples, 'originalSamples', who);
    const n = requireFloat32(noise, 'noise', who);
    requireSameShape(x, n, ['originalSamples', 'noise'], who);
    const sigmas = this.addNoiseIndices(timesteps).map((i) => this._sigmas[i]);
    const { values, inner } = perSample(sigmas, x.shape, who);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < values.length; b++) {
      const { alpha, sigma } = alphaSigma(values[b]);
      for (let i = b * inner, end = i + inner; i < end; i++) out[i] = alpha * x.data[i] + sigma * n.data[i];
    }
    return float32Like(x.shape, out);
  }
}

/** From the variance-exploding sigma to the variance-preserving (alpha_t, sigma_t) pair. */
function alphaSigma(sigma: number): { alpha: number; sigma: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha, sigma: sigma * alpha };
}

function resolveDpmConfig(config: RawConfig, overrides: RawConfig): Readonly<DPMSolverMultistepConfig> & ConfigMeta {
  return resolveConfig(FIELDS, config, overrides, {
    className: DPMSolverMultistepScheduler.className,
    kind: 'scheduler',
    foreignNeutral: FOREIGN_SCHEDULER_KEYS,
  });
}
