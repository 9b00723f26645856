import { InvalidArgumentError } from '@modular-diffusers/core';

/**
 * A pipeline input SDXL cannot use (wrong type, mismatched sizes or batch
 * lengths, a value out of range). Raised before any model runs where the
 * input can be checked up front.
 */
export class SdxlInputError extends InvalidArgumentError {
  static override readonly code: string = 'SDXL_INPUT';
  override name = 'SdxlInputError';
}

/**
 * An input value as an error message should show it: a string in quotes (with the number it
 * probably meant), so `num_inference_steps: "4"` does not read as "got 4".
 */
export function showInputValue(value: unknown): string {
  if (typeof value === 'string') {
    const asNumber = value.trim() === '' ? NaN : Number(value);
    return Number.isFinite(asNumber) ? `the string '${value}' (pass the number ${asNumber}, not a string)` : `the string '${value}'`;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return String(value);
}
