/**
 * PIL's `Image.resize` for 8-bit 'RGB' and 'L' images, bit for bit: a
 * separable convolution in 22-bit fixed point, horizontal pass first (rounded
 * to 8 bits before the vertical pass), and NEAREST as a scaled affine
 * transform. diffusers resizes every PIL input this way, so img2img and
 * inpaint on an image of another size only match diffusers with this.
 *
 * Written from the description of Pillow's `libImaging/Resample.c` and
 * `Geometry.c` (9.x and later agree); checked against PIL 9.4.0's own output
 * in `fixtures/pil-resize` (see tools/reference/pil-resize).
 */
import { ImageInputError } from './image-errors.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

/** The PIL filters diffusers' `PIL_INTERPOLATION` can name. */
export type PilFilter = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

/**
 * The source rectangle PIL's `resize(box=...)` reads: left, top, right,
 * bottom in pixels, fractional allowed. PIL holds it in C floats, so the
 * values are rounded to float32 first, as there.
 */
export type PilBox = readonly [left: number, top: number, right: number, bottom: number];

interface Kernel {
  support: number;
  weight: (x: number) => number;
}

const sinc = (x: number): number => {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
};

const KERNELS: Record<Exclude<PilFilter, 'nearest'>, Kernel> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const ax = x < 0 ? -x : x;
      return ax < 1 ? 1 - ax : 0;
    },
  },
  // Keys' cubic with a = -0.5, the polynomials in the order PIL evaluates them.
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const ax = x < 0 ? -x : x;
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  // Lanczos-3, the window open at its right end like PIL's.
  lanczos: { support: 3, weight: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Fixed-point bits of a coefficient: 32 minus 8 for the pixel, minus 2 for overshoot. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output pixel: the first source pixel, how many it reads, and their fixed-point weights (`taps` apart). */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  taps: number;
}

/**
 * The weights of one axis. The kernel is stretched by the downscale factor,
 * centred on each output pixel's centre in source coordinates, cut to the
 * source pixels whose rounded window it covers, normalised to sum 1 over
 * them (so the border renormalises) and rounded half away from zero to
 * 22-bit integers.
 */
function coefficients(inSize: number, in0: number, in1: number, outSize: number, kernel: Kernel): Coefficients {
  // The box edges are C floats; their difference is taken in float too.
  const scale = Math.fround(in1 - in0) / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = kernel.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const raw = new Float64Array(taps);
  const inverse = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const w = kernel.weight((x + xmin - center + 0.5) * inverse);
      raw[x] = w;
      sum += w;
    }
    const row = xx * taps;
    for (let x = 0; x < n; x++) {
      const w = sum !== 0 ? raw[x]! / sum : raw[x]!;
      weights[row + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = n;
  }
  return { first, count, weights, taps };
}

/** The fixed-point sum back to a byte: floor division by 2^22, clipped to 0..255. */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over source rows [rowStart, rowStart + rows). */
function resampleRows(src: RgbImage, rowStart: number, rows: number, outWidth: number, c: Coefficients): Uint8Array {
  const { channels, width: inWidth, data } = src;
  const out = new Uint8Array(outWidth * rows * channels);
  const { first, count, weights, taps } = c;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (rowStart + y) * inWidth * channels;
    if (channels === 3) {
      for (let xx = 0; xx < outWidth; xx++) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        const n = count[xx]!;
        const k = xx * taps;
        let p = rowBase + first[xx]! * 3;
        for (let x = 0; x < n; x++, p += 3) {
          const w = weights[k + x]!;
          s0 += data[p]! * w;
          s1 += data[p + 1]! * w;
          s2 += data[p + 2]! * w;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      }
    } else {
      for (let xx = 0; xx < outWidth; xx++) {
        let s = HALF;
        const n = count[xx]!;
        const k = xx * taps;
        const p = rowBase + first[xx]!;
        for (let x = 0; x < n; x++) s += data[p + x]! * weights[k + x]!;
        out[o++] = clip8(s);
      }
    }
  }
  return out;
}

/** Vertical pass; `rowOffset` is subtracted from the source rows (the horizontal pass kept only the rows used). */
function resampleColumns(data: Uint8Array, rowLength: number, outHeight: number, rowOffset: number, c: Coefficients): Uint8Array {
  const out = new Uint8Array(rowLength * outHeight);
  const sums = new Int32Array(rowLength);
  const { first, count, weights, taps } = c;
  for (let yy = 0; yy < outHeight; yy++) {
    sums.fill(HALF);
    const n = count[yy]!;
    const k = yy * taps;
    const start = first[yy]! - rowOffset;
    // Row by row, so every read runs along memory; two rows per sweep halves the updates of `sums`.
    let y = 0;
    for (; y + 1 < n; y += 2) {
      const w0 = weights[k + y]!;
      const w1 = weights[k + y + 1]!;
      const base0 = (start + y) * rowLength;
      const base1 = base0 + rowLength;
      for (let i = 0; i < rowLength; i++) sums[i]! += data[base0 + i]! * w0 + data[base1 + i]! * w1;
    }
    if (y < n) {
      const w = weights[k + y]!;
      const base = (start + y) * rowLength;
      for (let i = 0; i < rowLength; i++) sums[i]! += data[base + i]! * w;
    }
    const o = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[o + i] = clip8(sums[i]!);
  }
  return out;
}

