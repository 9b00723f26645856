/** Parsing `modular run` flags into pipeline inputs. */
import { InvalidArgumentError } from 'commander';

/**
 * `--set key=value`, collected as written: the value is typed later from the pipeline's declaration
 * of `key` (see run-set-values.ts). `guider.<key>` names a guider config value.
 */
export function parseSetValue(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = pair.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value (e.g. --set strength=0.5 or --set guider.guidance_scale=7.5), got '${pair}'.`);
  const key = pair.slice(0, at).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !/^guider\.[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new InvalidArgumentError(`'${key}' is not an input name; input names are like num_inference_steps (guider settings like guider.guidance_scale).`);
  }
  if (Object.hasOwn(previous, key)) throw new InvalidArgumentError(`--set ${key} is given twice; give each input once.`);
  return { ...previous, [key]: pair.slice(at + 1) };
}

/** `--guidance-scale 7.5`: a finite number. */
export function parseGuidanceScale(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`the guidance scale must be a number (e.g. 7.5), got '${value}'.`);
  return n;
}

export function parsePositiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a whole number above 0, got '${value}'.`);
    return n;
  };
}

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`the seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got '${value}'.`);
  return n;
}

export const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;

export function parseDevice(value: string): (typeof DEVICES)[number] {
  if (!(DEVICES as readonly string[]).includes(value)) throw new InvalidArgumentError(`the device must be one of ${DEVICES.join(', ')}, got '${value}'.`);
  return value as (typeof DEVICES)[number];
}

export const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp)$/i;

// Inputs diffusers names without a type hint that says "image".
const IMAGE_INPUT_NAMES = new Set(['image', 'mask_image', 'control_image', 'ip_adapter_image', 'diffdiff_map']);

/** Whether an input takes an image: by name, or by a type hint that mentions one. */
export function isImageInput(param: { name: string | null; typeHint: unknown }): boolean {
  if (!param.name) return false;
  return IMAGE_INPUT_NAMES.has(param.name) || (typeof param.typeHint === 'string' && /image/i.test(param.typeHint));
}
