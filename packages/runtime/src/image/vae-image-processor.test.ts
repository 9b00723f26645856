import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { ImageInputError } from './image-errors.js';
import { denormalize, denormalizedToImages, roundHalfEven, tensorToImages } from './image-tensor.js';
import type { RgbImage } from './rgb-image.js';
import { VaeImageProcessor } from './vae-image-processor.js';

const f32 = Math.fround;

function makeImage(width: number, height: number, pixel: (x: number, y: number) => number[]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { width, height, channels: 3, data };
}
const at = (t: Tensor, n: number, c: number, y: number, x: number) => {
  const [, C, H, W] = t.shape as number[];
  return (t.data as Float32Array)[((n * C! + c) * H! + y) * W! + x]!;
};

describe('VaeImageProcessor config', () => {
  it('accepts diffusers snake_case and camelCase, and writes snake_case back', () => {
    const snake = VaeImageProcessor.fromConfig({ do_normalize: false, do_convert_grayscale: true, vae_scale_factor: 16, _class_name: 'VaeImageProcessor' });
    expect(snake.config).toMatchObject({ doNormalize: false, doConvertGrayscale: true, vaeScaleFactor: 16, resample: 'lanczos', doResize: true });
    const camel = new VaeImageProcessor({ doNormalize: false, doConvertGrayscale: true, vaeScaleFactor: 16 });
    expect(camel.config).toEqual(snake.config);
    expect(snake.toConfigDict()).toEqual({
      _class_name: 'VaeImageProcessor',
      do_resize: true,
      vae_scale_factor: 16,
      vae_latent_channels: 4,
      resample: 'lanczos',
      reducing_gap: null,
      do_normalize: false,
      do_binarize: false,
      do_convert_rgb: false,
      do_convert_grayscale: true,
    });
  });

  it('rejects contradictions and bad values, and records unknown keys', () => {
    expect(() => new VaeImageProcessor({ do_convert_rgb: true, do_convert_grayscale: true })).toThrow(/cannot both be true/);
    expect(() => new VaeImageProcessor({ do_normalize: false, doNormalize: true })).toThrow(/twice/);
    expect(() => new VaeImageProcessor({ resample: 'box' as never })).toThrow(/lanczos/);
    expect(() => new VaeImageProcessor({ vae_scale_factor: 0 })).toThrow(/positive integer/);
    expect(new VaeImageProcessor({ some_future_key: 1 }).unusedConfigKeys).toEqual(['some_future_key']);
  });
});

