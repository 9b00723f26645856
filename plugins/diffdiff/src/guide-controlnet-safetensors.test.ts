/**
 * The developer guide's "Working with ControlNets" section as written (TypeScript casing), on
 * the formats people publish: an SDXL repo laid out like stabilityai's (an ONNX UNet export
 * without ControlNet residual inputs beside the diffusers weights) that ships a diffusers
 * ControlNet folder (config.json + safetensors, no ONNX) as `controlnet/`, as the guide's
 * modular repo lists one. No capable UNet export and no loader option: the ControlNet is built
 * and the UNet rebuilt from its weights with residual inputs at the first step. The models are
 * diffusers' own classes with random weights (packages/sdxl/fixtures/real-arch and
 * fixtures/adapters/controlnet); the pictures are drawn. What is checked: the section's blocks run to an image, the
 * ControlNet moves the result (scale 0.5 against 0), the held (white) region of the change
 * map keeps following the original, and DIFFDIFF_AUTO_BLOCKS takes the same ControlNet branch.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, type Logger } from '@modular-diffusers/core';
import { Generator, type RgbImage, type Tensor } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, StableDiffusionXLAutoIPAdapterStep, StableDiffusionXLControlNetAutoInput, registerSdxlComponentLoaders } from '@modular-diffusers/sdxl';
import { releaseComponents } from '../test/tiny-repo.js';
import { SDXLDiffDiffControlNetDenoiseLoop } from './denoise-loops.js';
import { DIFFDIFF_AUTO_BLOCKS, DIFFDIFF_BLOCKS } from './presets.js';

const SDXL_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages', 'sdxl', 'fixtures');
const SIZE = 128;

let base: string;
let repoDir: string;
let images: { image: RgbImage; controlImage: RgbImage; mask: RgbImage };
const lines: string[] = [];
const pipes: Array<{ components: Record<string, unknown> }> = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'diffdiff-controlnet-'));
  repoDir = join(base, 'repo');
  await cp(join(SDXL_FIXTURES, 'real-arch', 'repo'), repoDir, { recursive: true });
  await cp(join(SDXL_FIXTURES, 'adapters', 'controlnet', 'controlnet-tiny-sdxl'), join(repoDir, 'controlnet'), { recursive: true });
  // Drawn pictures at a size the change map keeps (sides a multiple of 64): an apple-ish picture,
  // a stripe pattern as the control image (a canny map stands in the guide), the guide's gradient map.
  const picture = (pixel: (x: number, y: number) => [number, number, number]): RgbImage => {
    const data = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data.set(pixel(x, y), (y * SIZE + x) * 3);
    return { width: SIZE, height: SIZE, channels: 3, data };
  };
  images = {
    image: picture((x, y) => ((x - 64) ** 2 + (y - 70) ** 2 < 40 ** 2 ? [196, 30, 40] : [235, 225, 205])),
    controlImage: picture((x, y) => (Math.floor((x + y) / 8) % 2 === 0 ? [255, 255, 255] : [0, 0, 0])),
    mask: { width: SIZE, height: SIZE, channels: 1, data: Uint8Array.from({ length: SIZE * SIZE }, (_, p) => Math.round(255 * Math.min(1, Math.max(0, (0.6 - (p % SIZE) / (SIZE - 1)) / 0.2)))) },
  };
});
afterAll(async () => {
  for (const pipe of pipes) await releaseComponents(pipe);
  await rm(base, { recursive: true, force: true });
});

const logger: Logger = { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`) };

function initPipeline(blocks: SequentialPipelineBlocks): any {
  const pipe = (blocks as any).initPipeline(repoDir, {
    collection: 'diffdiff',
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger,
  });
  pipes.push(pipe);
  return pipe;
}

const call = (scale: number) => ({
  prompt: 'a green pear',
  negative_prompt: 'blurry',
  num_inference_steps: 25,
  generator: new Generator(42),
  control_image: images.controlImage,
  controlnet_conditioning_scale: scale,
  diffdiff_map: images.mask,
  image: images.image,
});

/** max |a - b| over latent columns [x0, x1) of [1, 4, h, w] latents. */
function columnsDiff(a: Tensor<'float32'>, b: Tensor<'float32'>, x0: number, x1: number): number {
  const [h, w] = a.shape.slice(2) as [number, number];
  let diff = 0;
  for (let c = 0; c < 4; c++) for (let y = 0; y < h; y++) for (let x = x0; x < x1; x++) diff = Math.max(diff, Math.abs(a.data[(c * h + y) * w + x]! - b.data[(c * h + y) * w + x]!));
  return diff;
}

describe("the guide's ControlNet section on a diffusers ControlNet folder", () => {
  it('dd_blocks (ip_adapter at 0, controlnet_input at 7) with SDXLDiffDiffControlNetDenoiseLoop run to an image; the ControlNet moves the changed region', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    // The guide's IP-Adapter section, just before, put its block at 0 (it skips itself without ip_adapter_image).
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    ddBlocks.blocks.insert('controlnet_input', new StableDiffusionXLControlNetAutoInput(), 7);
    ddBlocks.blocks.set('denoise', new SDXLDiffDiffControlNetDenoiseLoop());
    const ddPipeline = initPipeline(ddBlocks);
    await ddPipeline.loadComponents({ torchDtype: 'float16' });
    expect(lines.some((l) => l.startsWith('controlnet: no ONNX export, built an ONNX graph'))).toBe(true);

    const [image] = (await ddPipeline({ ...call(0.5), output: 'images' })) as RgbImage[];
    expect([image!.width, image!.height]).toEqual([SIZE, SIZE]);
    expect(lines.filter((l) => l.startsWith('unet: rebuilt with ControlNet residual inputs'))).toHaveLength(1);

    const controlled = (await ddPipeline({ ...call(0.5), output: 'latents' })) as Tensor<'float32'>;
    const unscaled = (await ddPipeline({ ...call(0), output: 'latents' })) as Tensor<'float32'>;
    // The black (changed) right part follows the ControlNet; the white left part is held on the original.
    const changed = columnsDiff(controlled, unscaled, 12, 16);
    const held = columnsDiff(controlled, unscaled, 0, 4);
    expect(changed).toBeGreaterThan(0.1);
    expect(held).toBeLessThan(changed / 10);
  });

  it('DIFFDIFF_AUTO_BLOCKS runs the ControlNet denoise loop when control_image is given', async () => {
    const ddPipeline = initPipeline(SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_AUTO_BLOCKS));
    await ddPipeline.loadComponents({ torchDtype: 'float16' });
    const controlled = (await ddPipeline({ ...call(0.5), output: 'latents' })) as Tensor<'float32'>;
    const { control_image: _image, controlnet_conditioning_scale: _scale, ...plain } = call(0.5);
    const without = (await ddPipeline({ ...plain, output: 'latents' })) as Tensor<'float32'>;
    expect(columnsDiff(controlled, without, 12, 16)).toBeGreaterThan(0.1);
  });
});
