/**
 * Image inputs of a remote run are decoded on the host (sharp stays out of
 * the sandbox): a file path, URL or encoded bytes given for an image input
 * becomes an 8-bit RGB image with runtime's `loadImage`, and crosses as a copy.
 */
import type { InputParam } from '@modular-diffusers/core';
import { isImageValue } from './remote-value-codec.js';

// Inputs the guide and diffusers name without a type hint that says "image".
const IMAGE_INPUT_NAMES = new Set(['image', 'mask_image', 'control_image', 'ip_adapter_image', 'diffdiff_map']);

/** The inputs that take images: typed as one (PipelineImageInput, PIL.Image.Image, ...) or named like diffusers' image inputs. */
export function imageInputNames(inputs: readonly InputParam[]): Set<string> {
  const names = new Set<string>();
  for (const p of inputs) {
    if (!p.name) continue;
    const hint = typeof p.typeHint === 'string' ? p.typeHint : '';
    if (IMAGE_INPUT_NAMES.has(p.name) || /image/i.test(hint)) names.add(p.name);
  }
  return names;
}

function isLoadableSource(value: unknown): boolean {
  return typeof value === 'string' || value instanceof URL || value instanceof Uint8Array || value instanceof ArrayBuffer;
}

type LoadImage = (source: never) => Promise<unknown>;

/** Replaces paths, URLs and encoded bytes given for image inputs with decoded images (lists too). */
export async function loadImageInputs(values: Record<string, unknown>, imageInputs: ReadonlySet<string>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...values };
  let loadImage: LoadImage | null = null;
  const load = async (value: unknown): Promise<unknown> => {
    if (!isLoadableSource(value) || isImageValue(value)) return value;
    loadImage ??= ((await import('@modular-diffusers/runtime')) as unknown as { loadImage: LoadImage }).loadImage;
    return loadImage(value as never);
  };
  for (const name of imageInputs) {
    const value = out[name];
    if (value === undefined || value === null) continue;
    out[name] = Array.isArray(value) ? await Promise.all(value.map(load)) : await load(value);
  }
  return out;
}