describe('VaeImageProcessor.preprocess', () => {
  it('scales to [0,1] and normalizes to [-1,1] in float32, NCHW', async () => {
    // A 2x2 image: black, mid grey 128, white, and (10, 200, 30).
    const image = makeImage(2, 2, (x, y) => [[0, 0, 0], [128, 128, 128], [255, 255, 255], [10, 200, 30]][y * 2 + x]!);
    const t = await new VaeImageProcessor({ vae_scale_factor: 1 }).preprocess(image);
    expect(t.shape).toEqual([1, 3, 2, 2]);
    expect(at(t, 0, 0, 0, 0)).toBe(-1);
    expect(at(t, 0, 2, 1, 0)).toBe(1);
    // 128: 2 * float32(128/255) - 1 in float32 (as numpy/torch compute it) = 0.00392162799835205,
    // the exact 1/255 = 0.0039215686... less than one float32 step at 1.0 (1.19e-7) away.
    expect(at(t, 0, 1, 0, 1)).toBe(f32(2 * f32(128 / 255) - 1));
    expect(at(t, 0, 1, 0, 1)).toBe(0.003921627998352051);
    expect(Math.abs(at(t, 0, 1, 0, 1) - 1 / 255)).toBeLessThan(1.2e-7);
    // Channel planes: (10, 200, 30) at x = 1, y = 1.
    expect([at(t, 0, 0, 1, 1), at(t, 0, 1, 1, 1), at(t, 0, 2, 1, 1)]).toEqual([10, 200, 30].map((v) => f32(2 * f32(v / 255) - 1)));
  });

  it('rounds the image size down to multiples of vae_scale_factor (get_default_height_width)', async () => {
    const processor = new VaeImageProcessor();
    const image = makeImage(20, 13, () => [50, 60, 70]);
    expect(processor.getDefaultHeightWidth(image)).toEqual({ height: 8, width: 16 });
    expect(processor.getDefaultHeightWidth(image, 33, 47)).toEqual({ height: 32, width: 40 });
    const t = await processor.preprocess(image);
    expect(t.shape).toEqual([1, 3, 8, 16]);
    // A flat colour stays flat through lanczos: 2*50/255 - 1 everywhere in channel 0.
    expect(new Set(t.data.subarray(0, 8 * 16))).toEqual(new Set([f32(2 * f32(50 / 255) - 1)]));
    expect(() => processor.getDefaultHeightWidth(image, 4)).toThrow(/rounds down to 0/);
  });

  it('leaves sizes alone when do_resize is false and requires one size per batch', async () => {
    const processor = new VaeImageProcessor({ do_resize: false });
    expect((await processor.preprocess(makeImage(5, 3, () => [1, 2, 3]))).shape).toEqual([1, 3, 3, 5]);
    await expect(processor.preprocess([makeImage(5, 3, () => [0, 0, 0]), makeImage(4, 3, () => [0, 0, 0])])).rejects.toThrow(/one size/);
  });

  it('batches images resized to the first image size', async () => {
    const t = await new VaeImageProcessor().preprocess([makeImage(16, 16, () => [0, 0, 0]), makeImage(32, 24, () => [255, 255, 255])]);
    expect(t.shape).toEqual([2, 3, 16, 16]);
    expect([at(t, 0, 0, 5, 5), at(t, 1, 2, 15, 15)]).toEqual([-1, 1]);
  });

  it('makes grayscale masks with PIL luma and binarizes at 0.5 (>= 0.5 -> 1)', async () => {
    // Luma: (10,20,30) -> 18; (127,127,127) -> 127 (0.498); (128,128,128) -> 128 (0.502).
    const image = makeImage(3, 1, (x) => [[10, 20, 30], [127, 127, 127], [128, 128, 128]][x]!);
    const gray = await new VaeImageProcessor({ vae_scale_factor: 1, do_normalize: false, do_convert_grayscale: true }).preprocess(image);
    expect(gray.shape).toEqual([1, 1, 1, 3]);
    expect(Array.from(gray.data)).toEqual([f32(18 / 255), f32(127 / 255), f32(128 / 255)]);
    const mask = await new VaeImageProcessor({ vae_scale_factor: 1, do_normalize: false, do_binarize: true, do_convert_grayscale: true }).preprocess(image);
    expect(Array.from(mask.data)).toEqual([0, 0, 1]);
  });

  it("resizes a diff-diff change map to latent size (the guide's mask_processor)", async () => {
    // 64x64, black left half, white right half -> 8x8 latents. Lanczos reaches 3 * 8 = 24 input pixels
    // from an output centre, so output column 0 (centre 4) sees only black and column 7 (centre 60) only white.
    const map = makeImage(64, 64, (x) => (x < 32 ? [0, 0, 0] : [255, 255, 255]));
    const processor = VaeImageProcessor.fromConfig({ do_normalize: false, do_convert_grayscale: true });
    const t = await processor.preprocess(map, { height: 8, width: 8 });
    expect(t.shape).toEqual([1, 1, 8, 8]);
    for (let y = 0; y < 8; y++) {
      expect(at(t, 0, 0, y, 0)).toBe(0);
      expect(at(t, 0, 0, y, 7)).toBe(1);
    }
    expect(at(t, 0, 0, 4, 3)).toBeLessThan(at(t, 0, 0, 4, 4));
  });

  it('normalizes a [0,1] tensor and passes a [-1,1] one through without a second normalize', async () => {
    const processor = new VaeImageProcessor({ vae_scale_factor: 1 });
    const unit = Tensor.float32([0, 0.25, 0.5, 1], [1, 1, 2, 2]);
    expect(Array.from((await processor.preprocess(unit)).data)).toEqual([-1, -0.5, 0, 1]);
    const signed = Tensor.float32([-1, -0.5, 0, 1], [1, 1, 2, 2]);
    expect(Array.from((await processor.preprocess(signed)).data)).toEqual([-1, -0.5, 0, 1]);
    // Told the range, the processor skips the min < 0 guess: zeros read as [-1,1] stay 0, as [0,1] become -1.
    expect(Array.from((await processor.preprocess(Tensor.float32([0, 0, 0, 0], [1, 1, 2, 2]), { tensorRange: '[-1,1]' })).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from((await processor.preprocess(Tensor.float32([0, 0, 0, 0], [1, 1, 2, 2]), { tensorRange: '[0,1]' })).data)).toEqual([-1, -1, -1, -1]);
    expect(Array.from(unit.data)).toEqual([0, 0.25, 0.5, 1]); // input untouched
  });

  it('returns latents (vae_latent_channels channels) untouched', async () => {
    const latents = Tensor.float32(new Array(4 * 3 * 3).fill(3), [1, 4, 3, 3]);
    expect(await new VaeImageProcessor().preprocess(latents)).toBe(latents);
  });

  it('resizes tensors with torch nearest, and batches CHW tensors', async () => {
    const data = Array.from({ length: 10 * 10 }, (_, i) => (i % 10) / 10);
    const t = await new VaeImageProcessor({ do_normalize: false }).preprocess(Tensor.float32(data, [1, 1, 10, 10]));
    // 10 -> 8: scale float32(1.25); column i reads floor(i * 1.25) = 0 1 2 3 5 6 7 8.
    expect(t.shape).toEqual([1, 1, 8, 8]);
    expect(Array.from(t.data.subarray(0, 8))).toEqual([0, 1, 2, 3, 5, 6, 7, 8].map((i) => f32(i / 10)));
    const chw = await new VaeImageProcessor({ vae_scale_factor: 1 }).preprocess([Tensor.float32([1, 1, 1], [3, 1, 1]), Tensor.float32([0, 0, 0], [3, 1, 1])]);
    expect(chw.shape).toEqual([2, 3, 1, 1]);
    expect(Array.from(chw.data)).toEqual([1, 1, 1, -1, -1, -1]);
    const gray = await new VaeImageProcessor({ vae_scale_factor: 1, do_convert_grayscale: true, do_normalize: false }).preprocess(Tensor.float32([0.2, 0.4], [2, 1, 1]));
    expect(gray.shape).toEqual([2, 1, 1, 1]);
  });

  it('rejects input it cannot read', async () => {
    const processor = new VaeImageProcessor();
    await expect(processor.preprocess('cat.png' as never)).rejects.toThrow(/loadImage/);
    await expect(processor.preprocess([])).rejects.toThrow(ImageInputError);
    await expect(processor.preprocess(new Tensor('int32', new Int32Array(4), [1, 1, 2, 2]))).rejects.toThrow(/float32/);
  });

  it("resizes like PIL: a 2x lanczos upscale of a hard edge overshoots and clips as PIL's does", async () => {
    // 0|255 step, 2 -> 4 wide (one row, vae_scale_factor 1). PIL lanczos at scale 0.5 has support 3,
    // cut to the 2 pixels; the kernel is read at (x - centre + 0.5). Output 0 (centre 0.25): L(0.25) =
    // 0.8900, L(1.25) = -0.1329, renormalised -> 255 * -0.1329 / 0.7572 < 0, clipped to 0 (the overshoot).
    // Output 1 (centre 0.75): L(-0.25) = 0.8900, L(0.75) = 0.2702 -> 255 * 0.2702 / 1.1602 = 59.4 -> 59.
    // By symmetry 196 and 255. (sharp's lanczos3 samples elsewhere and gives other values.)
    const step: RgbImage = { width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 255]) };
    const t = await new VaeImageProcessor({ vae_scale_factor: 1, do_normalize: false }).preprocess(step, { height: 1, width: 4 });
    expect(Array.from(t.data as Float32Array).map((v) => Math.round(v * 255))).toEqual([0, 59, 196, 255]);
  });

  it('takes reducing_gap from the config (PIL: null or >= 1) and resize modes for images only', async () => {
    expect(new VaeImageProcessor({ reducing_gap: 2 }).toConfigDict().reducing_gap).toBe(2);
    expect(() => new VaeImageProcessor({ reducing_gap: 0.5 })).toThrow(/>= 1/);
    const processor = new VaeImageProcessor({ vae_scale_factor: 1 });
    const image = makeImage(6, 3, () => [9, 9, 9]);
    await expect(processor.preprocess(image, { resizeMode: 'stretch' as never })).rejects.toThrow(/default, fill, crop/);
    const tensor = new Tensor('float32', new Float32Array(3 * 4), [1, 3, 2, 2]);
    await expect(processor.preprocess(tensor, { resizeMode: 'fill' })).rejects.toThrow(/images only/);
    await expect(processor.preprocess(tensor, { cropsCoords: [0, 0, 1, 1] })).rejects.toThrow(/images only/);
    await expect(processor.preprocess(image, { cropsCoords: [2, 2, 1, 1] })).rejects.toThrow(/empty/);
    // 'fill' and 'crop' give RGB, as diffusers pastes onto an RGB canvas, even from a grey image.
    const grey: RgbImage = { width: 6, height: 3, channels: 1, data: new Uint8Array(18).fill(40) };
    expect((await processor.preprocess(grey, { height: 4, width: 4, resizeMode: 'crop' })).shape).toEqual([1, 3, 4, 4]);
  });
});

