/**
 * Tensors and seeded noise only: pure TypeScript with no Node built-ins,
 * ONNX Runtime or sharp, so the same code can run inside the plugin
 * sandbox. Exposed as `@modular-diffusers/runtime/tensor`.
 */
export * from './tensor/tensor.js';
export * from './tensor/float16.js';
export * from './tensor/fma.js';
export * from './tensor/broadcast.js';
export type { Float32Operand } from './tensor/operand.js';
export * from './tensor/scalar.js';
export * from './tensor/elementwise.js';
export * from './tensor/scale.js';
export * from './tensor/lerp.js';
export * from './tensor/mix.js';
export * from './tensor/where.js';
export * from './tensor/compare.js';
export * from './tensor/clamp.js';
export * from './tensor/cast.js';
export * from './tensor/shape.js';
export * from './tensor/concat.js';
export * from './tensor/slice.js';
export * from './tensor/split.js';
export * from './tensor/repeat.js';
export * from './tensor/reduce.js';
export * from './tensor/interpolate.js';
export * from './tensor/nested.js';
export * from './random/mt19937.js';
export * from './random/generator.js';
export * from './random/randn-tensor.js';
// Pure image and token helpers the SDXL blocks use on both sides of the sandbox.
export * from './image/image-errors.js';
export * from './image/rgb-image.js';
export * from './tokenizer/tokenizer-errors.js';
export * from './tokenizer/token-ids-tensor.js';