/**
 * NEAREST: PIL's scaled affine transform. Source positions start at
 * `left + step / 2` and advance by repeated addition of `step` in doubles
 * (not `(x + 0.5) * step`), then truncate; a position outside the image gives 0.
 */
function nearest(src: RgbImage, width: number, height: number, box: PilBox): RgbImage {
  const { channels } = src;
  const stepX = Math.fround(box[2] - box[0]) / width;
  const stepY = Math.fround(box[3] - box[1]) / height;
  const columns = new Int32Array(width);
  let xo = box[0] + stepX * 0.5;
  for (let x = 0; x < width; x++) {
    columns[x] = xo < 0 ? -1 : Math.trunc(xo);
    xo += stepX;
  }
  const out = new Uint8Array(width * height * channels);
  let yo = box[1] + stepY * 0.5;
  for (let y = 0; y < height; y++) {
    const yi = yo < 0 ? -1 : Math.trunc(yo);
    yo += stepY;
    if (yi < 0 || yi >= src.height) continue;
    const rowBase = yi * src.width * channels;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      const xi = columns[x]!;
      if (xi < 0 || xi >= src.width) continue;
      const p = rowBase + xi * channels;
      out[o] = src.data[p]!;
      if (channels === 3) {
        out[o + 1] = src.data[p + 1]!;
        out[o + 2] = src.data[p + 2]!;
      }
    }
  }
  return { width, height, channels, data: out };
}

function crop(src: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const { channels } = src;
  const out = new Uint8Array(width * height * channels);
  const rowBytes = width * channels;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * src.width + left) * channels;
    out.set(src.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width, height, channels, data: out };
}

/** Throws unless `box` is four finite numbers. */
export function assertPilBox(box: unknown): asserts box is PilBox {
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ImageInputError(`A resize box is [left, top, right, bottom] in pixels, got ${JSON.stringify(box)}.`);
  }
}

function checkedBox(image: RgbImage, box: PilBox | undefined): PilBox {
  if (box === undefined) return [0, 0, image.width, image.height];
  assertPilBox(box);
  const [left, top, right, bottom] = box.map((v) => Math.fround(v)) as [number, number, number, number];
  if (left < 0 || top < 0) throw new ImageInputError(`The resize box ${JSON.stringify(box)} starts outside the image; left and top must be >= 0.`);
  if (right > image.width || bottom > image.height) {
    throw new ImageInputError(`The resize box ${JSON.stringify(box)} ends outside the ${image.width}x${image.height} image.`);
  }
  if (right - left < 0 || bottom - top < 0) {
    throw new ImageInputError(`The resize box ${JSON.stringify(box)} is inside out; right must be >= left and bottom >= top.`);
  }
  return [left, top, right, bottom];
}

/**
 * `image.resize((width, height), resample=filter, box=box)` of PIL on an
 * 'RGB' or 'L' image, with the same bytes as PIL's result. Returns a new
 * image (a copy when nothing changes, as PIL does).
 */
export function resamplePil(image: RgbImage, width: number, height: number, filter: PilFilter, box?: PilBox): RgbImage {
  assertRgbImage(image);
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ImageInputError(`Cannot resize to ${name} ${value}: it must be a positive integer.`);
    }
  }
  if (filter !== 'nearest' && !(filter in KERNELS)) {
    throw new ImageInputError(`Unknown PIL filter '${String(filter)}'; use one of nearest, bilinear, bicubic, lanczos.`);
  }
  const [left, top, right, bottom] = checkedBox(image, box);
  // An integer box of exactly the output size is a crop, for every filter.
  if (Number.isInteger(left) && Number.isInteger(top) && right - left === width && bottom - top === height) {
    return crop(image, left, top, width, height);
  }
  if (filter === 'nearest') return nearest(image, width, height, [left, top, right, bottom]);

  const kernel = KERNELS[filter];
  const { channels } = image;
  const needHorizontal = width !== image.width || left !== 0 || right !== width;
  const needVertical = height !== image.height || top !== 0 || bottom !== height;
  const vertical = coefficients(image.height, top, bottom, height, kernel);
  // Only the source rows some output row reads go through the horizontal pass.
  const firstRow = vertical.first[0]!;
  const lastRow = vertical.first[height - 1]! + vertical.count[height - 1]!;

  let data = image.data;
  let rowOffset = 0;
  let rows = image.height;
  let rowWidth = image.width;
  if (needHorizontal) {
    const horizontal = coefficients(image.width, left, right, width, kernel);
    rows = needVertical ? lastRow - firstRow : height;
    const start = needVertical ? firstRow : 0;
    data = resampleRows(image, start, rows, width, horizontal);
    rowOffset = start;
    rowWidth = width;
  }
  if (needVertical) {
    data = resampleColumns(data, rowWidth * channels, height, rowOffset, vertical);
  } else if (!needHorizontal) {
    data = data.slice();
  }
  return { width, height, channels, data };
}
