import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MissingInputError, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, OnnxModel, div, type PipelineImage, type Tensor } from '@modular-diffusers/runtime';
import { blackLeftWhiteRight, changeMap, horizontalGradient, RED, solid } from '../test/images.js';
import { recordLoopLatents } from '../test/loop-recorder.js';
import { createTinyRepo, type TinyRepoFixture } from '../test/tiny-repo.js';
import { DiffDiffInputError } from './errors.js';
import { DIFFDIFF_BLOCKS } from './presets.js';

// DIFFDIFF_BLOCKS on the tiny SDXL repo (runtime/src/tiny-sdxl/README.md): 64x64 images, 8x8 latents.
// Its UNet predicts the noise that takes any latent x to a prompt colour c (x0 = c), so
// Euler keeps every latent on  x_i = c + (x_start - c) * sigma_i / sigma_start + noise * sigma_i.
// That makes the diff-diff rule visible: a held pixel sits on the noised original, a free one
// drifts to c. (It also means the very last step, to sigma 0, lands every pixel on c, held or
// not, so the freezing is checked on the latents each step starts from.)

const SIZE = 64;
const LATENT = 8;
const STEPS = 25;

let repo: TinyRepoFixture;
let dd: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  dd = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS), { collection: 'diffdiff' });
});
afterAll(() => repo.dispose());

const base = { prompt: 'a green pear', negative_prompt: 'blurry', image: solid(SIZE), num_inference_steps: STEPS };

/** Latent value of batch item 0 at (channel, y, x); `step` indexes the leading axis of original_latents [n, 1, 4, 8, 8]. */
const at = (t: Tensor<'float32'>, c: number, y: number, x: number, step = 0) => t.data[step * 4 * LATENT * LATENT + (c * LATENT + y) * LATENT + x]!;

/** Mean 8-bit RGB of image columns [x0, x1) of a decoded NCHW tensor, clipped to [-1, 1] as the decode step's postprocess does. */
function meanRgb(decoded: Tensor<'float32'>, x0: number, x1: number): number[] {
  const plane = SIZE * SIZE;
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let y = 0; y < SIZE; y++) for (let x = x0; x < x1; x++) sum += Math.min(1, Math.max(-1, decoded.data[c * plane + y * SIZE + x]!));
    return (((sum / (SIZE * (x1 - x0)) + 1) / 2) * 255);
  });
}

function imageMeanRgb(image: PipelineImage, x0: number, x1: number): number[] {
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let y = 0; y < SIZE; y++) for (let x = x0; x < x1; x++) sum += image.data[(y * SIZE + x) * 3 + c]!;
    return sum / (SIZE * (x1 - x0));
  });
}

