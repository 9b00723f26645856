/**
 * Config keys shared by the discrete schedulers, and the keys of sibling
 * schedulers that a swapped-in config may carry. SDXL's scheduler_config.json
 * holds keys of several classes at once (`clip_sample`, `set_alpha_to_one`,
 * `skip_prk_steps`, `use_karras_sigmas`, ...), so a scheduler accepts a
 * foreign key when its value means "off", and refuses one that asks for a
 * feature it does not have.
 */
import type { BetaSchedule } from '../schedule/noise-schedule.js';
import type { TimestepSpacing } from '../schedule/timestep-spacing.js';
import {
  booleanField,
  choiceField,
  nullableNumberListField,
  numberField,
  type FieldSpec,
} from './config-fields.js';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/** Keys every scheduler here has. */
export type BaseSchedulerConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: readonly number[] | null;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
};

export const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['linspace', 'leading', 'trailing'];

export function baseSchedulerFields(defaults: {
  timestep_spacing: TimestepSpacing;
  predictionTypes: readonly PredictionType[];
}): { readonly [K in keyof BaseSchedulerConfig]: FieldSpec<BaseSchedulerConfig[K]> } {
  const allPredictionTypes = ['epsilon', 'v_prediction', 'sample', 'flow_prediction'];
  return {
    num_train_timesteps: numberField(1000, { integer: true, min: 2 }),
    beta_start: numberField(0.0001, { min: 0, minExclusive: true, max: 1 }),
    beta_end: numberField(0.02, { min: 0, minExclusive: true, max: 1 }),
    beta_schedule: choiceField<BetaSchedule>('linear', BETA_SCHEDULES),
    trained_betas: nullableNumberListField(),
    prediction_type: choiceField<PredictionType>(
      'epsilon',
      defaults.predictionTypes,
      allPredictionTypes.filter((p) => !defaults.predictionTypes.includes(p as PredictionType)),
    ),
    timestep_spacing: choiceField<TimestepSpacing>(defaults.timestep_spacing, TIMESTEP_SPACINGS),
    steps_offset: numberField(0, { integer: true, min: 0 }),
    rescale_betas_zero_snr: booleanField(false),
  };
}

const isOff = (value: unknown): boolean => value === false || value === null;
const is = (expected: unknown) => (value: unknown) => value === expected;
const isNull = (value: unknown): boolean => value === null;

/**
 * Behaviour-changing keys of sibling schedulers, with the value that means
 * "not used". Keys absent here (solver_order, set_alpha_to_one,
 * skip_prk_steps, sample_max_value, DDPM's variance_type, ...) only tune features of their own
 * class and are ignored by the others, as in diffusers.
 */
export const FOREIGN_SCHEDULER_KEYS: Readonly<Record<string, { isNeutral(value: unknown): boolean; neutral: string }>> = {
  use_karras_sigmas: { isNeutral: isOff, neutral: 'false' },
  use_exponential_sigmas: { isNeutral: isOff, neutral: 'false' },
  use_beta_sigmas: { isNeutral: isOff, neutral: 'false' },
  use_lu_lambdas: { isNeutral: isOff, neutral: 'false' },
  use_flow_sigmas: { isNeutral: isOff, neutral: 'false' },
  use_dynamic_shifting: { isNeutral: isOff, neutral: 'false' },
  thresholding: { isNeutral: isOff, neutral: 'false' },
  clip_sample: { isNeutral: isOff, neutral: 'false' },
  interpolation_type: { isNeutral: is('linear'), neutral: "'linear'" },
  timestep_type: { isNeutral: is('discrete'), neutral: "'discrete'" },
  final_sigmas_type: { isNeutral: is('zero'), neutral: "'zero'" },
  sigma_min: { isNeutral: isNull, neutral: 'null' },
  sigma_max: { isNeutral: isNull, neutral: 'null' },
};
