/**
 * The timestep selection SDXL's set-timesteps blocks perform: custom or
 * counted schedules, img2img's `strength` (skip the noisiest steps and
 * start from a partly noised image), and `denoising_start` /
 * `denoising_end` for a base + refiner split. Pure functions over a
 * scheduler, as in diffusers' before_denoise blocks.
 */
import { DiffusionInputError } from '../errors.js';
import { roundHalfEven } from '../schedule/numpy-semantics.js';
import type { Scheduler } from './scheduler.js';

export interface TimestepSelection {
  timesteps: Float32Array;
  numInferenceSteps: number;
}

export interface Img2ImgTimesteps extends TimestepSelection {
  /** The noise level to add to the encoded image: the first kept timestep (repeat it per batch sample). */
  latentTimestep: number;
  /** Index into scheduler.timesteps where denoising starts; already set on the scheduler. */
  beginIndex: number;
}

/** diffusers' retrieve_timesteps: set a counted, custom-timestep or custom-sigma schedule and read it back. */
export function retrieveTimesteps(
  scheduler: Scheduler,
  options: { numInferenceSteps?: number | null; timesteps?: readonly number[] | null; sigmas?: readonly number[] | null },
): TimestepSelection {
  const { numInferenceSteps, timesteps, sigmas } = options;
  if (timesteps != null && sigmas != null) {
    throw new DiffusionInputError('retrieveTimesteps: pass only one of timesteps or sigmas.');
  }
  if (timesteps != null || sigmas != null) {
    scheduler.setTimesteps(undefined, timesteps != null ? { timesteps } : { sigmas: sigmas! });
    return { timesteps: scheduler.timesteps, numInferenceSteps: scheduler.timesteps.length };
  }
  scheduler.setTimesteps(numInferenceSteps);
  return { timesteps: scheduler.timesteps, numInferenceSteps: numInferenceSteps! };
}

/**
 * diffusers reads denoising_start/denoising_end only when strictly between
 * 0 and 1 and otherwise ignores them; values outside [0, 1] are an error here.
 */
function fraction(value: number | null | undefined, name: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw new DiffusionInputError(`${name} must be a fraction of the schedule between 0 and 1, got ${value}.`);
  }
  return value > 0 && value < 1 ? value : undefined;
}

/** Training timestep below which a fraction `d` of the denoising is considered done: int(round(T - d * T)). */
function discreteCutoff(scheduler: Scheduler, fractionDone: number): number {
  const T = scheduler.config.num_train_timesteps;
  return Math.trunc(roundHalfEven(T - fractionDone * T));
}

/**
 * Which timesteps img2img runs (diffusers' get_timesteps). Call after
 * setTimesteps. Without `denoisingStart`, `strength` keeps the last
 * int(n * strength) steps; with it, the steps below the cutoff are kept and
 * strength is ignored. Sets the scheduler's begin index.
 */
export function getImg2ImgTimesteps(
  scheduler: Scheduler,
  numInferenceSteps: number,
  strength: number,
  options: { denoisingStart?: number | null } = {},
): Img2ImgTimesteps {
  const all = scheduler.timesteps;
  if (scheduler.numInferenceSteps === undefined) {
    throw new DiffusionInputError('getImg2ImgTimesteps: call scheduler.setTimesteps (or retrieveTimesteps) first.');
  }
  const denoisingStart = fraction(options.denoisingStart, 'denoisingStart');
  let tStart: number;
  let count: number;
  if (denoisingStart === undefined) {
    if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) {
      throw new DiffusionInputError(`strength must be between 0 and 1, got ${strength}.`);
    }
    const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
    tStart = Math.max(numInferenceSteps - initTimestep, 0) * scheduler.order;
    count = numInferenceSteps - tStart / scheduler.order;
  } else {
    const cutoff = discreteCutoff(scheduler, denoisingStart);
    count = 0;
    for (const t of all) if (t < cutoff) count++;
    if (scheduler.order === 2 && count % 2 === 0) count += 1;
    tStart = all.length - count;
  }
  const timesteps = all.slice(tStart);
  if (timesteps.length === 0) {
    throw new DiffusionInputError(
      denoisingStart === undefined
        ? `img2img with strength ${strength} and ${numInferenceSteps} steps leaves no denoising step; raise strength or numInferenceSteps.`
        : `denoisingStart ${denoisingStart} leaves no timestep of this schedule to run; lower denoisingStart or use more steps.`,
    );
  }
  scheduler.setBeginIndex(tStart);
  return { timesteps, numInferenceSteps: count, latentTimestep: timesteps[0], beginIndex: tStart };
}

/**
 * Stop early for a refiner to finish (diffusers' denoising_end): keep the
 * timesteps at or above int(round(T - denoisingEnd * T)).
 */
export function applyDenoisingEnd(
  scheduler: Scheduler,
  selection: TimestepSelection,
  denoisingEnd: number | null | undefined,
): TimestepSelection {
  const end = fraction(denoisingEnd, 'denoisingEnd');
  if (end === undefined) return selection;
  const cutoff = discreteCutoff(scheduler, end);
  let count = 0;
  for (const t of selection.timesteps) if (t >= cutoff) count++;
  return { timesteps: selection.timesteps.slice(0, count), numInferenceSteps: count };
}
