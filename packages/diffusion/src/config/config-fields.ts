/**
 * A tiny typed schema for diffusers-style component configs (snake_case
 * keys, JSON values). Each field knows its default and how to check a raw
 * value; `resolveConfig` merges defaults, a loaded config and user overrides
 * into the full config a component keeps, rejecting what it cannot honour.
 */
import { ComponentConfigError } from '../errors.js';

export type ConfigValue = string | number | boolean | null | readonly number[] | readonly ConfigValue[];
export type RawConfig = Readonly<Record<string, unknown>>;

/** Thrown by a field parser; `resolveConfig` turns it into a ComponentConfigError naming the class and key. */
export class FieldRejection extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid' | 'unsupported',
  ) {
    super(message);
  }
}

export interface FieldSpec<T> {
  readonly default: T;
  /** Returns the value to store, or throws a FieldRejection. */
  parse(value: unknown): T;
  /** Human-readable list of accepted values, for error messages. */
  readonly accepts: string;
}

export type FieldSpecs<C> = { readonly [K in keyof C]: FieldSpec<C[K]> };

/** Metadata every resolved config carries, as diffusers saves it. */
export type ConfigMeta = {
  readonly _class_name: string;
  readonly _diffusers_version?: string;
};

function show(value: unknown): string {
  // JSON writes NaN and ±Infinity as null, which would tell the user the wrong value.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return `'${value}'`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export interface NumberFieldOptions {
  integer?: boolean;
  min?: number;
  max?: number;
  /** min is exclusive (value must be greater). */
  minExclusive?: boolean;
}

