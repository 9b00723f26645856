/**
 * Typed reads of a model's config.json, each failure naming the file and
 * the field: a missing or mistyped field, or a value the builder does not
 * support (then what is supported).
 */
import { UnsupportedConfigError } from '../errors.js';

export type ModelConfig = Readonly<Record<string, unknown>>;

export class ConfigReader {
  constructor(
    readonly config: ModelConfig,
    /** The config file, for messages. */
    readonly file: string,
  ) {}

  fail(key: string, message: string): never {
    throw new UnsupportedConfigError(`${this.file}: '${key}' ${message}`, this.file, key);
  }

  int(key: string, fallback?: number): number {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.fail(key, `must be a non-negative integer, got ${JSON.stringify(value)}.`);
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, `must be a number, got ${JSON.stringify(value)}.`);
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(value)}.`);
    return value;
  }

  /** A string from `allowed` (what the builder supports). */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      this.fail(key, `is ${JSON.stringify(value)}, which the model builder does not support (supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')}).`);
    }
    return value as T;
  }

  strings(key: string): string[] {
    const value = this.config[key];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) this.fail(key, `must be a list of strings, got ${JSON.stringify(value)}.`);
    return value as string[];
  }

  ints(key: string): number[] {
    const value = this.config[key];
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v > 0)) this.fail(key, `must be a list of positive integers, got ${JSON.stringify(value)}.`);
    return value as number[];
  }

  /** An int or a list of `length` ints (diffusers' per-block fields), as a list. */
  perBlock(key: string, length: number, fallback?: number | number[]): number[] {
    const value = this.config[key] ?? fallback;
    if (Number.isInteger(value) && (value as number) > 0) return new Array(length).fill(value);
    if (Array.isArray(value) && value.length === length && value.every((v) => Number.isInteger(v) && v > 0)) return value as number[];
    return this.fail(key, `must be a positive integer or a list of ${length} (one per block), got ${JSON.stringify(value)}.`);
  }

  /** Refuse a field set to anything but its neutral value(s): a feature the builder does not build. */
  unsupported(key: string, neutral: readonly unknown[], what: string): void {
    const value = key in this.config ? this.config[key] : neutral[0];
    if (!neutral.some((n) => JSON.stringify(n) === JSON.stringify(value))) {
      this.fail(key, `is ${JSON.stringify(value)}: ${what} is not supported by the model builder (use an ONNX export of this model instead).`);
    }
  }
}
