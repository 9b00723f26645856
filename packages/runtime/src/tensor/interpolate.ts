/**
 * torch.nn.functional.interpolate for 4-D [N, C, H, W] float32 tensors,
 * modes 'nearest', 'nearest-exact' and 'bilinear'. Per output index `i`,
 * with `scale = in / out` (or `1 / scaleFactor` when a scale factor is
 * given), all in float32 as PyTorch's CPU kernels compute it:
 *
 * - nearest:        src = min(floor(i * scale), in - 1)
 *                   (out == in copies; out == 2 * in uses i >> 1)
 * - nearest-exact:  src = min(floor((i + 0.5) * scale), in - 1)
 * - bilinear, alignCorners false (default):
 *                   x = max(scale * (i + 0.5) - 0.5, 0)
 *   alignCorners true: x = i * (in - 1) / (out - 1)
 *                   x0 = min(floor(x), in - 1), x1 = min(x0 + 1, in - 1),
 *                   l1 = clamp(x - x0, 0, 1), l0 = 1 - l1
 *   value = (v[y0,x0] l0x + v[y0,x1] l1x) l0y + (v[y1,x0] l0x + v[y1,x1] l1x) l1y
 *
 * Bilinear results agree with PyTorch to float32 rounding (its compiled
 * kernel may fuse the last multiply-add).
 */
import { Tensor, TensorShapeError, expectDType } from './tensor.js';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear';

export interface InterpolateOptions {
  /** Output [height, width]. Give this or scaleFactor. */
  size?: readonly [number, number];
  /** Output = floor(input * scaleFactor), per axis or for both. */
  scaleFactor?: number | readonly [number, number];
  /** Default 'nearest', as in PyTorch. */
  mode?: InterpolateMode;
  /** Bilinear only; default false. */
  alignCorners?: boolean;
}

interface AxisPlan {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

function axisScale(input: number, output: number, factor: number | undefined): number {
  return factor !== undefined && factor > 0 ? Math.fround(1 / factor) : Math.fround(input / output);
}

function planAxis(input: number, output: number, factor: number | undefined, mode: InterpolateMode, alignCorners: boolean): AxisPlan {
  const plan: AxisPlan = {
    i0: new Int32Array(output),
    i1: new Int32Array(output),
    w0: new Float32Array(output).fill(1),
    w1: new Float32Array(output),
  };
  const scale = axisScale(input, output, factor);
  for (let i = 0; i < output; i++) {
    if (mode === 'nearest') {
      const src =
        output === input ? i : output === 2 * input ? i >> 1 : Math.min(Math.floor(Math.fround(i * scale)), input - 1);
      plan.i0[i] = plan.i1[i] = src;
    } else if (mode === 'nearest-exact') {
      plan.i0[i] = plan.i1[i] = Math.min(Math.floor(Math.fround((i + 0.5) * scale)), input - 1);
    } else if (output === input) {
      plan.i0[i] = plan.i1[i] = i;
    } else {
      let x: number;
      if (alignCorners) {
        const ratio = output > 1 ? Math.fround((input - 1) / (output - 1)) : 0;
        x = Math.fround(ratio * i);
      } else {
        x = Math.fround(Math.fround(scale * Math.fround(i + 0.5)) - 0.5);
        if (x < 0) x = 0;
      }
      const x0 = Math.min(Math.floor(x), input - 1);
      const l1 = Math.min(Math.max(Math.fround(x - x0), 0), 1);
      plan.i0[i] = x0;
      plan.i1[i] = x0 < input - 1 ? x0 + 1 : x0;
      plan.w1[i] = l1;
      plan.w0[i] = Math.fround(1 - l1);
    }
  }
  return plan;
}

function outputSize(input: number, size: number | undefined, factor: number | undefined, axis: string): number {
  const out = size ?? Math.floor(input * (factor ?? NaN));
  if (!Number.isInteger(out) || out <= 0) {
    throw new TensorShapeError(`interpolate: output ${axis} must be a positive integer, got ${out}; check size/scaleFactor.`);
  }
  return out;
}

export function interpolate(t: Tensor<'float32'>, options: InterpolateOptions): Tensor<'float32'> {
  expectDType(t, ['float32'], 'interpolate');
  if (t.rank !== 4) {
    throw new TensorShapeError(`interpolate needs a [N, C, H, W] tensor, got rank ${t.rank}; unsqueeze missing batch/channel dims first.`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TensorShapeError('interpolate: give exactly one of size and scaleFactor.');
  }
  const mode = options.mode ?? 'nearest';
  const alignCorners = options.alignCorners ?? false;
  if (alignCorners && mode !== 'bilinear') {
    throw new TensorShapeError(`interpolate: alignCorners only applies to bilinear mode, not '${mode}'.`);
  }
  const [n, c, inH, inW] = t.shape as [number, number, number, number];
  const factors = typeof options.scaleFactor === 'number' ? [options.scaleFactor, options.scaleFactor] : options.scaleFactor;
  const outH = outputSize(inH, options.size?.[0], factors?.[0], 'height');
  const outW = outputSize(inW, options.size?.[1], factors?.[1], 'width');
  const ys = planAxis(inH, outH, factors?.[0], mode, alignCorners);
  const xs = planAxis(inW, outW, factors?.[1], mode, alignCorners);
  const out = new Float32Array(n * c * outH * outW);
  const src = t.data;
  const planes = n * c;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const row0 = base + ys.i0[y] * inW;
      if (mode !== 'bilinear') {
        for (let x = 0; x < outW; x++) out[o++] = src[row0 + xs.i0[x]];
        continue;
      }
      const row1 = base + ys.i1[y] * inW;
      const wy0 = ys.w0[y];
      const wy1 = ys.w1[y];
      for (let x = 0; x < outW; x++) {
        const x0 = xs.i0[x];
        const x1 = xs.i1[x];
        const wx0 = xs.w0[x];
        const wx1 = xs.w1[x];
        const top = Math.fround(Math.fround(src[row0 + x0] * wx0) + Math.fround(src[row0 + x1] * wx1));
        const bottom = Math.fround(Math.fround(src[row1 + x0] * wx0) + Math.fround(src[row1 + x1] * wx1));
        out[o++] = Math.fround(top * wy0) + Math.fround(bottom * wy1);
      }
    }
  }
  return new Tensor('float32', out, [n, c, outH, outW]);
}
