/**
 * The ONNX protobuf messages, from the `onnx-proto` package (static code
 * generated from onnx.proto3), so no field number is kept by hand here.
 * Nothing here depends on protobufjs directly, so the tree holds the one
 * protobufjs (6) onnx-proto asks for, with its own long 4: a second protobufjs
 * (7, with long 5 hoisted) would make protobufjs 6 resolve long 5 and break
 * under the `import` condition, in this repo and for users of the package alike.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type { onnx as OnnxProto } from 'onnx-proto';

export const ModelProto = onnx.ModelProto;
export const TensorProtoType = onnx.TensorProto;

const DataType = onnx.TensorProto.DataType;

/** TensorProto.DataType values used by this project, by our dtype names. */
export const OnnxDataType = {
  float32: DataType.FLOAT,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
} as const;

export type OnnxElementType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool';

/** AttributeProto.AttributeType values. */
export const AttributeType = onnx.AttributeProto.AttributeType;

/** TensorProto.DataLocation.EXTERNAL: the bytes live in a side file named by external_data. */
export const DATA_LOCATION_EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

/**
 * The field number of the one field set in `bytes`, read off its tag, so the
 * numbers the external-data scanner walks come from the generated encoder too.
 */
function onlyFieldNumber(bytes: Uint8Array): number {
  let tag = 0;
  for (let i = 0, shift = 1; i < bytes.length; i++, shift *= 128) {
    tag += (bytes[i]! & 0x7f) * shift;
    if ((bytes[i]! & 0x80) === 0) return Math.floor(tag / 8);
  }
  throw new Error('onnx-proto encoded no field');
}

/** Field numbers the external-data scanner walks without decoding whole messages. */
export const WireFields = {
  modelGraph: onlyFieldNumber(onnx.ModelProto.encode({ graph: {} }).finish()),
  graphInitializer: onlyFieldNumber(onnx.GraphProto.encode({ initializer: [{}] }).finish()),
  tensorExternalData: onlyFieldNumber(onnx.TensorProto.encode({ externalData: [{}] }).finish()),
  entryKey: onlyFieldNumber(onnx.StringStringEntryProto.encode({ key: '' }).finish()),
  entryValue: onlyFieldNumber(onnx.StringStringEntryProto.encode({ value: '' }).finish()),
} as const;
