/**
 * The guider protocol of diffusers' `guiders` package: a guider decides how
 * many conditional batches the denoiser runs this step (`numConditions`),
 * splits the inputs into those batches (`prepareInputs`), and combines the
 * predictions (`call` / `forward`). Schedule-dependent behaviour reads the
 * state set by `setState(step, numInferenceSteps, timestep)`.
 */
import { Tensor } from '@modular-diffusers/runtime/tensor';
import {
  booleanField,
  numberField,
  resolveConfig,
  type ConfigMeta,
  type FieldSpecs,
  type RawConfig,
} from '../config/config-fields.js';
import { ComponentConfigError, DiffusionInputError } from '../errors.js';
import type { Float32Tensor } from '../tensor-math/latent-checks.js';

export type PredictionName = 'pred_cond' | 'pred_uncond';

/** A denoiser input: one tensor for every batch, or a (conditional, unconditional) pair. */
export type GuiderInputValue = Tensor | readonly [Tensor | null | undefined, Tensor | null | undefined] | null | undefined;

export interface GuiderBatch {
  /** Which prediction this batch produces: 'pred_cond' or 'pred_uncond'. */
  readonly identifier: PredictionName;
  /** The denoiser inputs for this batch (absent inputs are left out). */
  readonly inputs: Readonly<Record<string, Tensor | null>>;
  /** Set by the denoise loop to the model's prediction for this batch. */
  noisePred?: Tensor;
}

export interface GuiderOutput {
  pred: Float32Tensor;
  predCond: Float32Tensor;
  predUncond: Float32Tensor | undefined;
}

export interface GuiderState {
  step: number | undefined;
  numInferenceSteps: number | undefined;
  timestep: number | undefined;
  countPrepared: number;
  enabled: boolean;
  numConditions: number;
}

/** Keys every guider config has. */
export type BaseGuiderConfig = {
  guidance_scale: number;
  guidance_rescale: number;
  use_original_formulation: boolean;
  start: number;
  stop: number;
  enabled: boolean;
};

export function baseGuiderFields(guidanceScale = 7.5): FieldSpecs<BaseGuiderConfig> {
  return {
    guidance_scale: numberField(guidanceScale),
    guidance_rescale: numberField(0, { min: 0 }),
    use_original_formulation: booleanField(false),
    start: numberField(0, { min: 0, max: 1 }),
    stop: numberField(1, { min: 0, max: 1 }),
    enabled: booleanField(true),
  };
}

export function resolveGuiderConfig<C extends BaseGuiderConfig>(
  className: string,
  fields: FieldSpecs<C>,
  config: RawConfig,
  overrides: RawConfig,
): Readonly<C> & ConfigMeta {
  const resolved = resolveConfig(fields, config, overrides, { className, kind: 'guider', strictConfigKeys: true });
  if (!(resolved.start >= 0 && resolved.start < 1)) {
    throw new ComponentConfigError(`${className}: \`start\` must be in [0, 1), got ${resolved.start}.`, className, 'start');
  }
  if (!(resolved.stop >= resolved.start && resolved.stop <= 1)) {
    throw new ComponentConfigError(
      `${className}: \`stop\` must be between start (${resolved.start}) and 1, got ${resolved.stop}.`,
      className,
      'stop',
    );
  }
  return resolved;
}

