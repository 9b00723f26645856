/**
 * The `code` of every error class of @modular-diffusers/runtime: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const RUNTIME_ERROR_CODES = [
  'EXECUTION_PROVIDER_UNAVAILABLE', // ExecutionProviderUnavailableError
  'GENERATOR_SEED', // GeneratorSeedError
  'GRAPH_BUILDER', // GraphBuilderError
  'IMAGE_DECODE', // ImageDecodeError
  'IMAGE_INPUT', // ImageInputError
  'ONNX_MODEL_LOAD', // OnnxModelLoadError
  'ONNX_PROTOBUF', // OnnxProtobufError
  'ONNX_RUN', // OnnxRunError
  'ONNX_TENSOR_TYPE', // OnnxTensorTypeError
  'TENSOR_DTYPE', // TensorDTypeError
  'TENSOR_SHAPE', // TensorShapeError
  'TOKENIZER_FILES', // TokenizerFilesError
  'TOKENIZER_INPUT', // TokenizerInputError
  'UNKNOWN_DEVICE', // UnknownDeviceError
] as const;

export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];
