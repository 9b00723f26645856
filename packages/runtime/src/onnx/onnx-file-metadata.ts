/**
 * A model's graph inputs and outputs (names, element types, dims) read from
 * the .onnx file itself, without creating a session: what a model loaded with
 * `deferSession` declares until its first run creates the session. Fields
 * are walked as in external-data-files.ts, skipping node and weight bytes.
 */
import { open } from 'node:fs/promises';
import { FileCursor, WIRE_LENGTH_DELIMITED, WIRE_VARINT, walkMessage } from './external-data-files.js';

export interface FileValueInfo {
  name: string;
  dtype: string;
  dims: Array<number | string>;
}

// onnx.proto's TensorProto.DataType, named as onnxruntime names element types.
const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

const Fields = {
  modelGraph: 7,
  graphInitializer: 5,
  graphInput: 11,
  graphOutput: 12,
  tensorName: 8,
  valueName: 1,
  valueType: 2,
  typeTensor: 1,
  tensorElemType: 1,
  tensorShape: 2,
  shapeDim: 1,
  dimValue: 1,
  dimParam: 2,
} as const;

export async function readOnnxGraphIo(modelPath: string): Promise<{ inputs: FileValueInfo[]; outputs: FileValueInfo[] }> {
  const handle = await open(modelPath, 'r');
  try {
    const { size } = await handle.stat();
    const cursor = new FileCursor(handle, size, modelPath);
    const text = async (end: number) => (await cursor.bytes(end - cursor.position)).toString('utf8');
    // The length prefix is read before the position it counts from.
    const endOfField = async () => {
      const length = await cursor.varint();
      return cursor.position + length;
    };
    const initializers = new Set<string>();
    const inputs: FileValueInfo[] = [];
    const outputs: FileValueInfo[] = [];

    const readDim = async (end: number, dims: Array<number | string>) => {
      let dim: number | string = '';
      await cursor.fields(end, async (field, wire) => {
        if (field === Fields.dimValue && wire === WIRE_VARINT) dim = await cursor.varint();
        else if (field === Fields.dimParam && wire === WIRE_LENGTH_DELIMITED) dim = await text(await endOfField());
        else return false;
        return true;
      });
      dims.push(dim);
    };
    const readValue = (into: FileValueInfo[]) => async (end: number) => {
      const info: FileValueInfo = { name: '', dtype: 'non-tensor', dims: [] };
      await walkMessage(cursor, end, {
        [Fields.valueName]: async (e) => void (info.name = await text(e)),
        [Fields.valueType]: (e) =>
          walkMessage(cursor, e, {
            [Fields.typeTensor]: (t) =>
              cursor.fields(t, async (field, wire) => {
                if (field === Fields.tensorElemType && wire === WIRE_VARINT) {
                  const code = await cursor.varint();
                  info.dtype = ELEMENT_TYPES[code] ?? `onnx-type-${code}`;
                } else if (field === Fields.tensorShape && wire === WIRE_LENGTH_DELIMITED) {
                  await walkMessage(cursor, await endOfField(), { [Fields.shapeDim]: (d) => readDim(d, info.dims) });
                } else return false;
                return true;
              }),
          }),
      });
      into.push(info);
    };
    const readInitializer = (end: number) => walkMessage(cursor, end, { [Fields.tensorName]: async (e) => void initializers.add(await text(e)) });
    const readGraph = (end: number) =>
      walkMessage(cursor, end, {
        [Fields.graphInitializer]: readInitializer,
        [Fields.graphInput]: readValue(inputs),
        [Fields.graphOutput]: readValue(outputs),
      });
    await walkMessage(cursor, size, { [Fields.modelGraph]: readGraph });
    // Older exports list initializers among the inputs; sessions do not report those.
    return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
  } finally {
    await handle.close();
  }
}
