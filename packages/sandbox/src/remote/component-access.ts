/**
 * What sandboxed block code may do with each kind of host component. A
 * component that stays on the host (an ONNX model, a tokenizer, an image
 * processor backed by sharp) appears in the sandbox as a proxy holding a copy
 * of the listed `properties` and one async method per listed `methods` entry;
 * every other method is refused by the host, whatever the plugin sends.
 * Lifecycle methods (`release`, `preloadDecoder`, ...) are deliberately absent:
 * a plugin computes with components, it does not manage them.
 *
 * The table is keyed by class name and looked up along the component's
 * prototype chain, so a subclass inherits its parent's entry unless it has
 * its own.
 */

export interface ComponentAccess {
  /** Methods the sandbox may call; each becomes an async method on the proxy. */
  readonly methods: readonly string[];
  /** Values copied onto the proxy when it is (re)built: configs and small facts blocks read synchronously. */
  readonly properties: readonly string[];
}

const MODEL_FACTS = ['config', 'dtype'] as const;

/** The built-in allow-list (see the README's "Remote code" section for the same table). */
export const DEFAULT_COMPONENT_ACCESS: Readonly<Record<string, ComponentAccess>> = Object.freeze({
  CLIPTextModel: { methods: ['encode'], properties: [...MODEL_FACTS, 'numHiddenStates'] },
  CLIPTextModelWithProjection: { methods: ['encode'], properties: [...MODEL_FACTS, 'numHiddenStates'] },
  UNet2DConditionModel: {
    methods: ['predict'],
    properties: [...MODEL_FACTS, 'inChannels', 'timeCondProjDim', 'acceptsControlNetResiduals', 'acceptsImageEmbeds', 'downResidualInputs'],
  },
  AutoencoderKL: {
    methods: ['encode', 'decode'],
    properties: [...MODEL_FACTS, 'scalingFactor', 'latentChannels', 'scaleFactor', 'latentsMeanStd'],
  },
  ControlNetModel: {
    methods: ['run'],
    properties: [...MODEL_FACTS, 'acceptsControlType', 'numControlType', 'globalPoolConditions', 'downOutputNames'],
  },
  CLIPVisionModelWithProjection: { methods: ['encode'], properties: [...MODEL_FACTS, 'imageSize'] },
  ClipTokenizer: {
    methods: ['encode', 'decode', 'tokenize', 'tokenToId', 'idToToken'],
    properties: ['modelMaxLength', 'bosToken', 'eosToken', 'padToken', 'unkToken', 'bosTokenId', 'eosTokenId', 'padTokenId', 'unkTokenId', 'vocabSize'],
  },
  VaeImageProcessor: { methods: ['preprocess', 'postprocess', 'getDefaultHeightWidth', 'toConfigDict'], properties: ['config'] },
  CLIPImageProcessor: { methods: ['preprocess'], properties: ['config'] },
});

const registered = new Map<string, ComponentAccess>();

/**
 * Allows sandboxed code to use components of class `className` (your own component types).
 * Returns the previous entry. Method names must be own or inherited methods of the class.
 */
export function registerComponentAccess(className: string, access: ComponentAccess): ComponentAccess | undefined {
  checkAccess(className, access);
  const previous = registered.get(className) ?? DEFAULT_COMPONENT_ACCESS[className];
  registered.set(className, freezeAccess(access));
  return previous;
}

/** Removes an entry added with registerComponentAccess (built-in entries come back). */
export function unregisterComponentAccess(className: string): boolean {
  return registered.delete(className);
}

/**
 * The access entry for a host component: the first class on its prototype chain with an entry in
 * `overrides` (per pipeline), then the registered entries, then the built-in table. Null: the
 * component has no entry, so the sandbox gets no proxy for it and every call is refused.
 */
export function componentAccessFor(
  component: unknown,
  overrides: Readonly<Record<string, ComponentAccess>> = {},
): { className: string; access: ComponentAccess } | null {
  if (component === null || (typeof component !== 'object' && typeof component !== 'function')) return null;
  let proto = Object.getPrototypeOf(component) as { constructor?: { name?: unknown } } | null;
  for (let depth = 0; proto !== null && proto !== Object.prototype && depth < 32; depth += 1) {
    const name = Object.hasOwn(proto, 'constructor') ? proto.constructor?.name : undefined;
    if (typeof name === 'string' && name !== '') {
      const access = (Object.hasOwn(overrides, name) ? overrides[name] : undefined) ?? registered.get(name) ??
        (Object.hasOwn(DEFAULT_COMPONENT_ACCESS, name) ? DEFAULT_COMPONENT_ACCESS[name] : undefined);
      if (access) return { className: name, access };
    }
    proto = Object.getPrototypeOf(proto) as typeof proto;
  }
  return null;
}

function checkAccess(className: string, access: ComponentAccess): void {
  if (typeof className !== 'string' || className === '') throw new TypeError('registerComponentAccess: className must be a non-empty string.');
  if (!access || !Array.isArray(access.methods) || !Array.isArray(access.properties)) {
    throw new TypeError(`registerComponentAccess('${className}', access): access must be { methods: string[], properties: string[] }.`);
  }
  for (const name of [...access.methods, ...access.properties]) {
    if (typeof name !== 'string' || name === '' || FORBIDDEN_MEMBERS.has(name)) {
      throw new TypeError(`registerComponentAccess('${className}'): '${String(name)}' cannot be exposed to the sandbox.`);
    }
  }
}

/** Members that would hand out the object model itself rather than a computation. */
export const FORBIDDEN_MEMBERS: ReadonlySet<string> = new Set([
  'constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
  'then', 'toJSON', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString',
]);

function freezeAccess(access: ComponentAccess): ComponentAccess {
  return Object.freeze({ methods: Object.freeze([...access.methods]), properties: Object.freeze([...access.properties]) });
}
