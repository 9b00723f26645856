import { pyRepr } from '../util/python-repr.js';

interface TensorLike {
  dtype: unknown;
  shape: ArrayLike<unknown>;
}

/** Anything with a `dtype` and a `shape` prints as a summary, like torch tensors in diffusers' reprs. */
export function isTensorLike(value: unknown): value is TensorLike {
  return value !== null && typeof value === 'object' && 'dtype' in value && 'shape' in value;
}

function shapeOf(t: TensorLike): string {
  return `[${Array.from(t.shape).join(', ')}]`;
}

export function tensorSummary(t: TensorLike): string {
  return `Tensor(dtype=${String(t.dtype)}, shape=${shapeOf(t)})`;
}

/** How PipelineState prints a value. */
export function formatStateValue(value: unknown): string {
  if (isTensorLike(value)) return tensorSummary(value);
  if (Array.isArray(value) && value.length > 0 && isTensorLike(value[0])) return `[${tensorSummary(value[0])}, ...]`;
  return formatPlain(value);
}

/** How BlockState prints a value: lists and dicts of tensors are summarised too. */
export function formatBlockStateValue(value: unknown): string {
  if (isTensorLike(value)) return tensorSummary(value);
  if (Array.isArray(value)) {
    if (value.length > 0 && isTensorLike(value[0])) {
      return `list[${value.length}] of Tensors with shapes [${value.map((t) => (isTensorLike(t) ? shapeOf(t) : '?')).join(', ')}]`;
    }
    return formatPlain(value);
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const parts = Object.entries(value).map(([k, v]) => `'${k}': ${isTensorLike(v) ? `'${tensorSummary(v)}'` : formatPlain(v)}`);
    return `{${parts.join(', ')}}`;
  }
  return formatPlain(value);
}

function formatPlain(value: unknown): string {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `${value.constructor.name}(length=${(value as unknown as { length: number }).length})`;
  }
  return pyRepr(value);
}
