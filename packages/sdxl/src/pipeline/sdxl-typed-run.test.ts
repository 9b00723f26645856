import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Generator, PipelineImage, Tensor } from '@modular-diffusers/runtime';
import { StableDiffusionXLAutoBlocks } from '../auto-presets.js';
import type { SdxlPipelineInputs } from './sdxl-inputs.js';
import { StableDiffusionXLModularPipeline } from './sdxl-modular-pipeline.js';

describe("an SDXL pipeline's run is typed from its blocks' declarations", () => {
  const pipe = new StableDiffusionXLAutoBlocks().initPipeline({ pipelineClass: StableDiffusionXLModularPipeline });

  it('types the inputs the SDXL blocks declare (num_inference_steps is a number, the prompt a string or list)', () => {
    expectTypeOf<NonNullable<SdxlPipelineInputs['num_inference_steps']>>().toEqualTypeOf<number>();
    expectTypeOf<string>().toExtend<NonNullable<SdxlPipelineInputs['prompt']>>();
    expectTypeOf<Generator>().toExtend<NonNullable<SdxlPipelineInputs['generator']>>();
    const typeOnly = () => {
      // @ts-expect-error num_inference_steps is a number, not a string
      void pipe({ prompt: 'a green pear', num_inference_steps: '4' });
      // @ts-expect-error the run method checks the same
      void pipe.run({ prompt: 'a green pear', height: '64' });
      // a plugin's own input (diff-diff's change map) is not an SDXL input, and is allowed
      void pipe({ prompt: 'a green pear', diffdiff_map: null });
    };
    expect(typeof typeOnly).toBe('function');
  });

  it("types images by output_type: PipelineImage[] by default, tensors for 'np' and 'latent'", () => {
    const typeOnly = async () => {
      expectTypeOf(await pipe({ prompt: 'a', output: 'images' })).toEqualTypeOf<PipelineImage[]>();
      expectTypeOf(await pipe({ prompt: 'a', output_type: 'np', output: 'images' })).toEqualTypeOf<Tensor<'float32'>[]>();
      expectTypeOf(await pipe.run({ prompt: 'a', output_type: 'latent', output: ['images', 'latents'] })).toEqualTypeOf<{
        images: Tensor<'float32'>[];
        latents: Tensor<'float32'>;
      }>();
    };
    expect(typeof typeOnly).toBe('function');
  });
});
