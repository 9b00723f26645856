import { inspectSymbol } from '../util/inspect.js';
import { formatStateValue } from './format-value.js';
import { defaultRunContext, type RunContext } from './run-context.js';

export interface PipelineStateOptions {
  /** Initial values, e.g. from a previous run you want to continue. */
  values?: Record<string, unknown> | Map<string, unknown>;
  strict?: boolean;
  context?: Partial<RunContext>;
}

/**
 * The values flowing through a run: the caller's inputs and every block's
 * outputs, in one ordered store. Values may carry a kwargs-type tag (e.g.
 * `denoiser_input_fields`) so a block can collect all of them at once.
 */
export class PipelineState {
  readonly values = new Map<string, unknown>();
  readonly kwargsMapping = new Map<string, string[]>();
  context: RunContext;

  constructor(options: PipelineStateOptions = {}) {
    const init = options.values instanceof Map ? options.values : Object.entries(options.values ?? {});
    for (const [k, v] of init) this.values.set(k, v);
    this.context = defaultRunContext({ ...options.context, ...(options.strict !== undefined ? { strict: options.strict } : {}) });
  }

  get strict(): boolean {
    return this.context.strict;
  }

  /** Stores a value; a kwargs type also tags the key (once). */
  set(key: string, value: unknown, kwargsType?: string | null): void {
    this.values.set(key, value);
    if (kwargsType) {
      const keys = this.kwargsMapping.get(kwargsType);
      if (!keys) this.kwargsMapping.set(kwargsType, [key]);
      else if (!keys.includes(key)) keys.push(key);
    }
  }

  get(key: string): unknown;
  get(keys: readonly string[]): Record<string, unknown>;
  get(keyOrKeys: string | readonly string[]): unknown {
    if (typeof keyOrKeys === 'string') return this.values.get(keyOrKeys);
    return Object.fromEntries(keyOrKeys.map((k) => [k, this.values.get(k)]));
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Every value tagged with `kwargsType`, by key. */
  getByKwargs(kwargsType: string): Record<string, unknown> {
    return this.get(this.kwargsMapping.get(kwargsType) ?? []);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }

  /** A new state with the same values and tags (the values themselves are shared). */
  copy(): PipelineState {
    const next = new PipelineState({ values: this.values, context: this.context });
    for (const [k, keys] of this.kwargsMapping) next.kwargsMapping.set(k, [...keys]);
    return next;
  }

  toString(): string {
    const values = [...this.values].map(([k, v]) => `    ${k}: ${formatStateValue(v)}`).join('\n');
    const tags = [...this.kwargsMapping].map(([k, keys]) => `    ${k}: [${keys.map((x) => `'${x}'`).join(', ')}]`).join('\n');
    return `PipelineState(\n  values={\n${values}\n  },\n  kwargs_mapping={\n${tags}\n  }\n)`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
