/** What component loaders pass to onnxruntime: the device and session options a caller gave loadComponents(). */
import { join } from 'node:path';
import { InvalidArgumentError } from '@modular-diffusers/core';
import type { Device, LoadOnnxModelOptions } from '@modular-diffusers/runtime';

const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu', 'auto'];

/** `{ device, sessionOptions }` out of loader options, checked. */
export function onnxLoadOptions(options: Record<string, unknown>): LoadOnnxModelOptions {
  const { device, sessionOptions } = options;
  if (device !== undefined && !DEVICES.includes(device as Device)) {
    throw new InvalidArgumentError(`device must be one of ${DEVICES.join(', ')}, got ${JSON.stringify(device)}.`);
  }
  if (sessionOptions !== undefined && (sessionOptions === null || typeof sessionOptions !== 'object')) {
    throw new InvalidArgumentError('sessionOptions must be an object of onnxruntime session options.');
  }
  return {
    ...(device !== undefined ? { device: device as Device } : {}),
    ...(sessionOptions !== undefined ? { sessionOptions: sessionOptions as LoadOnnxModelOptions['sessionOptions'] } : {}),
  };
}

/** `model.onnx`, or `model.<variant>.onnx` for a variant such as 'fp16' (the layout of ONNX SDXL repos). */
export function onnxModelPath(folder: string, variant: string | null | undefined, fileName?: unknown): string {
  if (fileName !== undefined && typeof fileName !== 'string') {
    throw new InvalidArgumentError(`fileName must be a string such as 'model.onnx', got ${typeof fileName}.`);
  }
  return join(folder, fileName ?? (variant ? `model.${variant}.onnx` : 'model.onnx'));
}

/** 'float16' when the session wants half-precision floats for `input`, else 'float32'. */
export function floatDtypeOf(dtype: string | undefined): 'float32' | 'float16' {
  return dtype === 'float16' ? 'float16' : 'float32';
}