describe('VaeImageProcessor.postprocess', () => {
  const decoded = Tensor.float32([-1, 0, 1, 2, -3, 0.5], [1, 1, 2, 3]);

  it("'pil' denormalizes, clamps and rounds like (x * 255).round()", () => {
    // (x/2 + 0.5).clamp(0,1) * 255: -1 -> 0; 0 -> 127.5 -> 128 (tie to even); 1 -> 255; 2 -> 255; -3 -> 0; 0.5 -> 191.25 -> 191.
    const [image] = new VaeImageProcessor().postprocess(decoded);
    expect(image).toEqual({ width: 3, height: 2, channels: 1, data: Uint8Array.from([0, 128, 255, 255, 0, 191]) });
  });

  it("'np' is NHWC in [0,1], 'pt' NCHW, 'latent' the input", () => {
    const processor = new VaeImageProcessor();
    const rgb = Tensor.float32([-1, 1, 0, 0, 1, -1], [1, 3, 1, 2]);
    const np = processor.postprocess(rgb, { outputType: 'np' });
    expect(np.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(np.data)).toEqual([0, 0.5, 1, 1, 0.5, 0]);
    const pt = processor.postprocess(rgb, { outputType: 'pt' });
    expect(pt.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(pt.data)).toEqual([0, 1, 0.5, 0.5, 1, 0]);
    expect(processor.postprocess(rgb, { outputType: 'latent' })).toBe(rgb);
  });

  it('denormalizes per image as told, or not at all when do_normalize is off', () => {
    const batch = Tensor.float32([0, 0.5], [2, 1, 1, 1]);
    const images = new VaeImageProcessor().postprocess(batch, { doDenormalize: [false, true] });
    expect(images.map((i) => i.data[0])).toEqual([0, 191]); // 0 * 255; (0.5/2 + 0.5) * 255 = 191.25
    const raw = new VaeImageProcessor({ do_normalize: false }).postprocess(batch, { outputType: 'np' });
    expect(Array.from(raw.data)).toEqual([0, 0.5]);
    expect(() => new VaeImageProcessor().postprocess(batch, { doDenormalize: [true] })).toThrow(/one per image/);
  });

  it('round-trips every 8-bit value through preprocess and postprocess', async () => {
    const image = makeImage(16, 16, (x, y) => [y * 16 + x, 255 - (y * 16 + x), (x * 37 + y) % 256]);
    const processor = new VaeImageProcessor();
    const [back] = processor.postprocess(await processor.preprocess(image));
    expect(back).toEqual(image);
  });

  it('rejects tensors it cannot turn into images', () => {
    const processor = new VaeImageProcessor();
    expect(() => processor.postprocess(Tensor.float32(new Array(8).fill(0), [1, 4, 1, 2]))).toThrow(/'np' or 'pt'/);
    expect(() => processor.postprocess(Tensor.float32([0, 0], [2]))).toThrow(/NCHW/);
    expect(() => processor.postprocess(decoded, { outputType: 'jpg' as never })).toThrow(/outputType/);
  });
});

