import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ComponentConfigError, DPMSolverMultistepScheduler, EulerDiscreteScheduler } from '@modular-diffusers/diffusion';
import { Generator, type Tensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from './testing/tiny-repo.js';
import { TEXT2IMAGE_BLOCKS } from './presets.js';

// With a Gaussian prior (unetPriorStd) the tiny UNet's samples depend on the sampler's path,
// so two schedulers give two different pictures from the same seed.
let repo: TinyRepoFixture;
let pipe: any;
beforeAll(async () => {
  repo = await createTinyRepo({ unetPriorStd: 0.5 });
  pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
});
afterAll(async () => {
  await repo.dispose();
});

// The final latents, compared bit for bit (decoded images can saturate under CFG 7.5 and hide the difference).
const run = async (): Promise<Uint8Array> => {
  const latents = (await pipe({ prompt: 'a green pear', num_inference_steps: 6, height: 64, width: 64, generator: new Generator(3), output: 'latents' })) as Tensor<'float32'>;
  return new Uint8Array(latents.data.buffer.slice(latents.data.byteOffset, latents.data.byteOffset + latents.data.byteLength));
};

describe('swapping the scheduler of a loaded pipeline', () => {
  it('changes the run, and swapping back restores it', async () => {
    expect(pipe.scheduler).toBeInstanceOf(EulerDiscreteScheduler);
    const euler = await run();
    expect(Buffer.from(await run()).equals(Buffer.from(euler))).toBe(true);
    const original = pipe.scheduler;
    pipe.updateComponents({ scheduler: DPMSolverMultistepScheduler.fromConfig(original.config, { use_karras_sigmas: true }) });
    expect(pipe.scheduler).toBeInstanceOf(DPMSolverMultistepScheduler);
    const dpm = await run();
    expect(Buffer.from(dpm).equals(Buffer.from(euler))).toBe(false);
    pipe.updateComponents({ scheduler: original });
    expect(Buffer.from(await run()).equals(Buffer.from(euler))).toBe(true);
  });

  it('refuses a scheduler config with an option it does not support, instead of ignoring it', () => {
    expect(() => EulerDiscreteScheduler.fromConfig(pipe.scheduler.config, { timestep_spacing: 'sometimes' })).toThrow(ComponentConfigError);
  });
});
