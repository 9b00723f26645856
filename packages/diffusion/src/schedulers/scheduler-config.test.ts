import { describe, expect, it } from 'vitest';
import { SDXL_SCHEDULER_CONFIG } from '../../test/support/float64-reference.js';
import { ComponentConfigError } from '../errors.js';
import { DDIMScheduler } from './ddim-scheduler.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep-scheduler.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete-scheduler.js';
import { EulerDiscreteScheduler } from './euler-discrete-scheduler.js';
import { schedulerFromConfig, schedulerRegistry } from './scheduler-registry.js';

function configError(fn: () => unknown): ComponentConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ComponentConfigError);
    return error as ComponentConfigError;
  }
  throw new Error('expected a ComponentConfigError');
}

describe('scheduler configs', () => {
  it('loads the full SDXL scheduler_config.json, keeping defaults for absent keys', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
    expect(s.config).toMatchObject({
      _class_name: 'EulerDiscreteScheduler',
      _diffusers_version: '0.19.0.dev0',
      beta_schedule: 'scaled_linear',
      timestep_spacing: 'leading',
      steps_offset: 1,
      final_sigmas_type: 'zero',
      timestep_type: 'discrete',
      use_exponential_sigmas: false,
      sigma_min: null,
    });
    // keys of other schedulers (clip_sample, set_alpha_to_one, skip_prk_steps) are accepted but not kept
    expect('skip_prk_steps' in s.config).toBe(false);
    // round trip: the saved config rebuilds the same schedule
    const again = EulerDiscreteScheduler.fromConfig(JSON.parse(JSON.stringify(s.config)));
    s.setTimesteps(30);
    again.setTimesteps(30);
    expect(Array.from(again.sigmas)).toEqual(Array.from(s.sigmas));
  });

  it.each([
    ['timestep_spacing', 'foo', 'invalid'],
    ['beta_schedule', 'cosine', 'invalid'],
    ['prediction_type', 'flow_prediction', 'unsupported'],
    ['use_beta_sigmas', true, 'unsupported'],
    ['interpolation_type', 'cubic', 'invalid'],
    ['num_train_timesteps', 10.5, 'invalid'],
    ['steps_offset', '1', 'invalid'],
  ])('rejects %s = %j with a %s error naming the key', (key, value, reason) => {
    const error = configError(() => EulerDiscreteScheduler.fromConfig({ ...SDXL_SCHEDULER_CONFIG, [key]: value }));
    expect(error.key).toBe(key);
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(key);
    expect(error.className).toBe('EulerDiscreteScheduler');
  });

  it('rejects features a class does not have instead of ignoring them', () => {
    expect(configError(() => EulerAncestralDiscreteScheduler.fromConfig({ prediction_type: 'sample' })).reason).toBe('unsupported');
    expect(configError(() => EulerAncestralDiscreteScheduler.fromConfig({ use_karras_sigmas: true })).key).toBe('use_karras_sigmas');
    expect(configError(() => EulerDiscreteScheduler.fromConfig({ clip_sample: true })).key).toBe('clip_sample');
    expect(configError(() => DDIMScheduler.fromConfig({ thresholding: true })).reason).toBe('unsupported');
    expect(configError(() => DPMSolverMultistepScheduler.fromConfig({ variance_type: 'learned_range' })).reason).toBe('unsupported');
    expect(configError(() => EulerDiscreteScheduler.fromConfig({ use_karras_sigmas: true, use_exponential_sigmas: true })).key).toBe(
      'use_karras_sigmas',
    );
  });

  it('overrides win over the config and must name real keys', () => {
    const s = DPMSolverMultistepScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { use_karras_sigmas: true, solver_order: 3 });
    expect(s.config.use_karras_sigmas).toBe(true);
    expect(s.config.solver_order).toBe(3);
    expect(configError(() => EulerDiscreteScheduler.fromConfig({}, { use_karas_sigmas: true })).reason).toBe('unknown-key');
    expect(configError(() => new EulerDiscreteScheduler({ timestep_spacing: 'foo' as never })).key).toBe('timestep_spacing');
  });

  it('swaps schedulers on one config, like from_config(pipe.scheduler.config)', () => {
    const euler = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
    const dpm = DPMSolverMultistepScheduler.fromConfig(euler.config, { use_karras_sigmas: true });
    expect(dpm.config._class_name).toBe('DPMSolverMultistepScheduler');
    expect(dpm.config.beta_schedule).toBe('scaled_linear');
    const ancestral = EulerAncestralDiscreteScheduler.fromConfig(euler.config);
    expect(ancestral.config.steps_offset).toBe(1);
    // a Karras config cannot silently become a plain ancestral one
    expect(() => EulerAncestralDiscreteScheduler.fromConfig(dpm.config)).toThrow(/use_karras_sigmas/);
  });

  it('the registry picks the class from _class_name', () => {
    expect(schedulerRegistry.names()).toEqual([
      'EulerDiscreteScheduler',
      'EulerAncestralDiscreteScheduler',
      'DPMSolverMultistepScheduler',
      'DDIMScheduler',
    ]);
    expect(schedulerFromConfig(SDXL_SCHEDULER_CONFIG)).toBeInstanceOf(EulerDiscreteScheduler);
    expect(schedulerFromConfig({ ...SDXL_SCHEDULER_CONFIG, _class_name: 'DDIMScheduler' })).toBeInstanceOf(DDIMScheduler);
    expect(schedulerFromConfig(SDXL_SCHEDULER_CONFIG, { className: 'DPMSolverMultistepScheduler' })).toBeInstanceOf(
      DPMSolverMultistepScheduler,
    );
    expect(configError(() => schedulerFromConfig({ _class_name: 'PNDMScheduler' })).reason).toBe('unknown-class');
    expect(configError(() => schedulerFromConfig({ beta_start: 0.001 })).key).toBe('_class_name');
  });
});
