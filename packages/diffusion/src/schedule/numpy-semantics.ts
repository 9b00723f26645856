/**
 * The few numpy and torch numeric rules that diffusers' schedules depend on,
 * reproduced exactly: a schedule built with JavaScript's `Math.round` or a
 * naive linspace differs from diffusers in the last bits, and those bits
 * decide which timestep a sigma maps to.
 */

const f32 = Math.fround;

/** numpy's `round` / Python's `round`: halves go to the even neighbour (2.5 -> 2, 3.5 -> 4). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  // Math.round sends every half up; only exact halves need the even rule.
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}

/** `np.linspace(start, stop, num)` in float64, endpoint included (the last value is exactly `stop`). */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 0) return out;
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` for floats: numpy fixes the length first,
 * then fills `start + i * delta` with `delta = (start + step) - start`.
 */
export function arange(start: number, stop: number, step: number): Float64Array {
  if (step === 0) throw new RangeError('arange step must not be zero.');
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(length);
  const delta = start + step - start;
  for (let i = 0; i < length; i++) out[i] = start + i * delta;
  return out;
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on CPU.
 *
 * torch computes in float32: the first half counts up from `start`, the
 * second half down from `end`, and its SIMD loop writes blocks of 8 as
 * `base + k * step`, leaving a tail of fewer than 16 to the scalar formula.
 * Reproducing that keeps SDXL's betas, and so its sigmas, bit-identical
 * (the published sigma_max 14.614647 comes out exactly).
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalarAt = (i: number): number =>
    i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
  const width = 8;
  const vectorEnd = Math.floor(steps / (2 * width)) * 2 * width;
  for (let base = 0; base < vectorEnd; base += width) {
    const first = scalarAt(base);
    out[base] = first;
    for (let k = 1; k < width; k++) out[base + k] = f32(first + f32(k * step));
  }
  for (let i = vectorEnd; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/**
 * `np.interp(x, arange(fp.length), fp)`: linear interpolation on the integer
 * grid 0..n-1, clamped to the end values, in float64 as numpy does.
 */
export function interpOnIndexGrid(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return fp[0];
  if (x >= n - 1) return fp[n - 1];
  const j = Math.floor(x);
  const slope = fp[j + 1] - fp[j];
  const value = slope * (x - j) + fp[j];
  return Number.isNaN(value) ? slope * (x - (j + 1)) + fp[j + 1] : value;
}
