/**
 * Callability, opt in: `callable(pipeline)` is the same pipeline that can also be awaited as a
 * function (`await pipeline({ prompt })`, the guide's `pipeline(prompt=...)`). `initPipeline`
 * and `fromPretrained` hand back the callable form; a pipeline constructed directly is a plain
 * object, so a subclass keeps ordinary (and #private) fields.
 */
import { inspectSymbol } from '../util/inspect.js';
import type { RunOptions } from './pipeline-options.js';
import type { RunInputs, RunInputsFor, RunResultFor, UntypedOutputs } from './run-result.js';

/** How a callable pipeline is called: exactly as its `run`. */
export interface CallablePipeline<Out extends object = UntypedOutputs, In extends object = {}> {
  <const I extends RunInputsFor<In> = {}>(inputs?: I, options?: RunOptions): Promise<RunResultFor<Out, I>>;
}

interface Runnable {
  run(inputs?: RunInputs, options?: RunOptions): Promise<unknown>;
  toString(): string;
}

/** Where an instance keeps its callable form, so `callable` is idempotent and `to()` can hand it back. */
const CALLABLE = Symbol('modular-diffusers.callable');

/** The callable form of `instance` made earlier by `callable`, if any. */
export function callableFormOf<P extends object>(instance: P): P | null {
  return ((instance as Record<symbol, unknown>)[CALLABLE] as P | undefined) ?? null;
}

/** The output types a pipeline declares with its type-level `'~outputs'` member (see ModularPipeline). */
export type PipelineOutputsOf<P> = P extends { readonly '~outputs'?: infer Out } ? (Out extends object ? Out : UntypedOutputs) : UntypedOutputs;

/** The run inputs a pipeline declares with its type-level `'~runInputs'` member (see ModularPipeline). */
export type PipelineInputsOf<P> = P extends { readonly '~runInputs'?: infer In } ? (In extends object ? In : {}) : {};

/** The callable form's type for pipeline `P`: its run, typed by its outputs and inputs. */
export type CallableOf<P> = CallablePipeline<PipelineOutputsOf<P>, PipelineInputsOf<P>>;

/**
 * Wraps `instance` in a function proxy so calling it runs it, while property access,
 * `instanceof` and methods behave as on the instance itself.
 */
export function callable<P extends Runnable>(instance: P): P & CallableOf<P> {
  const existing = callableFormOf(instance);
  if (existing) return existing as P & CallableOf<P>;
  const run = (args: unknown[]) => (instance.run as (...a: unknown[]) => Promise<unknown>).apply(instance, args);
  const target = ((...args: unknown[]) => run(args)) as unknown as object;
  // Node's inspect looks at a proxy's target, so the target carries the printout.
  Object.defineProperty(target, inspectSymbol, { value: () => instance.toString(), configurable: true });
  const bound = new Map<unknown, unknown>();
  const proxy = new Proxy(target, {
    apply: (_t, _this, args: unknown[]) => run(args),
    get: (_t, prop) => {
      const value = Reflect.get(instance, prop, instance);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      if (!bound.has(value)) bound.set(value, (value as (...a: unknown[]) => unknown).bind(instance));
      return bound.get(value);
    },
    set: (_t, prop, value) => Reflect.set(instance, prop, value, instance),
    has: (_t, prop) => Reflect.has(instance, prop),
    ownKeys: () => Reflect.ownKeys(instance),
    getOwnPropertyDescriptor: (_t, prop) => Reflect.getOwnPropertyDescriptor(instance, prop),
    defineProperty: (_t, prop, descriptor) => Reflect.defineProperty(instance, prop, descriptor),
    deleteProperty: (_t, prop) => Reflect.deleteProperty(instance, prop),
    getPrototypeOf: () => Object.getPrototypeOf(instance),
    setPrototypeOf: () => false,
  }) as P & CallableOf<P>;
  Object.defineProperty(instance, CALLABLE, { value: proxy, configurable: true });
  return proxy;
}
