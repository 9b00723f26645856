/**
 * Typed errors of the diffusion package. Each message names the offending
 * value and what to do about it, so a pipeline user can fix a config file or
 * a call without reading this package's source.
 */

import { ModularDiffusersError } from '@modular-diffusers/core';

/** A scheduler or guider config value that is malformed or not supported here. */
export class ComponentConfigError extends ModularDiffusersError {
  static override readonly code: string = 'COMPONENT_CONFIG';
  override name = 'ComponentConfigError';
  constructor(
    message: string,
    /** The class whose config was rejected, e.g. 'EulerDiscreteScheduler'. */
    readonly className: string,
    /** The snake_case config key at fault, when one key is at fault. */
    readonly key?: string,
    /** 'invalid': wrong type or out of range. 'unsupported': a valid diffusers value this port does not implement. */
    readonly reason: 'invalid' | 'unsupported' | 'unknown-class' | 'unknown-key' = 'invalid',
  ) {
    super(message);
  }
}

/** A scheduler was used out of order (no `setTimesteps`, a timestep outside the schedule, ...). */
export class SchedulerStateError extends ModularDiffusersError {
  static override readonly code: string = 'SCHEDULER_STATE';
  override name = 'SchedulerStateError';
}

/** Tensors or options passed to a scheduler or guider do not fit (dtype, shape, missing generator). */
export class DiffusionInputError extends ModularDiffusersError {
  static override readonly code: string = 'DIFFUSION_INPUT';
  override name = 'DiffusionInputError';
}
