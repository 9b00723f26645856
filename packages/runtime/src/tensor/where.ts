/**
 * torch.where(condition, x, y): picks x where the bool condition is set and
 * y elsewhere, broadcasting all three. x and y share a dtype (any dtype);
 * a number operand takes the dtype of the tensor one, or float32 when both
 * are numbers.
 */
import { Tensor, TensorDTypeError, allocateData, expectDType, type DType, type TensorData } from './tensor.js';
import { broadcastShapes } from './broadcast.js';
import { scalarTensor } from './scalar.js';
import { runTernary, type TernaryKernel } from './ternary-op.js';

type AnyData = { [index: number]: number | bigint; readonly length: number };

const whereKernel: TernaryKernel<Uint8Array, AnyData, AnyData, AnyData> = (out, o, c, ci, cs, x, xi, xs, y, yi, ys, n) => {
  for (let i = 0; i < n; i++) out[o + i] = c[ci + i * cs] !== 0 ? x[xi + i * xs] : y[yi + i * ys];
};

export function where<D extends DType = 'float32'>(
  condition: Tensor<'bool'>,
  x: Tensor<D> | number,
  y: Tensor<D> | number,
): Tensor<D> {
  expectDType(condition, ['bool'], 'where (condition)');
  const dtype = (typeof x !== 'number' ? x.dtype : typeof y !== 'number' ? y.dtype : 'float32') as D;
  const xt = typeof x === 'number' ? scalarTensor(dtype, x) : x;
  const yt = typeof y === 'number' ? scalarTensor(dtype, y) : y;
  if (xt.dtype !== yt.dtype) {
    throw new TensorDTypeError(`where: x is ${xt.dtype} but y is ${yt.dtype}; cast one of them so both match.`);
  }
  const shape = broadcastShapes(condition.shape, xt.shape, yt.shape);
  const out = allocateData(dtype, shape.reduce((a, b) => a * b, 1));
  runTernary(
    shape,
    [condition.shape, xt.shape, yt.shape],
    whereKernel,
    out as unknown as AnyData,
    condition.data,
    xt.data as unknown as AnyData,
    yt.data as unknown as AnyData,
  );
  return new Tensor(dtype, out as TensorData<D>, shape);
}
