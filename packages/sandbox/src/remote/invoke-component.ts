/**
 * The host side of `capabilities.invokeComponent(name, method, args)`: the
 * one door from sandboxed block code to host components. It serves only the
 * components of the pipeline it was made for, only while that pipeline runs,
 * and only methods on the component type's allow-list (component-access.ts).
 */
import type { SandboxValue } from '../sandbox/sandbox-value.js';
import { FORBIDDEN_MEMBERS, componentAccessFor, type ComponentAccess } from './component-access.js';
import { RemoteComponentAccessError } from './remote-errors.js';
import type { RemoteValueCodec } from './remote-value-codec.js';

export interface ComponentInvokerOptions {
  /** The pipeline's component slots: `exists` false for a name it does not have. */
  lookup(name: string): { exists: boolean; value: unknown };
  /** Names of the pipeline's components, for messages. */
  names(): string[];
  /** Null when calls are allowed now; otherwise why not (no run in progress, the run was aborted). */
  refusal(): string | null;
  codec: RemoteValueCodec;
  /** Per-pipeline entries that take precedence over the registered and built-in allow-lists. */
  access?: Readonly<Record<string, ComponentAccess>>;
}

export type ComponentInvoker = (...args: SandboxValue[]) => Promise<SandboxValue>;

export function createComponentInvoker(options: ComponentInvokerOptions): ComponentInvoker {
  return async (...raw: SandboxValue[]): Promise<SandboxValue> => {
    const [name, method, args] = raw;
    if (typeof name !== 'string' || typeof method !== 'string' || !Array.isArray(args) || raw.length !== 3) {
      throw new RemoteComponentAccessError('invokeComponent(name, method, args) takes a component name, a method name and an array of arguments');
    }
    const refusal = options.refusal();
    if (refusal !== null) throw new RemoteComponentAccessError(`component '${name}' was not called: ${refusal}`);
    const slot = options.lookup(name);
    if (!slot.exists) {
      throw new RemoteComponentAccessError(`this pipeline has no component '${name}' (its components: ${options.names().join(', ') || 'none'})`);
    }
    const component = slot.value;
    if (component === null || component === undefined) {
      throw new RemoteComponentAccessError(
        `component '${name}' is not loaded; load it on the host (pipeline.loadComponents()) or set it with pipeline.updateComponents() before running`,
      );
    }
    const entry = componentAccessFor(component, options.access);
    const className = (component as { constructor?: { name?: string } }).constructor?.name ?? typeof component;
    if (entry === null) {
      throw new RemoteComponentAccessError(
        `component '${name}' (${className}) offers no methods to sandboxed code; the host can allow some with registerComponentAccess('${className}', { methods, properties })`,
      );
    }
    if (FORBIDDEN_MEMBERS.has(method) || !entry.access.methods.includes(method)) {
      throw new RemoteComponentAccessError(
        `method '${method}' of component '${name}' (${className}) is not allowed; allowed: ${entry.access.methods.join(', ') || 'none'}`,
      );
    }
    const fn = (component as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new RemoteComponentAccessError(`component '${name}' (${className}) has no method '${method}'`);
    const decoded = options.codec.decode(args) as unknown[];
    const result = await (fn as (...a: unknown[]) => unknown).apply(component, decoded);
    return options.codec.encode(result, { lenient: true, label: `${name}.${method}() result` }) as SandboxValue;
  };
}
