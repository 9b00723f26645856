import { describe, expect, it } from 'vitest';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { EulerDiscreteScheduler } from '@modular-diffusers/diffusion';
import { changeMapMasks } from './change-map-masks.js';
import { DiffDiffInputError } from './errors.js';
import { noisedOriginalLatents } from './noised-original-latents.js';

const rows = (masks: Tensor<'bool'>) => {
  const [n, h, w] = masks.shape as [number, number, number];
  return Array.from({ length: n }, (_, i) => Array.from(masks.data.subarray(i * h * w, (i + 1) * h * w)));
};

describe('changeMapMasks (diffusers: map > arange(n) / n + (denoising_start or 0))', () => {
  it('holds a pixel while its value exceeds i / n: white at every step, black never', () => {
    // n = 4, thresholds 0, 0.25, 0.5, 0.75; values 0, 0.25, 0.6, 1.
    const map = Tensor.float32([0, 0.25, 0.6, 1], [1, 1, 1, 4]);
    expect(changeMapMasks(map, 4).shape).toEqual([4, 1, 4]);
    expect(rows(changeMapMasks(map, 4))).toEqual([
      [0, 1, 1, 1], // 0 > 0 is false: black is never held
      [0, 0, 1, 1], // 0.25 > 0.25 is false: a value equal to the threshold is released
      [0, 0, 1, 1],
      [0, 0, 0, 1], // 0.6 > 0.75 false; white stays held at every step
    ]);
  });

  it('shifts every threshold by denoising_start', () => {
    // n = 4 with denoising_start 0.5: thresholds 0.5, 0.75, 1, 1.25, so even white is released after two steps.
    const map = Tensor.float32([0.5, 0.6, 0.8, 1], [4]).reshape([1, 4]);
    expect(rows(changeMapMasks(map, 4, 0.5))).toEqual([
      [0, 1, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('rounds thresholds to float32 as torch does', () => {
    // float32(1/3) = 0.3333333432674408 > 1/3, so a map value of float32(1/3) is not above the threshold at i = 1, n = 3;
    // float32(2/3) = 0.6666666865348816 and the value just above it is.
    const third = Math.fround(1 / 3);
    const map = Tensor.float32([third, Math.fround(2 / 3), 0.6666667461395264], [1, 3]);
    expect(rows(changeMapMasks(map, 3))[1]).toEqual([0, 1, 1]);
    expect(rows(changeMapMasks(map, 3))[2]).toEqual([0, 0, 1]);
  });

  it('rejects a batch of maps and a bad step count', () => {
    expect(() => changeMapMasks(Tensor.float32([0, 1, 0, 1], [2, 1, 1, 2]), 2)).toThrow(DiffDiffInputError);
    expect(() => changeMapMasks(Tensor.float32([0, 1], [1, 2]), 0)).toThrow(/positive integer/);
  });
});

describe('noisedOriginalLatents', () => {
  const sdxlEuler = () =>
    EulerDiscreteScheduler.fromConfig({
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      steps_offset: 1,
      timestep_spacing: 'leading',
    });

  it('noises the same latents with the same noise to every timestep: x + sigma_i * noise', () => {
    const scheduler = sdxlEuler();
    scheduler.setTimesteps(4);
    const timesteps = Array.from(scheduler.timesteps); // 751, 501, 251, 1 (leading spacing, offset 1)
    expect(timesteps).toEqual([751, 501, 251, 1]);
    const image = Tensor.float32([1, -2], [1, 2, 1, 1]);
    const noise = Tensor.float32([0.5, 0.25], [1, 2, 1, 1]);
    const out = noisedOriginalLatents(scheduler, image, noise, timesteps);
    expect(out.shape).toEqual([4, 1, 2, 1, 1]);
    for (let i = 0; i < 4; i++) {
      const sigma = scheduler.sigmas![i]!;
      expect(out.data[i * 2]).toBe(Math.fround(1 + Math.fround(0.5 * sigma)));
      expect(out.data[i * 2 + 1]).toBe(Math.fround(-2 + Math.fround(0.25 * sigma)));
    }
    // sigma at t = 751 of SDXL's scaled_linear schedule is about 4.08; at t = 1 about 0.041.
    expect(scheduler.sigmas![0]).toBeCloseTo(4.08, 1);
    expect(scheduler.sigmas![3]).toBeCloseTo(0.041, 2);
  });

  it('refuses a scheduler whose begin index (img2img strength) would give every timestep one noise level', () => {
    const scheduler = sdxlEuler();
    scheduler.setTimesteps(4);
    scheduler.setBeginIndex(2);
    const t = Tensor.float32([0], [1, 1, 1, 1]);
    expect(() => noisedOriginalLatents(scheduler, t, t, [251, 1])).toThrow(/text-to-image set_timesteps/);
  });
});