export function numberField(defaultValue: number, options: NumberFieldOptions = {}): FieldSpec<number> {
  const range = [
    options.integer ? 'an integer' : 'a number',
    options.min !== undefined ? `${options.minExclusive ? '>' : '>='} ${options.min}` : '',
    options.max !== undefined ? `<= ${options.max}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    default: defaultValue,
    accepts: range,
    parse(value) {
      if (typeof value !== 'number' || Number.isNaN(value)) throw new FieldRejection(`must be ${range}${Number.isNaN(value) ? ' (NaN is not a number it can use)' : ''}`, 'invalid');
      if (options.integer && !Number.isInteger(value)) throw new FieldRejection(`must be ${range}`, 'invalid');
      if (options.min !== undefined && (options.minExclusive ? value <= options.min : value < options.min)) {
        throw new FieldRejection(`must be ${range}`, 'invalid');
      }
      if (options.max !== undefined && value > options.max) throw new FieldRejection(`must be ${range}`, 'invalid');
      return value;
    },
  };
}

export function nullableNumberField(options: NumberFieldOptions = {}): FieldSpec<number | null> {
  const inner = numberField(0, options);
  return {
    default: null,
    accepts: `null or ${inner.accepts}`,
    parse: (value) => (value === null || value === undefined ? null : inner.parse(value)),
  };
}

/**
 * A boolean flag. diffusers declares some flags `bool | None`; null reads as
 * false. `unsupportedWhenTrue` marks a diffusers feature this port lacks.
 */
export function booleanField(defaultValue: boolean, unsupportedWhenTrue?: string): FieldSpec<boolean> {
  return {
    default: defaultValue,
    accepts: unsupportedWhenTrue ? 'false (true is not implemented)' : 'true or false',
    parse(value) {
      if (value === null) return false;
      if (typeof value !== 'boolean') throw new FieldRejection('must be true or false', 'invalid');
      if (value && unsupportedWhenTrue) throw new FieldRejection(unsupportedWhenTrue, 'unsupported');
      return value;
    },
  };
}

/**
 * One of a set of strings. `unsupported` lists values diffusers accepts but
 * this port does not implement, so the error can say which case it is.
 */
export function choiceField<T extends string>(
  defaultValue: T,
  supported: readonly T[],
  unsupported: readonly string[] = [],
): FieldSpec<T> {
  const accepts = supported.map(show).join(', ');
  return {
    default: defaultValue,
    accepts,
    parse(value) {
      if ((supported as readonly unknown[]).includes(value)) return value as T;
      if (unsupported.includes(value as string)) {
        throw new FieldRejection(`${show(value)} is a diffusers option this port does not implement; use one of ${accepts}`, 'unsupported');
      }
      throw new FieldRejection(`must be one of ${accepts}`, 'invalid');
    },
  };
}

export function nullableNumberListField(): FieldSpec<readonly number[] | null> {
  return {
    default: null,
    accepts: 'null or an array of numbers',
    parse(value) {
      if (value === null || value === undefined) return null;
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new FieldRejection('must be null or an array of finite numbers', 'invalid');
      }
      return Object.freeze([...value]);
    },
  };
}

/** An integer, an array of integers, or null (e.g. APG's norm dims). */
export function nullableIntOrIntListField(): FieldSpec<number | readonly number[] | null> {
  return {
    default: null,
    accepts: 'null, an integer or an array of integers',
    parse(value) {
      if (value === null || value === undefined) return null;
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (Array.isArray(value) && value.length > 0 && value.every((v) => Number.isInteger(v))) {
        return Object.freeze([...(value as number[])]);
      }
      throw new FieldRejection('must be null, an integer or a non-empty array of integers', 'invalid');
    },
  };
}

export interface ResolveOptions {
  /** Class name used in messages and stored as `_class_name`. */
  className: string;
  /** What the component is, for messages: 'scheduler' or 'guider'. */
  kind: string;
  /**
   * Keys that belong to sibling classes. A loaded config may carry them (a
   * scheduler_config.json written for another scheduler); they are accepted
   * only with the value that means "feature off" here, since this class
   * cannot honour anything else.
   */
  foreignNeutral?: Readonly<Record<string, { isNeutral(value: unknown): boolean; neutral: string }>>;
  /** Reject unknown keys in the loaded config too, not only in overrides (guider configs do not travel between classes). */
  strictConfigKeys?: boolean;
}

/**
 * Merge defaults <- config <- overrides. Keys starting with '_' are metadata
 * and pass through. Unknown keys in a loaded config are accepted (configs
 * travel between classes) unless they ask for a feature; unknown keys in
 * overrides are rejected, since they are usually typos.
 */
export function resolveConfig<C extends object>(
  fields: FieldSpecs<C>,
  config: RawConfig,
  overrides: RawConfig,
  options: ResolveOptions,
): Readonly<C> & ConfigMeta {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ComponentConfigError(
      `${options.className} config must be a plain object (the parsed JSON of its ${options.kind} config), got ${show(config)}.`,
      options.className,
    );
  }
  const out: Record<string, unknown> = {};
  const specs = fields as Record<string, FieldSpec<unknown>>;
  for (const [key, spec] of Object.entries(specs)) out[key] = spec.default;

  const apply = (source: RawConfig, origin: 'config' | 'overrides'): void => {
    for (const [key, value] of Object.entries(source)) {
      if (key.startsWith('_') || value === undefined) continue;
      const spec = specs[key];
      if (spec) {
        try {
          out[key] = spec.parse(value);
        } catch (error) {
          if (!(error instanceof FieldRejection)) throw error;
          throw new ComponentConfigError(
            `${options.className} ${origin} \`${key}\` is ${show(value)}: ${error.message}. ` +
              `Fix the ${options.kind} config or pass overrides { ${key}: ... } with an accepted value.`,
            options.className,
            key,
            error.reason,
          );
        }
        continue;
      }
      const foreign = options.foreignNeutral?.[key];
      if (foreign) {
        if (!foreign.isNeutral(value)) {
          throw new ComponentConfigError(
            `${options.className} does not support \`${key}\` = ${show(value)} (this key belongs to another ${options.kind} class). ` +
              `Use a ${options.kind} class that supports it, or pass overrides { ${key}: ${foreign.neutral} } to drop it.`,
            options.className,
            key,
            'unsupported',
          );
        }
        continue;
      }
      if (origin === 'overrides' || options.strictConfigKeys) {
        throw new ComponentConfigError(
          `${options.className} has no config key \`${key}\`. Known keys: ${Object.keys(specs).join(', ')}.`,
          options.className,
          key,
          'unknown-key',
        );
      }
    }
  };
  apply(config, 'config');
  apply(overrides, 'overrides');
  out._class_name = options.className;
  const version = overrides._diffusers_version ?? config._diffusers_version;
  if (typeof version === 'string') out._diffusers_version = version;
  return Object.freeze(out) as Readonly<C> & ConfigMeta;
}
