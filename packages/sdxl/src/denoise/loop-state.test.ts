import { describe, expect, it } from 'vitest';
import { Tensor } from '@modular-diffusers/runtime';
import { SdxlInputError } from '../errors.js';
import { StableDiffusionXLDenoiseLoop } from './denoise-steps.js';
import type { StableDiffusionXLLoopAfterDenoiser } from './loop-after-denoiser.js';
import type { StableDiffusionXLLoopDenoiser } from './loop-denoiser.js';
import type { LoopStateOf } from './loop-params.js';

describe('the typed loop sub-blocks', () => {
  it('type the shared loop state from their declarations (checked by tsc in npm run typecheck)', () => {
    // Type-checked, not run for its values: each @ts-expect-error fails tsc if its line ever compiles.
    const typeOnly = (denoiser: LoopStateOf<StableDiffusionXLLoopDenoiser['spec']>, after: LoopStateOf<StableDiffusionXLLoopAfterDenoiser['spec']>) => {
      const steps: number = denoiser.num_inference_steps;
      const fields: Record<string, unknown> = denoiser.guider_input_fields;
      // @ts-expect-error timestep_cond is optional, so it may be unset
      const cond: Tensor = denoiser.timestep_cond;
      // @ts-expect-error noise_pred, handed to the after-denoiser, is a Tensor
      denoiser.noise_pred = 1;
      // @ts-expect-error eta has a default, so it is a number
      after.eta = 'high';
      // @ts-expect-error the after-denoiser declares no `noise`
      void after.noise;
      return [steps, fields, cond];
    };
    expect(typeof typeOnly).toBe('function');
  });

  it('say which block needs an unloaded UNet and how to load it', async () => {
    const pipeline = new StableDiffusionXLDenoiseLoop().initPipeline();
    const run = pipeline.run({ timesteps: [999], num_inference_steps: 1, latents: Tensor.zeros('float32', [1, 4, 8, 8]), output: 'latents' });
    await expect(run).rejects.toBeInstanceOf(SdxlInputError);
    await expect(run).rejects.toThrow(/StableDiffusionXLDenoiseLoop needs the 'unet' component, which is not loaded\. Call pipeline\.loadComponents\(\)/);
  });
});