const maxAbsDiff = (a: number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('the diff-diff pipeline inputs', () => {
  it('lists diffdiff_map as a required user input in doc, and no latent_timestep', () => {
    expect(dd.doc).toContain('diffdiff_map (`Any`):');
    const map = dd.blocks.inputs.find((p: { name: string }) => p.name === 'diffdiff_map');
    expect(map?.required).toBe(true);
    expect(dd.blocks.inputs.map((p: { name: string }) => p.name)).not.toContain('latent_timestep');
    expect(dd.blocks.inputs.map((p: { name: string }) => p.name)).not.toContain('strength');
    expect(dd.componentNames).toContain('mask_processor');
    expect(dd.mask_processor.config.doNormalize).toBe(false);
    expect(dd.mask_processor.config.doConvertGrayscale).toBe(true);
  });

  it('fails without diffdiff_map, naming the input and the block', async () => {
    const error = await dd.run({ ...base, num_inference_steps: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingInputError);
    expect((error as Error).message).toContain("Required input 'diffdiff_map' is missing for block SDXLDiffDiffPrepareLatentsStep");
    expect((error as MissingInputError).blockPath).toEqual(['prepare_latents']);
  });

  it('rejects a change map that is not an image before any model runs', async () => {
    const runs = vi.spyOn(OnnxModel.prototype, 'run');
    await expect(dd.run({ ...base, diffdiff_map: 'mask.png' })).rejects.toThrow(DiffDiffInputError);
    await expect(dd.run({ ...base, diffdiff_map: [changeMap(SIZE, () => 0), changeMap(SIZE, () => 0)] })).rejects.toThrow(/one change map/);
    expect(runs).not.toHaveBeenCalled();
    runs.mockRestore();
  });
});

describe('the change map freezes regions', () => {
  it('holds white on the noised original at every step and denoises black from the first step', async () => {
    const recording = recordLoopLatents();
    const out = await dd.run({ ...base, diffdiff_map: blackLeftWhiteRight(SIZE), generator: new Generator(7), output: ['original_latents', 'diffdiff_masks', 'images'] });
    recording.restore();
    const original = out.original_latents as Tensor<'float32'>;
    const masks = out.diffdiff_masks as Tensor<'bool'>;
    expect(original.shape).toEqual([STEPS, 1, 4, LATENT, LATENT]);
    expect(masks.shape).toEqual([STEPS, LATENT, LATENT]);
    expect(recording.before).toHaveLength(STEPS);

    // The processor resizes the 64-px map to 8 latent columns with Lanczos, as diffusers' PIL resize
    // does, so the two columns at the edge come out 0.055 and 0.945; the rest are 0 (< 0.004) or 1 (> 0.99).
    const held = (i: number, y: number, x: number) => masks.data[(i * LATENT + y) * LATENT + x] === 1;
    const wrong: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      for (let y = 0; y < LATENT; y++) {
        for (let x = 0; x < LATENT; x++) {
          if (x <= 2 && i > 0 && held(i, y, x)) wrong.push(`black column ${x} held at step ${i}`);
          if (x >= 5 && !held(i, y, x)) wrong.push(`white column ${x} released at step ${i}`);
          for (let c = 0; c < 4; c++) {
            const entering = at(recording.before[i]!, c, y, x);
            // Step 0 starts everywhere from the image noised to the first timestep; after that a held pixel
            // is put back on original_latents[i] and a released one keeps what the previous step produced.
            const expected = i === 0 || held(i, y, x) ? at(original, c, y, x, i) : at(recording.after[i - 1]!, c, y, x);
            if (entering !== expected) wrong.push(`step ${i} (${c}, ${y}, ${x}): ${entering} != ${expected}`);
            if (i > 0 && !held(i, y, x) && Math.abs(entering - at(original, c, y, x, i)) < 1e-3) wrong.push(`step ${i} released (${c}, ${y}, ${x}) sits on the original`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    for (let x = 0; x < LATENT; x++) expect(held(1, 0, x)).toBe(x >= 3); // the 0.055 column is held for steps 0 and 1 (> 1/25)
    expect(held(STEPS - 1, 0, 4)).toBe(false); // and the 0.945 column is let go at the last step (< 24/25)

    // What the last step starts from, decoded, away from the blurred edge: the white side is the input's
    // red (its noise is sigma(t=1) ~ 0.04 in latent units, about 3 levels per pixel and well under 1 level
    // on the mean of a region), the black side is the prompt colour the run ends on.
    const preview = await dd.vae.decode(div(recording.before[STEPS - 1]!, dd.vae.config.scaling_factor ?? 0.13025));
    const promptColour = imageMeanRgb(out.images[0], 0, 24);
    expect(maxAbsDiff(meanRgb(preview, 40, SIZE), RED)).toBeLessThan(2);
    expect(maxAbsDiff(meanRgb(preview, 0, 24), promptColour)).toBeLessThan(2);
    expect(maxAbsDiff(promptColour, RED)).toBeGreaterThan(40); // the two colours are told apart
  });

  it('gives a gradient map intermediate amounts of change, monotonic across x', async () => {
    // Same seed for all three runs, so the noise term cancels in (gradient - black) / (white - black):
    // 0 where a pixel changes like black, 1 where it is held like white.
    const enteringLatents = async (value: (x: number) => number) => {
      const recording = recordLoopLatents();
      await dd.run({ ...base, diffdiff_map: changeMap(SIZE, value), generator: new Generator(3), output_type: 'latent', output: 'images' });
      recording.restore();
      return recording.before;
    };
    const gradient = await enteringLatents((x) => horizontalGradient(SIZE).data[x]!);
    const black = await enteringLatents(() => 0);
    const white = await enteringLatents(() => 255);

    /** Per latent column: the projection of (gradient - black) on (white - black) over channels and rows. */
    const heldFraction = (i: number) =>
      Array.from({ length: LATENT }, (_, x) => {
        let dot = 0;
        let norm = 0;
        for (let c = 0; c < 4; c++) {
          for (let y = 0; y < LATENT; y++) {
            const span = at(white[i]!, c, y, x) - at(black[i]!, c, y, x);
            dot += (at(gradient[i]!, c, y, x) - at(black[i]!, c, y, x)) * span;
            norm += span * span;
          }
        }
        return dot / norm;
      });

    for (let i = 1; i < STEPS; i++) {
      const fraction = heldFraction(i);
      fraction.forEach((f) => expect(f).toBeGreaterThan(-1e-3));
      fraction.forEach((f) => expect(f).toBeLessThan(1 + 1e-3));
      for (let x = 1; x < LATENT; x++) expect(fraction[x]!).toBeGreaterThanOrEqual(fraction[x - 1]! - 1e-3);
    }
    const middle = heldFraction(Math.floor(STEPS / 2));
    expect(middle[LATENT - 1]).toBeCloseTo(1, 3); // the brightest column is still held half-way
    expect(middle[0]!).toBeLessThan(0.2); // the darkest was released at once
    expect(middle.filter((f) => f > 0.02 && f < 0.98).length).toBeGreaterThanOrEqual(2);
  });
});