describe('roundHalfEven (numpy round)', () => {
  it('sends ties to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, 126.5, 127.5, 191.25, -2.5].map(roundHalfEven)).toEqual([0, 2, 2, 126, 128, 191, -2]);
  });
});

describe('the one-pass pil postprocess', () => {
  it('gives the same bytes as denormalize then tensorToImages, ties and clamping included', () => {
    const n = 2 * 3 * 16 * 16;
    const values = new Float32Array(n);
    // Random values beyond [-1, 1], plus exact ties: x whose (x * 0.5 + 0.5) * 255 lands on k + 0.5.
    let seed = 7;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      values[i] = i % 7 === 0 ? ((((i % 255) + 0.5) / 255) - 0.5) * 2 : (seed / 2147483648) * 2.4 - 1.2;
    }
    const tensor = new Tensor('float32', values, [2, 3, 16, 16]);
    for (const which of [[true, true], [true, false]]) {
      const fused = denormalizedToImages(tensor, which);
      const twoPass = tensorToImages(denormalize(tensor, which));
      fused.forEach((image, b) => expect(Buffer.from(image.data).equals(Buffer.from(twoPass[b]!.data))).toBe(true));
    }
  });
});

describe('tensor to bytes rounding', () => {
  // numpy: (x * 255).round().astype('uint8'): x * 255 in float32, ties to even, then modulo 256 (what a Uint8Array store does).
  const reference = (x: number) => {
    return Uint8Array.of(roundHalfEven(Math.fround(x * 255)))[0]!;
  };

  it('rounds every exact tie k + 0.5 (k = 0..254) to the even neighbour, as numpy does', () => {
    const ties = Array.from({ length: 255 }, (_, k) => (k + 0.5) / 255).filter((x) => Math.fround(Math.fround(x) * 255) % 1 === 0.5);
    expect(ties.length).toBeGreaterThan(100);
    const [image] = tensorToImages(Tensor.float32(ties, [1, 1, 1, ties.length]));
    expect(Array.from(image!.data)).toEqual(ties.map(reference));
    expect(image!.data[0]).toBe(0); // 0.5 -> 0
    expect(reference(1.5 / 255)).toBe(2); // 1.5 -> 2
  });

  it('gives the reference bytes for out-of-range, huge, negative and NaN values', () => {
    const odd = [-1, -0.5 / 255, -2.5 / 255, 1.2, 3.5 / 255, 1e30, -1e30, 2 ** 45, NaN, Infinity, -0, 254.5 / 255, 1];
    const [image] = tensorToImages(Tensor.float32(odd, [1, 1, 1, odd.length]));
    expect(Array.from(image!.data)).toEqual(odd.map(reference));
  });

  it('denormalizes, clamps and rounds like the per-value reference on 3 channels, interleaved', () => {
    const plane = 64;
    const values = Array.from({ length: 3 * plane }, (_, i) => Math.sin(i * 12.9898) * 1.3);
    values[5] = NaN;
    const [image] = denormalizedToImages(Tensor.float32(values, [1, 3, 8, 8]), [true]);
    const expected: number[] = [];
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.fround(Math.fround(values[c * plane + p]!) * 0.5 + 0.5);
        expected.push(reference(Number.isNaN(v) ? v : Math.min(1, Math.max(0, v))));
      }
    }
    expect(Array.from(image!.data)).toEqual(expected);
    // One channel: three gray images, the per-plane path.
    const gray = denormalizedToImages(Tensor.float32(values, [3, 1, 8, 8]), [true, true, true]);
    const grayExpected = values.map((x) => {
      const v = Math.fround(Math.fround(x) * 0.5 + 0.5);
      return reference(Number.isNaN(v) ? v : Math.min(1, Math.max(0, v)));
    });
    expect(gray.flatMap((g) => Array.from(g.data))).toEqual(grayExpected);
  });
});
