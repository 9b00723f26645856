import { Tensor } from '../tensor/tensor.js';
import { ImageInputError } from './image-errors.js';

/**
 * `torch.nn.functional.interpolate(x, size=(height, width))` with its default
 * mode 'nearest' on an NCHW float32 tensor: output index i reads input index
 * floor(i * float32(in / out)), clamped to the last row/column. (That is
 * PyTorch's legacy nearest, which differs from PIL's centre sampling.)
 */
export function resizeTensor(tensor: Tensor, height: number, width: number): Tensor<'float32'> {
  if (tensor.dtype !== 'float32' || tensor.rank !== 4) {
    throw new ImageInputError(`resizeTensor() needs a float32 NCHW tensor, got ${tensor.toString()}.`);
  }
  for (const [name, value] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ImageInputError(`Cannot resize a tensor to ${name} ${value}: it must be a positive integer.`);
    }
  }
  const [n, c, inH, inW] = tensor.shape as [number, number, number, number];
  const src = tensor.data as Float32Array;
  if (inH === height && inW === width) return new Tensor('float32', src.slice(), tensor.shape);
  const rows = nearestIndices(inH, height);
  const cols = nearestIndices(inW, width);
  const out = new Float32Array(n * c * height * width);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * inH * inW;
    for (let y = 0; y < height; y++) {
      const row = base + rows[y]! * inW;
      for (let x = 0; x < width; x++) out[o++] = src[row + cols[x]!]!;
    }
  }
  return new Tensor('float32', out, [n, c, height, width]);
}

function nearestIndices(inSize: number, outSize: number): Int32Array {
  const indices = new Int32Array(outSize);
  // PyTorch computes the scale and the product in float32.
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    indices[i] = Math.min(Math.floor(Math.fround(i * scale)), inSize - 1);
  }
  return indices;
}
