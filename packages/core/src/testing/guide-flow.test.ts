import { describe, expect, it } from 'vitest';
import { MemoryLogger, MissingInputError, ModularPipeline, SequentialPipelineBlocks, ComponentsManager } from '../index.js';
import {
  AUTO_IP_ADAPTER_PRINTOUT,
  CONTROLNET_AUTO_INPUT_PRINTOUT,
  DENOISE_LOOP_PRINTOUT,
  DIFFDIFF_BLOCKS_PRINTOUT,
  DIFFDIFF_WITH_IP_ADAPTER_PRINTOUT,
  IMAGE2IMAGE_BLOCKS,
  SDXLDiffDiffControlNetDenoiseLoop,
  SDXLDiffDiffDenoiseLoop,
  SDXLDiffDiffPrepareLatentsStep,
  StableDiffusionXLAutoIPAdapterStep,
  StableDiffusionXLControlNetAutoInput,
  StableDiffusionXLDenoiseLoop,
  StableDiffusionXLImg2ImgPrepareLatentsStep,
  StableDiffusionXLLoopAfterDenoiser,
  StableDiffusionXLLoopBeforeDenoiser,
  StableDiffusionXLLoopDenoiser,
  StableDiffusionXLDenoiseLoopWrapper,
  TEXT2IMAGE_BLOCKS,
  createToyLoaderRegistry,
  diffDiffAutoBlocks,
  diffDiffBlocks,
} from './index.js';

// The developer guide's differential-diffusion walkthrough, replayed on toy
// blocks: each printout must equal the guide's text exactly, and each stage
// must compute the inputs the guide describes.

const inputNames = (blocks: SequentialPipelineBlocks) => blocks.inputs.map((p) => p.key);

// Worked numbers used below (toy components, see toy-components.ts):
// prompt 'abcd' embeds to 4, the empty negative prompt to 0 (force_zeros_for_empty_prompt);
// UNet noise (x - e/10)/2, guidance 7.5: noise = x/2 - 7.5 * 0.2 = x/2 - 1.5, step x -> x/2 + 1.5;
// image [0.2, 0.6] encodes (scale 0.5) to [0.1, 0.3]; noising at t adds t/1000; decoding divides by 0.5.
const prompt = 'abcd';
const image = [0.2, 0.6];

