/**
 * What the discrete schedulers share: the resolved config, the float32
 * training noise schedule, the current timesteps, and the step/begin index
 * bookkeeping diffusers uses to find a timestep's position.
 */
import type { ConfigMeta } from '../config/config-fields.js';
import type { BaseSchedulerConfig } from '../config/scheduler-config.js';
import { DiffusionInputError, SchedulerStateError } from '../errors.js';
import { buildNoiseSchedule, type NoiseSchedule } from '../schedule/noise-schedule.js';
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import type { Float32Tensor } from '../tensor-math/latent-checks.js';
import type { Scheduler, SchedulerStepOutput, SetTimestepsOptions, StepOptions } from './scheduler.js';

export abstract class SchedulerBase<C extends BaseSchedulerConfig> implements Scheduler {
  abstract readonly className: string;
  readonly order = 1;
  readonly config: Readonly<C> & ConfigMeta;
  protected readonly noiseSchedule: NoiseSchedule;
  protected _timesteps: Float32Array = new Float32Array(0);
  protected _numInferenceSteps: number | undefined;
  protected _stepIndex: number | undefined;
  protected _beginIndex: number | undefined;

  protected constructor(config: Readonly<C> & ConfigMeta) {
    this.config = config;
    this.noiseSchedule = buildNoiseSchedule({
      numTrainTimesteps: config.num_train_timesteps,
      betaStart: config.beta_start,
      betaEnd: config.beta_end,
      betaSchedule: config.beta_schedule,
      trainedBetas: config.trained_betas,
      rescaleBetasZeroSnr: config.rescale_betas_zero_snr,
    });
  }

  get timesteps(): Float32Array {
    return this._timesteps;
  }
  get numInferenceSteps(): number | undefined {
    return this._numInferenceSteps;
  }
  get stepIndex(): number | undefined {
    return this._stepIndex;
  }
  get beginIndex(): number | undefined {
    return this._beginIndex;
  }
  /** Cumulative product of alphas per training timestep (float32, as diffusers' `alphas_cumprod`). */
  get alphasCumprod(): Float32Array {
    return this.noiseSchedule.alphasCumprod;
  }

  abstract get sigmas(): Float32Array | undefined;
  abstract get initNoiseSigma(): number;
  abstract setTimesteps(numInferenceSteps?: number | null, options?: SetTimestepsOptions): void;
  abstract scaleModelInput(sample: Tensor, timestep: number): Float32Tensor;
  abstract step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepOptions): SchedulerStepOutput;
  abstract addNoise(originalSamples: Tensor, noise: Tensor, timesteps: ArrayLike<number>): Float32Tensor;

  setBeginIndex(beginIndex = 0): void {
    if (!Number.isInteger(beginIndex) || beginIndex < 0) {
      throw new DiffusionInputError(`${this.className}.setBeginIndex: begin index must be a non-negative integer, got ${beginIndex}.`);
    }
    this._beginIndex = beginIndex;
  }

  /**
   * Position of `timestep` in `schedule`. When it appears twice (img2img can
   * start on a repeated timestep) diffusers takes the second, so a sigma is
   * not skipped. Returns -1 when absent.
   */
  protected findTimestep(timestep: number, schedule: Float32Array = this._timesteps): number {
    const target = Math.fround(timestep);
    let first = -1;
    for (let i = 0; i < schedule.length; i++) {
      if (schedule[i] === target) {
        if (first >= 0) return i;
        first = i;
      }
    }
    return first;
  }

  /** Like findTimestep, but a timestep outside the schedule is an error (Euler's rule). */
  protected indexForTimestep(timestep: number, schedule: Float32Array = this._timesteps): number {
    const index = this.findTimestep(timestep, schedule);
    if (index < 0) {
      throw new SchedulerStateError(
        `${this.className}: timestep ${timestep} is not in this scheduler's timesteps. Pass one of scheduler.timesteps (after setTimesteps), not a loop index.`,
      );
    }
    return index;
  }

  protected initStepIndex(timestep: number): void {
    this._stepIndex = this._beginIndex ?? this.indexForTimestep(timestep);
  }

  /** The schedule index for each noise timestep, as diffusers' sigma-based add_noise picks it. */
  protected addNoiseIndices(timesteps: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let i = 0; i < timesteps.length; i++) {
      if (this._beginIndex === undefined) out.push(this.indexForTimestep(timesteps[i]));
      else out.push(this._stepIndex ?? this._beginIndex);
    }
    return out;
  }

  protected requireStepCount(numInferenceSteps: number | null | undefined, options: SetTimestepsOptions): number | undefined {
    const custom = options.timesteps !== undefined || options.sigmas !== undefined;
    if (options.timesteps !== undefined && options.sigmas !== undefined) {
      throw new DiffusionInputError(`${this.className}.setTimesteps: pass only one of options.timesteps or options.sigmas.`);
    }
    if (numInferenceSteps != null && custom) {
      throw new DiffusionInputError(
        `${this.className}.setTimesteps: pass either numInferenceSteps or custom timesteps/sigmas, not both (leave numInferenceSteps undefined).`,
      );
    }
    if (numInferenceSteps == null) {
      if (!custom) {
        throw new DiffusionInputError(`${this.className}.setTimesteps: pass numInferenceSteps, options.timesteps or options.sigmas.`);
      }
      return undefined;
    }
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new DiffusionInputError(
        `${this.className}.setTimesteps: numInferenceSteps must be a positive integer, got ${numInferenceSteps}.`,
      );
    }
    return numInferenceSteps;
  }

  protected rejectCustomSchedule(options: SetTimestepsOptions, which: Array<'timesteps' | 'sigmas'>): void {
    for (const key of which) {
      if (options[key] !== undefined) {
        throw new DiffusionInputError(
          `${this.className}.setTimesteps does not accept custom ${key} (diffusers' ${this.className} does not either). ` +
            `Use numInferenceSteps, or a scheduler that takes custom ${key} such as EulerDiscreteScheduler.`,
        );
      }
    }
  }

  protected checkCustomSchedule(values: readonly number[], name: 'timesteps' | 'sigmas'): void {
    // custom sigmas end with the final sigma, so one step needs two values
    const minimum = name === 'sigmas' ? 2 : 1;
    if (!Array.isArray(values) || values.length < minimum || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new DiffusionInputError(
        `${this.className}.setTimesteps: options.${name} must be an array of at least ${minimum} finite numbers.`,
      );
    }
  }
}
