/**
 * The original image's latents noised to EVERY timestep of the schedule,
 * computed once before the loop so step i can put held regions back on
 * the original at exactly that step's noise level. One noise draw serves all
 * timesteps, as diffusers' differential pipelines pass the whole timestep
 * list to a single `add_noise`.
 */
import { Tensor } from '@modular-diffusers/runtime/tensor';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { DiffDiffInputError } from './errors.js';

/**
 * [n, B, C, h, w]: entry i is `scheduler.addNoise(imageLatents, noise, [timesteps[i]])`.
 * The scheduler must look each timestep up in its schedule (no begin index
 * set), which is the state diffusers' `set_begin_index(None)` leaves.
 */
export function noisedOriginalLatents(
  scheduler: Scheduler,
  imageLatents: Tensor<'float32'>,
  noise: Tensor<'float32'>,
  timesteps: readonly number[],
): Tensor<'float32'> {
  if (scheduler.beginIndex !== undefined) {
    throw new DiffDiffInputError(
      `The scheduler has begin index ${scheduler.beginIndex} (an image-to-image set_timesteps step set it), so addNoise would give every ` +
        'timestep the same noise level. Differential diffusion noises the image to each timestep of the full schedule: use the ' +
        "text-to-image set_timesteps step (DIFFDIFF_BLOCKS' 'set_timesteps'), which leaves no begin index.",
    );
  }
  const per = imageLatents.size;
  const out = new Float32Array(per * timesteps.length);
  timesteps.forEach((t, i) => out.set(scheduler.addNoise(imageLatents, noise, [t]).data, i * per));
  return new Tensor('float32', out, [timesteps.length, ...imageLatents.shape]);
}