describe('guide: differential diffusion', () => {
  it('prints the denoise loop exactly as the guide', () => {
    const DenoiseBlocks = IMAGE2IMAGE_BLOCKS.getOrThrow('denoise') as new () => StableDiffusionXLDenoiseLoop;
    expect(String(new DenoiseBlocks())).toBe(DENOISE_LOOP_PRINTOUT);
  });

  it('prints the assembled DIFFDIFF blocks exactly as the guide', () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    expect(ddBlocks.toString()).toBe(DIFFDIFF_BLOCKS_PRINTOUT);
  });

  it('prints the auto IP-adapter block and the pipeline after inserting it at 0', () => {
    const ipAdapterBlock = new StableDiffusionXLAutoIPAdapterStep();
    expect(ipAdapterBlock.toString()).toBe(AUTO_IP_ADAPTER_PRINTOUT);
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    ddBlocks.blocks.insert('ip_adapter', ipAdapterBlock, 0);
    expect(ddBlocks.toString()).toBe(DIFFDIFF_WITH_IP_ADAPTER_PRINTOUT);
  });

  it('prints the ControlNet auto input block exactly as the guide', () => {
    expect(new StableDiffusionXLControlNetAutoInput().toString()).toBe(CONTROLNET_AUTO_INPUT_PRINTOUT);
  });

  it('computes the pipeline inputs the guide describes at each stage', () => {
    const img2img = SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS);
    expect(inputNames(img2img)).toContain('strength');
    expect(inputNames(img2img)).not.toContain('latent_timestep'); // set_timesteps outputs it
    expect(inputNames(img2img)).not.toContain('diffdiff_map');

    // Step 2 of the guide: text2img timesteps, prepare_latents still the img2img copy.
    const skeleton = IMAGE2IMAGE_BLOCKS.copy();
    skeleton.set('set_timesteps', TEXT2IMAGE_BLOCKS.getOrThrow('set_timesteps'));
    const stage = SequentialPipelineBlocks.fromBlocksDict(skeleton);
    const latentTimestep = stage.inputs.find((p) => p.name === 'latent_timestep');
    expect(latentTimestep?.required).toBe(true); // nothing produces it any more
    expect(inputNames(stage)).not.toContain('strength');

    // The finished diff-diff blocks: diffdiff_map is a required user input, latent_timestep is gone.
    const dd = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    const map = dd.inputs.find((p) => p.name === 'diffdiff_map');
    expect(map?.required).toBe(true);
    expect(inputNames(dd)).not.toContain('latent_timestep');
    expect(inputNames(dd)).not.toContain('original_latents'); // produced by prepare_latents for the loop
    expect(dd.doc).toContain('diffdiff_map (`Any`):');
    expect(dd.expectedComponents.map((c) => c.name)).toContain('mask_processor');

    // IP-adapter inserted at 0 adds its trigger input but, being skippable, produces nothing for later blocks.
    dd.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    expect(inputNames(dd)).toContain('ip_adapter_image');
    expect(dd.inputs.find((p) => p.name === 'ip_adapter_image')?.required).toBe(false);
    expect(inputNames(dd)).toContain('ip_adapter_embeds');
  });

  it('runs the placeholder stage like img2img and complains about the unexpected diffdiff_map', async () => {
    class PlaceholderPrepareLatents extends StableDiffusionXLImg2ImgPrepareLatentsStep {}
    class PlaceholderBeforeDenoiser extends StableDiffusionXLLoopBeforeDenoiser {}
    class PlaceholderLoop extends StableDiffusionXLDenoiseLoopWrapper {
      static override blockClasses = [PlaceholderBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
      static override blockNames = ['before_denoiser', 'denoiser', 'after_denoiser'];
    }
    const blocks = IMAGE2IMAGE_BLOCKS.copy();
    blocks.set('prepare_latents', PlaceholderPrepareLatents);
    blocks.set('denoise', PlaceholderLoop);
    const logger = new MemoryLogger();
    const pipe = SequentialPipelineBlocks.fromBlocksDict(blocks).initPipeline('toy/sdxl', {
      loaderRegistry: createToyLoaderRegistry(),
      logger,
    });
    await pipe.loadComponents();
    // img2img, strength 0.5 of 4 steps keeps timesteps [500, 250]; latents [0.1, 0.3] + 0.5 = [0.6, 0.8];
    // two steps of x/2 + 1.5: [1.8, 1.9] then [2.4, 2.45]; decoded x2: [4.8, 4.9].
    const images = await pipe({ prompt, image, num_inference_steps: 4, strength: 0.5, diffdiff_map: [0, 1], output: 'images' });
    expect(images[0][0]).toBeCloseTo(4.8, 12);
    expect(images[0][1]).toBeCloseTo(4.9, 12);
    expect(logger.of('warn').join('\n')).toMatch(/Unexpected input 'diffdiff_map'/);
  });

  it('runs the finished diff-diff pipeline end to end with the expected numbers', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    const pipe = ddBlocks.initPipeline('YiYiXu/modular-demo-auto', { collection: 'diffdiff', loaderRegistry: createToyLoaderRegistry() });
    await pipe.loadComponents();
    // timesteps [1000, 500]; original_latents [[1.1, 1.3], [0.6, 0.8]]; masks (map [0, 1] > i/2) = [F, T] twice.
    // i=0: latents = original[0] -> x/2 + 1.5 = [2.05, 2.15]
    // i=1: freeze j=1 to original[1][1] = 0.8 -> [2.05, 0.8] -> [2.525, 1.9]; decoded: [5.05, 3.8].
    const [out] = await pipe.run({ prompt, negative_prompt: '', num_inference_steps: 2, diffdiff_map: [0, 1], image, output: 'images' });
    expect(out[0]).toBeCloseTo(5.05, 12);
    expect(out[1]).toBeCloseTo(3.8, 12);
  });

  it('adds the IP-adapter and runs with and without ip_adapter_image', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    const pipe = ddBlocks.initPipeline('YiYiXu/modular-demo-auto', { collection: 'diffdiff', loaderRegistry: createToyLoaderRegistry() });
    await pipe.loadComponents();
    expect(pipe.nullComponentNames).toEqual([]);
    const base = { prompt, num_inference_steps: 2, diffdiff_map: [0, 1], image, output: 'images' as const };
    const [plain] = await pipe(base);
    expect(plain[0]).toBeCloseTo(5.05, 12);
    // ip_adapter_image [1, 2] clamps to [1, 1] and embeds to 2, so e = 4 + 2 and a step is x/2 + 7.5 * 0.3 = x/2 + 2.25:
    // [1.1, 1.3] -> [2.8, 2.9]; freeze j=1 -> [2.8, 0.8] -> [3.65, 2.65]; decoded [7.3, 5.3].
    const [withIp] = await pipe({ ...base, ip_adapter_image: [1, 2] });
    expect(withIp[0]).toBeCloseTo(7.3, 12);
    expect(withIp[1]).toBeCloseTo(5.3, 12);
  });

  it('adds ControlNet at index 7 with a ControlNet denoise loop, and runs it', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    ddBlocks.blocks.insert('controlnet_input', new StableDiffusionXLControlNetAutoInput(), 7);
    ddBlocks.blocks.set('denoise', new SDXLDiffDiffControlNetDenoiseLoop());
    expect(ddBlocks.blocks.keys()).toEqual([
      'ip_adapter',
      'text_encoder',
      'image_encoder',
      'input',
      'set_timesteps',
      'prepare_latents',
      'prepare_add_cond',
      'controlnet_input',
      'denoise',
      'decode',
    ]);
    // Both ControlNet blocks name the component `controlnet`; the first declaration's type wins, as in diffusers.
    expect(ddBlocks.expectedComponents.find((c) => c.name === 'controlnet')?.typeName).toBe('ControlNetUnionModel');
    const pipe = ddBlocks.initPipeline('YiYiXu/modular-demo-auto', { collection: 'diffdiff', loaderRegistry: createToyLoaderRegistry() });
    await pipe.loadComponents();
    // control_image [0.4, 0.2] at scale 0.5 and keep 1 adds r = [0.2, 0.1] to both predictions: step x/2 - r + 1.5.
    // [1.1, 1.3] -> [1.85, 2.05]; freeze j=1 -> [1.85, 0.8] -> [2.225, 1.8]; decoded [4.45, 3.6].
    const [out] = await pipe({
      prompt,
      num_inference_steps: 2,
      control_image: [0.4, 0.2],
      controlnet_conditioning_scale: 0.5,
      diffdiff_map: [0, 1],
      image,
      output: 'images',
    });
    expect(out[0]).toBeCloseTo(4.45, 12);
    expect(out[1]).toBeCloseTo(3.6, 12);
  });

  it('combines both loops in SDXLDiffDiffAutoDenoiseStep and picks the branch from controlnet_cond', async () => {
    const auto = SequentialPipelineBlocks.fromBlocksDict(diffDiffAutoBlocks());
    expect(auto.blocks.keys()).toEqual([
      'ip_adapter',
      'text_encoder',
      'image_encoder',
      'input',
      'set_timesteps',
      'prepare_latents',
      'prepare_add_cond',
      'controlnet_input',
      'denoise',
      'decode',
    ]);
    expect(auto.triggerInputs).toEqual(['control_image', 'control_mode', 'controlnet_cond', 'ip_adapter_image']);
    expect(auto.toString()).toContain("  Trigger Inputs: {'control_image', 'control_mode', 'controlnet_cond', 'ip_adapter_image'}");

    const plainRun = auto.getExecutionBlocks('image', 'diffdiff_map');
    expect(plainRun.blocks.keys()).not.toContain('controlnet_input');
    expect(plainRun.getBlock('denoise')).toBeInstanceOf(SDXLDiffDiffDenoiseLoop);
    // controlnet_cond is an output of the controlnet input step, so passing control_image selects the ControlNet loop.
    const controlRun = auto.getExecutionBlocks('control_image');
    expect(controlRun.blocks.keys()).toContain('controlnet_input');
    expect(controlRun.getBlock('controlnet_input').className).toBe('StableDiffusionXLControlNetInputStep');
    expect(controlRun.getBlock('denoise')).toBeInstanceOf(SDXLDiffDiffControlNetDenoiseLoop);

    const manager = new ComponentsManager();
    const pipe = auto.initPipeline('YiYiXu/modular-demo-auto', { componentsManager: manager, collection: 'diffdiff', loaderRegistry: createToyLoaderRegistry() });
    await pipe.loadComponents();
    const base = { prompt, num_inference_steps: 2, diffdiff_map: [0, 1], image, output: 'images' as const };
    expect((await pipe(base))[0][0]).toBeCloseTo(5.05, 12);
    const withControl = await pipe({ ...base, control_image: [0.4, 0.2], controlnet_conditioning_scale: 0.5 });
    expect(withControl[0][0]).toBeCloseTo(4.45, 12);
  });

  it('names the block when the diff-diff map is missing', async () => {
    const pipe = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks()).initPipeline({ loaderRegistry: createToyLoaderRegistry() });
    await pipe.loadComponents(null, { repo: 'toy/sdxl' });
    const error = await pipe.run({ prompt, image, num_inference_steps: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingInputError);
    expect((error as MissingInputError).message).toContain("Required input 'diffdiff_map' is missing for block SDXLDiffDiffPrepareLatentsStep");
    expect((error as MissingInputError).blockPath).toEqual(['prepare_latents']);
  });

  it('keeps an initialised pipeline independent of later edits to its blocks', () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(diffDiffBlocks());
    const pipe = ddBlocks.initPipeline('YiYiXu/modular-demo-auto', { loaderRegistry: createToyLoaderRegistry() });
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    ddBlocks.blocks.set('prepare_latents', new SDXLDiffDiffPrepareLatentsStep());
    expect(pipe).toBeInstanceOf(ModularPipeline);
    expect(pipe.blocks.blocks.keys()).not.toContain('ip_adapter');
    expect(pipe.componentNames).not.toContain('image_encoder');
    expect(pipe.blocks.toString()).toBe(DIFFDIFF_BLOCKS_PRINTOUT);
  });
});
