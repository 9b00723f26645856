import { InvalidArgumentError, ModularDiffusersError } from '../errors.js';

/**
 * Closed option objects: one declaration gives both the TypeScript type (no index signature, so a
 * misspelt key is a compile error) and a runtime check (so a misspelt key from JavaScript, JSON or a
 * Python habit is an error naming the key that was meant, not a silently ignored setting).
 *
 *   const RUN_OPTIONS = defineOptions('run', { signal: option<AbortSignalLike>(), strict: option<boolean>() });
 *   type RunOptions = OptionsOf<typeof RUN_OPTIONS>;
 *   RUN_OPTIONS.check(options);   // throws UnknownOptionError on { strcit: true }
 */

/** One declared option; `T` is its value type (the object carries only the type). */
export interface OptionDeclaration<T> {
  /** Phantom field: never set, only carries `T`. */
  readonly valueType?: T;
}

export type OptionDeclarations = Record<string, OptionDeclaration<unknown>>;

/** The options object a set of declarations describes: every key optional, nothing else allowed. */
export type OptionsOf<D> = D extends OptionsDefinition<infer Decls>
  ? DeclaredOptions<Decls>
  : D extends OptionDeclarations
    ? DeclaredOptions<D>
    : never;

type DeclaredOptions<D extends OptionDeclarations> = {
  [K in keyof D]?: D[K] extends OptionDeclaration<infer T> ? T : never;
};

/** Declares an option of type `T` (the type is all there is to declare). */
export function option<T>(): OptionDeclaration<T> {
  return {};
}

/** A key of an options object that no declaration names. */
export class UnknownOptionError extends ModularDiffusersError {
  static override readonly code: string = 'UNKNOWN_OPTION';
  override name = 'UnknownOptionError';
  constructor(
    /** Where the options were given, e.g. `ModularPipeline.fromPretrained`. */
    readonly where: string,
    readonly key: string,
    /** The declared key it most likely meant, or null when none is close. */
    readonly suggestion: string | null,
    readonly validKeys: readonly string[],
  ) {
    super(
      `${where}: unknown option '${key}'.` +
        (suggestion ? ` Did you mean '${suggestion}'?` : '') +
        ` Valid options: ${validKeys.join(', ')}.`,
    );
  }
}

export class OptionsDefinition<D extends OptionDeclarations> {
  readonly keys: readonly string[];
  private readonly keySet: ReadonlySet<string>;

  constructor(
    /** Where these options are given, as messages name it (e.g. `pipeline.loadComponents`). */
    readonly where: string,
    readonly declarations: D,
  ) {
    this.keys = Object.keys(declarations);
    this.keySet = new Set(this.keys);
  }

  has(key: string): boolean {
    return this.keySet.has(key);
  }

  /**
   * Throws unless `value` is undefined, null or a plain object whose own keys are all declared.
   * Keys whose value is `undefined` count too: `{ trust_remote_code: undefined }` is still a typo.
   */
  check(value: unknown, where: string = this.where): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidArgumentError(`${where}: options must be an object, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
    }
    for (const key of Object.keys(value)) {
      if (!this.keySet.has(key)) throw new UnknownOptionError(where, key, nearestKey(key, this.keys), this.keys);
    }
  }

  /** The same check, returning the options typed (undefined and null become `{}`). */
  parse(value: unknown, where: string = this.where): OptionsOf<D> {
    this.check(value, where);
    return (value ?? {}) as OptionsOf<D>;
  }

  /** A new definition with more keys (for options that build on these, e.g. fromPretrained on initPipeline). */
  extend<E extends OptionDeclarations>(where: string, more: E): OptionsDefinition<D & E> {
    return new OptionsDefinition(where, { ...this.declarations, ...more } as D & E);
  }

  /** A new definition without `keys`. */
  omit<K extends keyof D & string>(where: string, ...keys: K[]): OptionsDefinition<Omit<D, K>> {
    const rest: Record<string, OptionDeclaration<unknown>> = { ...this.declarations };
    for (const key of keys) delete rest[key];
    return new OptionsDefinition(where, rest as Omit<D, K>);
  }

  /** The declared keys of `value` (the rest left out), for handing a subset on. */
  pick(value: Record<string, unknown>): Partial<OptionsOf<D>> {
    const out: Record<string, unknown> = {};
    for (const key of this.keys) if (value[key] !== undefined) out[key] = value[key];
    return out as Partial<OptionsOf<D>>;
  }
}

/** Declares a closed options object named `where` (used in messages). */
export function defineOptions<D extends OptionDeclarations>(where: string, declarations: D): OptionsDefinition<D> {
  return new OptionsDefinition(where, declarations);
}

/**
 * The declared key `key` most likely meant: an exact match after turning snake_case or kebab-case
 * into camelCase or ignoring case (`trust_remote_code`, `trustRemotecode` -> `trustRemoteCode`),
 * else the nearest by edit distance when it is close enough to be a typo.
 */
export function nearestKey(key: string, keys: readonly string[]): string | null {
  const camel = toCamelCase(key);
  const fold = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
  const exact = keys.find((k) => k === camel) ?? keys.find((k) => fold(k) === fold(key));
  if (exact) return exact;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of keys) {
    const distance = editDistance(fold(key), fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A third of the name may differ (at least two edits): `devcie` -> `device`, not `seed` -> `strict`.
  const allowed = Math.max(2, Math.floor(fold(key).length / 3));
  return best !== null && bestDistance <= allowed ? best : null;
}

/** `trust_remote_code` / `trust-remote-code` -> `trustRemoteCode`; camelCase is left as it is. */
export function toCamelCase(name: string): string {
  return name.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Levenshtein distance, with a transposition counting as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