/** Python's math.isclose with its defaults (rel_tol 1e-9, abs_tol 0). */
function isClose(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

export abstract class Guider<C extends BaseGuiderConfig = BaseGuiderConfig> {
  abstract readonly className: string;
  /** The predictions this guider combines, in batch order. */
  readonly inputPredictions: readonly PredictionName[] = ['pred_cond', 'pred_uncond'];
  readonly config: Readonly<C> & ConfigMeta;
  protected _step: number | undefined;
  protected _numInferenceSteps: number | undefined;
  protected _timestep: number | undefined;
  protected _countPrepared = 0;
  protected _enabled: boolean;

  protected constructor(config: Readonly<C> & ConfigMeta) {
    this.config = config;
    this._enabled = config.enabled;
  }

  get guidanceScale(): number {
    return this.config.guidance_scale;
  }
  get guidanceRescale(): number {
    return this.config.guidance_rescale;
  }
  get useOriginalFormulation(): boolean {
    return this.config.use_original_formulation;
  }
  get enabled(): boolean {
    return this._enabled;
  }

  enable(): void {
    this._enabled = true;
  }
  disable(): void {
    this._enabled = false;
  }

  /** A fresh guider of the same class from this config with some keys changed (diffusers' `new`). */
  new(overrides: RawConfig = {}): this {
    const cls = this.constructor as unknown as { fromConfig(config: RawConfig, overrides: RawConfig): Guider };
    return cls.fromConfig(this.config, overrides) as this;
  }

  setState(step: number, numInferenceSteps: number, timestep?: number): void {
    if (!Number.isInteger(step) || step < 0 || !Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new DiffusionInputError(
        `${this.className}.setState: step must be a non-negative integer and numInferenceSteps a positive integer, got ${step} and ${numInferenceSteps}.`,
      );
    }
    this._step = step;
    this._numInferenceSteps = numInferenceSteps;
    this._timestep = timestep;
    this._countPrepared = 0;
  }

  getState(): GuiderState {
    return {
      step: this._step,
      numInferenceSteps: this._numInferenceSteps,
      timestep: this._timestep,
      countPrepared: this._countPrepared,
      enabled: this._enabled,
      numConditions: this.numConditions,
    };
  }

  /** Called by the denoise loop before each batch's model call; counts the batches prepared this step. */
  prepareModels(_denoiser?: unknown): void {
    this._countPrepared++;
  }

  /** Called after each batch's model call. Math-only guiders attach nothing, so there is nothing to remove. */
  cleanupModels(_denoiser?: unknown): void {}

  /** True while the conditional batch (the first one) is being run. */
  get isConditional(): boolean {
    return this._countPrepared === 1;
  }
  get isUnconditional(): boolean {
    return !this.isConditional;
  }

  /** How many model evaluations this step needs: 1 when guidance is off, 2 for cond + uncond. */
  get numConditions(): number {
    return this.isGuidanceActive() ? 2 : 1;
  }

  /**
   * Split inputs into one batch per condition: a tensor goes to every
   * batch, a [cond, uncond] pair is split, null/undefined inputs are left out.
   */
  prepareInputs(data: Readonly<Record<string, GuiderInputValue>>): GuiderBatch[] {
    const batches: GuiderBatch[] = [];
    for (let index = 0; index < this.numConditions; index++) {
      const inputs: Record<string, Tensor | null> = {};
      for (const [key, value] of Object.entries(data)) {
        if (value === null || value === undefined) continue;
        if (value instanceof Tensor) inputs[key] = value;
        else if (Array.isArray(value) && value.length === 2) inputs[key] = value[index] ?? null;
        else {
          throw new DiffusionInputError(
            `${this.className}.prepareInputs: input '${key}' must be a Tensor, a [cond, uncond] pair of tensors, or null.`,
          );
        }
      }
      batches.push({ identifier: this.inputPredictions[index], inputs });
    }
    return batches;
  }

  /** Combine the batches' `noisePred`s (diffusers' `__call__`). */
  call(batches: readonly GuiderBatch[]): GuiderOutput {
    if (batches.length !== this.numConditions) {
      throw new DiffusionInputError(
        `${this.className}: expected ${this.numConditions} batches (numConditions this step), got ${batches.length}. Run the model once per batch of prepareInputs.`,
      );
    }
    const predictions: Partial<Record<PredictionName, Tensor>> = {};
    for (const batch of batches) {
      if (!batch.noisePred) {
        throw new DiffusionInputError(`${this.className}: batch '${batch.identifier}' has no noisePred; set it to the model output before calling the guider.`);
      }
      predictions[batch.identifier] = batch.noisePred;
    }
    return this.forward(predictions);
  }

  abstract forward(predictions: Partial<Record<PredictionName, Tensor>>): GuiderOutput;

  /** Inside [start, stop) of the schedule, enabled, and a scale that changes the prediction. */
  protected isGuidanceActive(): boolean {
    if (!this._enabled) return false;
    let withinRange = true;
    if (this._numInferenceSteps !== undefined && this._step !== undefined) {
      const skipStart = Math.trunc(this.config.start * this._numInferenceSteps);
      const skipStop = Math.trunc(this.config.stop * this._numInferenceSteps);
      withinRange = skipStart <= this._step && this._step < skipStop;
    }
    // Guidance at or below the neutral scale (1, or 0 with the original formulation) is
    // off, as in diffusers' classic pipelines (`guidance_scale > 1`): the model runs once.
    const neutralScale = this.config.use_original_formulation ? 0 : 1;
    const scale = this.config.guidance_scale;
    return withinRange && scale > neutralScale && !isClose(scale, neutralScale);
  }
}
