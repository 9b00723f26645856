/**
 * Broadcasting (NumPy/PyTorch rules) and the iteration plan every
 * elementwise operation runs on.
 *
 * A plan collapses the output shape into as few dimensions as possible
 * (dims of size 1 dropped, neighbouring dims merged wherever every input is
 * contiguous across them), so the innermost loop is one long "run" in
 * which each input either advances by one element or stays put (stride 0,
 * a broadcast). Same-shape operands become a single run over the whole
 * tensor; a [B,1,H,W] mask against [B,C,H,W] latents becomes B*C runs of
 * H*W elements.
 */
import { TensorShapeError, sizeOf } from './tensor.js';

function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The shape two operands broadcast to; throws when they are incompatible. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  let rank = 0;
  for (const shape of shapes) rank = Math.max(rank, shape.length);
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    const lead = rank - shape.length;
    for (let i = 0; i < shape.length; i++) {
      const dim = shape[i];
      const current = out[lead + i];
      if (dim === current || dim === 1) continue;
      if (current === 1) {
        out[lead + i] = dim;
        continue;
      }
      throw new TensorShapeError(
        `Shapes ${shapes.map(describe).join(' and ')} cannot be broadcast together: dimension ${lead + i} is ${current} in one and ${dim} in another. Reshape or expand one of them so each dimension matches or is 1.`,
      );
    }
  }
  return out;
}

export interface BroadcastPlan {
  /** Total number of output elements. */
  readonly size: number;
  /** Elements per innermost run. */
  readonly runLength: number;
  /** Per input: 1 if it advances inside a run, 0 if it is broadcast across it. */
  readonly runStrides: readonly number[];
  /** Collapsed dims outside the run, outermost first. */
  readonly outerShape: readonly number[];
  /** Per input, its element stride along each outer dim (0 when broadcast). */
  readonly outerStrides: readonly (readonly number[])[];
}

/**
 * Plans iteration of `outShape` (row-major, contiguous) reading inputs of
 * `inputShapes`, each of which must broadcast to `outShape`.
 */
export function planBroadcast(outShape: readonly number[], inputShapes: readonly (readonly number[])[]): BroadcastPlan {
  const rank = outShape.length;
  const size = sizeOf(outShape);
  const strides = inputShapes.map((shape) => {
    if (shape.length > rank) {
      throw new TensorShapeError(`Shape ${describe(shape)} has more dimensions than the output ${describe(outShape)}.`);
    }
    const lead = rank - shape.length;
    const result = new Array<number>(rank).fill(0);
    let contiguous = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const dim = shape[i];
      const outDim = outShape[lead + i];
      if (dim === outDim) result[lead + i] = contiguous;
      else if (dim !== 1) {
        throw new TensorShapeError(`Shape ${describe(shape)} cannot be broadcast to ${describe(outShape)}.`);
      }
      contiguous *= dim;
    }
    return result;
  });

  // Collapse from the innermost dim outwards.
  const dims: number[] = [];
  const dimStrides: number[][] = inputShapes.map(() => []);
  for (let i = rank - 1; i >= 0; i--) {
    const dim = outShape[i];
    if (dim === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => s[i] === dimStrides[k][last] * dims[last])) {
      dims[last] = dims[last] * dim;
      continue;
    }
    dims.push(dim);
    strides.forEach((s, k) => dimStrides[k].push(s[i]));
  }
  if (dims.length === 0) {
    return { size, runLength: size === 0 ? 0 : 1, runStrides: inputShapes.map(() => 0), outerShape: [], outerStrides: inputShapes.map(() => []) };
  }
  const runLength = dims[0];
  const runStrides = dimStrides.map((s) => s[0]);
  const outerShape = dims.slice(1).reverse();
  const outerStrides = dimStrides.map((s) => s.slice(1).reverse());
  return { size, runLength, runStrides, outerShape, outerStrides };
}

/**
 * Calls `visit(outOffset, inputOffsets, runLength)` once per run. The
 * `inputOffsets` array is reused between calls.
 */
export function forEachRun(
  plan: BroadcastPlan,
  visit: (outOffset: number, inputOffsets: number[], length: number) => void,
): void {
  const { size, runLength, outerShape, outerStrides } = plan;
  if (size === 0 || runLength === 0) return;
  const inputs = outerStrides.length;
  const offsets = new Array<number>(inputs).fill(0);
  const counters = new Array<number>(outerShape.length).fill(0);
  const runs = size / runLength;
  let outOffset = 0;
  for (let r = 0; r < runs; r++) {
    visit(outOffset, offsets, runLength);
    outOffset += runLength;
    for (let d = outerShape.length - 1; d >= 0; d--) {
      counters[d]++;
      for (let k = 0; k < inputs; k++) offsets[k] += outerStrides[k][d];
      if (counters[d] < outerShape[d]) break;
      counters[d] = 0;
      for (let k = 0; k < inputs; k++) offsets[k] -= outerStrides[k][d] * outerShape[d];
    }
  }
}
