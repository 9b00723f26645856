/**
 * The tiny text-to-image run of TEXT2IMAGE_BLOCKS written out by hand, as a
 * classic (non-modular) pipeline would: the same components, the same
 * functions and tensor math in the same order, and no blocks, no pipeline
 * state, no declarations. Timing it next to the modular run gives the
 * modular engine's own overhead (see pipeline.ts); the bench checks that
 * both produce the same pixels first, so the two do the same work.
 * Covers only what the bench runs: one prompt, one image, empty negative
 * prompt with force_zeros_for_empty_prompt, and a guider that may stack
 * (cond, uncond).
 */
import { Tensor, concat, scaleInPlace, split, tokenIdsToTensor, type ClipTokenizer, type Generator, type PipelineImage, type VaeImageProcessor } from '@modular-diffusers/runtime';
import type { Guider, Scheduler } from '@modular-diffusers/diffusion';
import type { AutoencoderKL } from '../src/components/autoencoder-kl.js';
import type { CLIPTextModel } from '../src/components/clip-text-model.js';
import type { UNet2DConditionModel } from '../src/components/unet.js';
import { randnLatents } from '../src/before-denoise/noise.js';
import { unscaleLatents } from '../src/encoders/encode-vae-image.js';

export interface StraightLineComponents {
  tokenizer: ClipTokenizer;
  tokenizer_2: ClipTokenizer;
  text_encoder: CLIPTextModel;
  text_encoder_2: CLIPTextModel;
  unet: UNet2DConditionModel;
  scheduler: Scheduler;
  guider: Guider;
  vae: AutoencoderKL;
  image_processor: VaeImageProcessor;
}

export async function straightLineText2Img(
  c: StraightLineComponents,
  options: { prompt: string; size: number; steps: number; generator: Generator; onStep?: () => void },
): Promise<PipelineImage[]> {
  // Text: penultimate hidden states of both encoders side by side, pooled output of the second.
  const hidden: Tensor<'float32'>[] = [];
  let pooled!: Tensor<'float32'>;
  for (const [tokenizer, encoder] of [
    [c.tokenizer, c.text_encoder],
    [c.tokenizer_2, c.text_encoder_2],
  ] as const) {
    const maxLength = tokenizer.modelMaxLength;
    const { inputIds } = tokenizer.encode([options.prompt], { padding: 'max_length', maxLength, truncation: true });
    tokenizer.encode([options.prompt], { padding: false, truncation: false }); // the truncation check
    const out = await encoder.encode(tokenIdsToTensor(inputIds), { hiddenStateIndex: -2 });
    hidden.push(out.hiddenState);
    pooled = out.pooled;
  }
  const promptEmbeds = concat(hidden, -1) as Tensor<'float32'>;
  const cfg = c.guider.numConditions > 1;
  const pairOf = (t: Tensor<'float32'>) => {
    const both = new Float32Array(2 * t.size);
    both.set(t.data);
    return new Tensor('float32', both, [2 * t.shape[0]!, ...t.shape.slice(1)]);
  };
  const encoderHiddenStates = cfg ? pairOf(promptEmbeds) : promptEmbeds;
  const textEmbeds = cfg ? pairOf(pooled) : pooled;
  const ids = [options.size, options.size, 0, 0, options.size, options.size];
  const timeIds = new Tensor('float32', Float32Array.from(cfg ? [...ids, ...ids] : ids), [cfg ? 2 : 1, 6]);

  // Schedule and noise.
  c.scheduler.setTimesteps(options.steps);
  const factor = 2 ** ((c.vae.config.block_out_channels as number[]).length - 1);
  const side = Math.trunc(options.size / factor);
  let latents = scaleInPlace(randnLatents([1, 4, side, side], options.generator), c.scheduler.initNoiseSigma);

  // Denoise: one UNet run per step on the stacked conditions, guidance, scheduler step.
  const rows = cfg ? 2 : 1;
  const stacked = new Float32Array(rows * latents.size);
  for (const [i, t] of Array.from(c.scheduler.timesteps).entries()) {
    const scaled = c.scheduler.scaleModelInput(latents, t);
    for (let k = 0; k < rows; k++) stacked.set(scaled.data as Float32Array, k * scaled.size);
    c.guider.setState(i, options.steps, t);
    const prediction = await c.unet.predict({
      sample: new Tensor('float32', stacked, [rows, ...latents.shape.slice(1)]),
      timestep: t,
      encoderHiddenStates,
      textEmbeds,
      timeIds,
    });
    const parts = split(prediction, 1, 0);
    const batches = c.guider.prepareInputs({});
    batches.forEach((batch, k) => (batch.noisePred = parts[k]));
    const noisePred = c.guider.call(batches).pred;
    latents = c.scheduler.step(noisePred, t, latents).prevSample as Tensor<'float32'>;
    options.onStep?.();
  }

  const decoded = await c.vae.decode(unscaleLatents(c.vae, latents));
  return c.image_processor.postprocess(decoded, { outputType: 'pil' });
}
