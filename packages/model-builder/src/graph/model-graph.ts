/**
 * An ONNX graph under construction whose weights are references into
 * safetensors files (through a WeightBinder), never bytes in memory. Small
 * constants (shapes, axes, frequency tables) are embedded. Nodes may use
 * onnxruntime's contrib domain (`com.microsoft`).
 */
import { OnnxDataType } from '@modular-diffusers/runtime';
import { ModelBuildError } from '../errors.js';
import type { WeightRef } from '../safetensors/weight-set.js';
import type { BoundWeight } from './weight-binder.js';

/** Where a graph takes its weights by key (a WeightSet, or a recorder that lists what a config needs). */
export interface WeightSource {
  take(key: string, shape: readonly number[] | null): WeightRef;
  has(key: string): boolean;
}

/** Decides where an initializer's bytes come from (a WeightBinder). */
export interface WeightPlacer {
  bind(ref: WeightRef): BoundWeight;
}

export const OPSET = 17;
export const CONTRIB_DOMAIN = 'com.microsoft';
/** TensorProto.DataType.BFLOAT16 */
const BFLOAT16 = 16;
const EXTERNAL = 1;

export type Dim = number | string;
export type ValueType = 'float32' | 'int64' | 'int32';

export type Attr =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly s: string };

interface NodeProtoObject {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: Record<string, unknown>[];
}

export class ModelGraph {
  private readonly nodes: NodeProtoObject[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly weightNames = new Map<string, string>();
  private readonly weightRefs = new Map<string, WeightRef>();
  private counter = 0;
  private usesContrib = false;

  constructor(
    readonly name: string,
    readonly weights: WeightSource,
    private readonly binder: WeightPlacer,
    /** How layers are built (fused contrib operators or plain ONNX). */
    readonly layerOptions: { readonly fused: boolean } = { fused: true },
  ) {}

  input(name: string, type: ValueType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, value: string, type: ValueType, dims: readonly Dim[]): void {
    this.nodes.push(this.nodeProto('Identity', [value], [name], {}, ''));
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** One node, one output. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}, domain = ''): string {
    return this.opN(opType, inputs, 1, attrs, domain)[0]!;
  }

  opN(opType: string, inputs: readonly string[], outputs: number, attrs: Readonly<Record<string, Attr>> = {}, domain = ''): string[] {
    const names = Array.from({ length: outputs }, () => `${opType}_${this.counter++}`);
    this.nodes.push(this.nodeProto(opType, inputs, names, attrs, domain));
    if (domain === CONTRIB_DOMAIN) this.usesContrib = true;
    return names;
  }

  /** The float32 weight `key` checked against `shape`, as a value (a Cast follows fp16 weights kept in place). */
  weight(key: string, shape: readonly number[] | null): string {
    const known = this.weightNames.get(key);
    if (known) return known;
    const ref = this.weights.take(key, shape);
    this.weightRefs.set(key, ref);
    if (ref.transposeOf) {
      // Filled by the build (embedWeight) once the transposed values are read.
      this.initializers.push({ name: key, dataType: OnnxDataType.float32, dims: [...ref.info.shape] });
      this.weightNames.set(key, key);
      return key;
    }
    const bound = this.binder.bind(ref);
    this.initializers.push({
      name: key,
      dataType: bound.dtype === 'float32' ? OnnxDataType.float32 : bound.dtype === 'float16' ? OnnxDataType.float16 : BFLOAT16,
      dims: [...ref.info.shape],
      dataLocation: EXTERNAL,
      externalData: [
        { key: 'location', value: bound.location },
        { key: 'offset', value: String(bound.offset) },
        { key: 'length', value: String(bound.length) },
      ],
    });
    const value = bound.dtype === 'float32' ? key : this.op('Cast', [key], { to: { i: OnnxDataType.float32 } });
    this.weightNames.set(key, value);
    return value;
  }

  /** Whether the folder has weight `key` (for optional parts such as biases). */
  hasWeight(key: string): boolean {
    return this.weights.has(key);
  }

  constFloat(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.embedded(OnnxDataType.float32, dims, new Uint8Array(Float32Array.from(values).buffer));
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.embedded(OnnxDataType.int64, dims, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer));
  }

  /** The weights this graph took, by key. */
  takenWeights(): ReadonlyMap<string, WeightRef> {
    return this.weightRefs;
  }

  /**
   * Replaces weight `key`'s external reference by float32 values stored in
   * the graph itself (a fused LoRA's W + scale * up @ down): the other
   * weights still point into the safetensors files.
   */
  embedWeight(key: string, values: Float32Array): void {
    const init = this.initializers.find((i) => i.name === key);
    if (!init) throw new ModelBuildError(`Graph '${this.name}' has no weight '${key}' to replace.`, null, key);
    delete init.externalData;
    delete init.dataLocation;
    init.dataType = OnnxDataType.float32;
    init.rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }

  toModelProto(): Record<string, unknown> {
    if (this.outputs.length === 0) throw new ModelBuildError(`Graph '${this.name}' has no outputs.`);
    return {
      irVersion: 8,
      producerName: '@modular-diffusers/model-builder',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: OPSET }, ...(this.usesContrib ? [{ domain: CONTRIB_DOMAIN, version: 1 }] : [])],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
  }

  private embedded(dataType: number, dims: readonly number[], rawData: Uint8Array): string {
    const name = `const_${this.counter++}`;
    this.initializers.push({ name, dataType, dims: [...dims], rawData });
    return name;
  }

  private nodeProto(opType: string, input: readonly string[], output: string[], attrs: Readonly<Record<string, Attr>>, domain: string): NodeProtoObject {
    return { input: [...input], output, name: `${output[0]}_node`, opType, domain, attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)) };
  }
}

function valueInfo(name: string, type: ValueType, dims: readonly Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensorType: {
        elemType: OnnxDataType[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

// AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7.
function attributeProto(name: string, attr: Attr): Record<string, unknown> {
  if ('i' in attr) return { name, type: 2, i: attr.i };
  if ('f' in attr) return { name, type: 1, f: attr.f };
  if ('ints' in attr) return { name, type: 7, ints: [...attr.ints] };
  if ('floats' in attr) return { name, type: 6, floats: [...attr.floats] };
  return { name, type: 3, s: new TextEncoder().encode(attr.s) };
}
