/**
 * A small typed builder for ONNX graphs (opset 17), so the project can write
 * real ONNX models from TypeScript without Python or the onnx package.
 *
 * Values are referred to by name. `precision: 'float16'` builds the same
 * float32 graph but stores float initializers as float16 and declares float
 * inputs/outputs as float16, with Cast nodes at those boundaries: the I/O and
 * weights of an fp16 export, with float32 arithmetic inside so the graph runs
 * on onnxruntime's CPU kernels.
 */
import { float32ArrayToFloat16 } from '../../tensor/float16.js';
import { AttributeType, OnnxDataType, type OnnxElementType } from '../proto/onnx-schema.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

export const OPSET_VERSION = 17;
/** IR version 8 is the one that introduced opset 17 support (ONNX 1.12). */
export const IR_VERSION = 8;

export type Dim = number | string;
export type InitializerData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

/** Explicitly typed attribute values, for where a JS number is ambiguous (1 vs 1.0). */
export interface FloatAttribute {
  readonly kind: 'float';
  readonly value: number;
}
export interface FloatsAttribute {
  readonly kind: 'floats';
  readonly value: readonly number[];
}
export type AttributeValue = number | readonly number[] | string | FloatAttribute | FloatsAttribute;

export const floatAttr = (value: number): FloatAttribute => ({ kind: 'float', value });
export const floatsAttr = (value: readonly number[]): FloatsAttribute => ({ kind: 'floats', value });

export interface NodeOptions {
  /** Output names, or a count of auto-named outputs (default 1). */
  outputs?: readonly string[] | number;
  attributes?: Readonly<Record<string, AttributeValue>>;
  name?: string;
}

export interface InitializerRecord {
  name: string;
  dtype: OnnxElementType;
  dims: readonly number[];
  bytes: Uint8Array;
}

export interface ValueInfo {
  name: string;
  dtype: OnnxElementType;
  dims: readonly Dim[];
}

export interface NodeRecord {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attributes: Readonly<Record<string, AttributeValue>>;
}

export class GraphBuilderError extends ModularDiffusersError {
  static override readonly code: string = 'GRAPH_BUILDER';
  override name = 'GraphBuilderError';
}

export type GraphPrecision = 'float32' | 'float16';

export class GraphBuilder {
  readonly name: string;
  readonly precision: GraphPrecision;
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly nodes: NodeRecord[] = [];
  readonly initializers: InitializerRecord[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(name: string, options: { precision?: GraphPrecision } = {}) {
    this.name = name;
    this.precision = options.precision ?? 'float32';
  }

  /**
   * Declare a graph input and return the name to use it by. In float16
   * precision a float32 input is declared float16 and cast back to float32.
   */
  input(name: string, dtype: OnnxElementType, dims: readonly Dim[]): string {
    this.claim(name);
    if (dtype === 'float32' && this.precision === 'float16') {
      this.inputs.push({ name, dtype: 'float16', dims });
      return this.op('Cast', [name], { to: OnnxDataType.float32 });
    }
    this.inputs.push({ name, dtype, dims });
    return name;
  }

  /** Expose `value` as the graph output `name` (cast to float16 in float16 precision). */
  output(name: string, value: string, dtype: OnnxElementType, dims: readonly Dim[]): void {
    const half = dtype === 'float32' && this.precision === 'float16';
    this.node(half ? 'Cast' : 'Identity', [value], {
      outputs: [name],
      attributes: half ? { to: OnnxDataType.float16 } : {},
    });
    this.outputs.push({ name, dtype: half ? 'float16' : dtype, dims });
  }

  /** Add a node; returns its output names. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const requested = options.outputs ?? 1;
    const outputs =
      typeof requested === 'number'
        ? Array.from({ length: requested }, () => this.fresh(opType))
        : [...requested];
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      opType,
      inputs,
      outputs,
      name: options.name ?? `${opType}_node_${this.nodes.length}`,
      attributes: options.attributes ?? {},
    });
    return outputs;
  }

  /** Add a single-output node and return its output name. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    return this.node(opType, inputs, { attributes })[0];
  }

  /**
   * Add a constant weight. Float32 data is stored as float16 in float16
   * precision (and cast back), as an fp16 export stores its weights.
   */
  initializer(name: string, dtype: OnnxElementType, dims: readonly number[], data: InitializerData): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new GraphBuilderError(`Initializer '${name}' has ${data.length} values but dims [${dims.join(', ')}] need ${expected}.`);
    }
    this.claim(name);
    if (dtype === 'float32' && this.precision === 'float16') {
      const half = float32ArrayToFloat16(data as Float32Array);
      this.initializers.push({ name, dtype: 'float16', dims, bytes: toBytes(half) });
      return this.op('Cast', [name], { to: OnnxDataType.float32 });
    }
    this.initializers.push({ name, dtype, dims, bytes: toBytes(data) });
    return name;
  }

  /** A float32 constant (auto-named). */
  constFloat(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.initializer(this.fresh('const_f'), 'float32', dims, Float32Array.from(values));
  }

  /** An int64 constant, the type ONNX wants for shapes, axes and indices. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(this.fresh('const_i'), 'int64', dims, BigInt64Array.from(values.map(BigInt)));
  }

  /** A plain object shaped like onnx.ModelProto for protobufjs. */
  toModelProto(options: { producerName?: string; docString?: string } = {}): Record<string, unknown> {
    return {
      irVersion: IR_VERSION,
      producerName: options.producerName ?? '@modular-diffusers/runtime',
      producerVersion: '0.1.0',
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      graph: {
        name: this.name,
        node: this.nodes.map((n) => ({
          input: [...n.inputs],
          output: [...n.outputs],
          name: n.name,
          opType: n.opType,
          attribute: Object.entries(n.attributes).map(([key, value]) => attributeProto(key, value)),
        })),
        initializer: this.initializers.map((init) => ({
          name: init.name,
          dataType: OnnxDataType[init.dtype],
          dims: [...init.dims],
          rawData: init.bytes,
        })),
        input: this.inputs.map(valueInfoProto),
        output: this.outputs.map(valueInfoProto),
      },
    };
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new GraphBuilderError(`Value name '${name}' is already used in graph '${this.name}'.`);
    this.names.add(name);
  }

  /** An unused value name (claimed by whoever defines the value). */
  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }
}

function toBytes(data: InitializerData): Uint8Array {
  // ONNX raw_data is little-endian, which is the typed arrays' layout on every platform Node supports.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfoProto(info: ValueInfo): Record<string, unknown> {
  return {
    name: info.name,
    type: {
      tensorType: {
        elemType: OnnxDataType[info.dtype],
        shape: { dim: info.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if ('kind' in value) {
    return value.kind === 'float'
      ? { name, type: AttributeType.FLOAT, f: value.value }
      : { name, type: AttributeType.FLOATS, floats: [...value.value] };
  }
  const list = value as readonly number[];
  return list.every(Number.isInteger)
    ? { name, type: AttributeType.INTS, ints: [...list] }
    : { name, type: AttributeType.FLOATS, floats: [...list] };
}
