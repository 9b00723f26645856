/**
 * Typed block declarations: a block says what it reads, writes and uses as
 * values (`input<number>()`, `output<Tensor>()`, `component<Vae>('AutoencoderKL')`),
 * and the state it gets from `getBlockState` and the components its `call`
 * sees are inferred from them, so renaming an output is a compile error in
 * the block that writes the old name.
 *
 * ```ts
 * const spec = blockSpec({
 *   description: 'Encodes the image',
 *   components: { vae: component<Vae>('AutoencoderKL') },
 *   inputs: { image: input<Tensor>({ required: true }) },
 *   outputs: { image_latents: output<Tensor>({ typeHint: 'Tensor' }) },
 * });
 * class EncodeStep extends TypedBlock(spec) {
 *   override async call(components: ComponentsOf<typeof spec>, state: PipelineState): Promise<BlockResult> {
 *     const bs = this.getBlockState(state);
 *     bs.image_latents = await components.vae.encode(bs.image);
 *     this.setBlockState(state, bs);
 *     return [components, state];
 *   }
 * }
 * ```
 *
 * The params built from a spec are the same InputParam/OutputParam/ComponentSpec
 * values a getter-declared block returns, so printouts, `doc` and composition
 * do not change; getter-declared blocks keep working beside typed ones.
 */
import { ComponentSpec, type ComponentSpecFields } from '../components/component-spec.js';
import type { ConfigSpec } from '../params/config-spec.js';
import { InputParam, type InputParamFields } from '../params/input-param.js';
import { OutputParam, type OutputParamFields } from '../params/output-param.js';
import type { TypeHint } from '../params/type-hint.js';
import type { ModularPipeline } from '../pipeline/modular-pipeline.js';
import type { BlockState } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { TYPED_BLOCK_BASE } from './block-brand.js';
import { ModularPipelineBlocks } from './modular-pipeline-blocks.js';

declare const valueType: unique symbol;

/** A declared input whose value in the block state has type `T`. */
export interface InputDecl<T> {
  readonly kind: 'input';
  readonly fields: Readonly<Omit<InputParamFields, 'name' | 'defaultsByBlock'>>;
  /** Set by kwargsInput(): the key is a kwargs type to collect, not a value's name. */
  readonly collectsKwargs?: true;
  /** Phantom: carries `T` (invariantly) for inference; never set. */
  readonly [valueType]?: (value: T) => T;
}

/** A declared output of type `T`. */
export interface OutputDecl<T> {
  readonly kind: 'output';
  readonly fields: Readonly<Omit<OutputParamFields, 'name'>>;
  readonly [valueType]?: (value: T) => T;
}

/** A declared component whose object has type `C`. */
export interface ComponentDecl<C> {
  readonly kind: 'component';
  readonly type: TypeHint;
  readonly fields: Readonly<Omit<ComponentSpecFields, 'name' | 'type'>>;
  readonly [valueType]?: (value: C) => C;
}

/** The fields of an input, with the default typed as the value. */
export interface InputFields<T> {
  typeHint?: TypeHint;
  description?: string;
  required?: boolean;
  default?: T;
  kwargsType?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** A required input, or one with a default, is always set: its state value has type `T`; otherwise `T | undefined`. */
export function input<T>(fields: InputFields<T> & { required: true }): InputDecl<T>;
export function input<T>(fields: InputFields<T> & { default: T }): InputDecl<T>;
export function input<T>(fields?: InputFields<T>): InputDecl<T | undefined>;
export function input<T>(fields: InputFields<T> = {}): InputDecl<T | undefined> {
  return { kind: 'input', fields: { ...fields } };
}

/**
 * Every state value tagged with the kwargs type this input is keyed by
 * (`guider_input_fields: kwargsInput()`): the block state holds each one under
 * its own name and all of them as one record under the key, whose type this is.
 * The param is nameless, as `new InputParam({ kwargsType })` is.
 */
export function kwargsInput<T = unknown>(fields: Pick<InputFields<never>, 'typeHint' | 'description' | 'metadata'> = {}): InputDecl<Record<string, T>> {
  return { kind: 'input', fields: { ...fields }, collectsKwargs: true };
}

export function output<T>(fields: Omit<OutputParamFields, 'name'> = {}): OutputDecl<T> {
  return { kind: 'output', fields: { ...fields } };
}

type ClassOf<C> = abstract new (...args: never[]) => C;

/**
 * A component by class (`component(UNet2DConditionModel)`: the object type is the class's instances)
 * or by type name with the object type given (`component<Vae>('AutoencoderKL')`).
 */
export function component<C>(type: ClassOf<C>, fields?: Omit<ComponentSpecFields, 'name' | 'type'>): ComponentDecl<C>;
export function component<C = unknown>(type: string, fields?: Omit<ComponentSpecFields, 'name' | 'type'>): ComponentDecl<C>;
export function component<C>(type: string | ClassOf<C>, fields: Omit<ComponentSpecFields, 'name' | 'type'> = {}): ComponentDecl<C> {
  return { kind: 'component', type: type as TypeHint, fields: { ...fields } };
}

/** The ComponentSpec a declared component stands for, under `name` (what TypedBlock builds). */
export function componentSpecOf(name: string, decl: Pick<ComponentDecl<unknown>, 'type' | 'fields'>): ComponentSpec {
  return new ComponentSpec(name, decl.type, decl.fields);
}

// What a spec's entries must be, whatever their value type (the phantom makes InputDecl<T> invariant).
type SomeInput = Pick<InputDecl<never>, 'kind' | 'fields' | 'collectsKwargs'>;
type SomeOutput = Pick<OutputDecl<never>, 'kind' | 'fields'>;
type SomeComponent = Pick<ComponentDecl<never>, 'kind' | 'type' | 'fields'>;

/** What a typed block declares. Record keys are the names; their order is the printout's. */
export interface BlockSpec {
  readonly description?: string;
  readonly components?: Readonly<Record<string, SomeComponent>>;
  readonly configs?: readonly ConfigSpec[];
  readonly inputs?: Readonly<Record<string, SomeInput>>;
  readonly outputs?: Readonly<Record<string, SomeOutput>>;
}

/** Keeps the literal keys and value types of a spec (an identity at run time). */
export function blockSpec<const S extends BlockSpec>(spec: S): S {
  return spec;
}

type ValueOf<D> = D extends InputDecl<infer T> ? T : D extends OutputDecl<infer T> ? T : D extends ComponentDecl<infer T> ? T : never;
type Values<R> = { -readonly [K in keyof R]: ValueOf<R[K]> };

/** The values a block reads, by name. */
export type InputsOf<S extends BlockSpec> = S['inputs'] extends Readonly<Record<string, SomeInput>> ? Values<S['inputs']> : {};

/** The values a block writes, by name. */
export type OutputsOf<S extends BlockSpec> = S['outputs'] extends Readonly<Record<string, SomeOutput>> ? Values<S['outputs']> : {};

/**
 * The block state of a typed block: its inputs with their types, and its
 * outputs, unset until the block writes them. A name both read and written
 * keeps the input's type.
 */
export type StateOf<S extends BlockSpec> = InputsOf<S> & {
  [K in Exclude<keyof OutputsOf<S>, keyof InputsOf<S>>]: OutputsOf<S>[K] | undefined;
};

/** The components a typed block's `call` sees: the pipeline, with each declared component typed. */
export type ComponentsOf<S extends BlockSpec, P extends ModularPipeline = ModularPipeline> = P & {
  readonly [K in keyof NonNullable<S['components']>]: ValueOf<NonNullable<S['components']>[K]>;
};

/** What a typed block class adds to ModularPipelineBlocks: the spec and state typed from it. */
export interface TypedBlockMembers<S extends BlockSpec> {
  readonly spec: S;
  getBlockState<T extends object = StateOf<S>>(state: PipelineState): BlockState & T;
}

/**
 * The base's statics (modelName, workflowMap, ...) with one constructor making typed instances.
 * TypedBlockMembers comes first: in an intersection the first member's getBlockState is the
 * overload a call picks, and the base's own (untyped: `Record<string, unknown>`) must not be it.
 */
type TypedBlockClass<S extends BlockSpec, Base extends abstract new () => ModularPipelineBlocks> = { [K in keyof Base]: Base[K] } & (abstract new () => TypedBlockMembers<S> &
  InstanceType<Base>);

/**
 * The base class for a block declared by `spec`: its `description`,
 * `expectedComponents`, `expectedConfigs`, `inputs` and `intermediatesOutputs`
 * come from the spec, and `getBlockState` is typed by it. `base` is
 * ModularPipelineBlocks unless given (a block that extends another leaf class).
 */
export function TypedBlock<const S extends BlockSpec>(spec: S): TypedBlockClass<S, typeof ModularPipelineBlocks>;
export function TypedBlock<const S extends BlockSpec, Base extends abstract new () => ModularPipelineBlocks>(spec: S, base: Base): TypedBlockClass<S, Base>;
export function TypedBlock<const S extends BlockSpec>(spec: S, base: abstract new () => ModularPipelineBlocks = ModularPipelineBlocks): unknown {
  // Checked before any param is built from an entry, so a wrong entry gets this error, not a param's.
  for (const decl of [...Object.values(spec.inputs ?? {}), ...Object.values(spec.outputs ?? {}), ...Object.values(spec.components ?? {})]) {
    if (!decl || !['input', 'output', 'component'].includes((decl as { kind?: unknown }).kind as string)) {
      throw new TypeError('TypedBlock(spec): every entry of inputs/outputs/components must come from input(), output() or component().');
    }
  }
  const inputs = Object.entries(spec.inputs ?? {}).map(([name, decl]) =>
    decl.collectsKwargs ? new InputParam({ ...decl.fields, kwargsType: name }) : new InputParam(name, decl.fields),
  );
  const outputs = Object.entries(spec.outputs ?? {}).map(([name, decl]) => new OutputParam(name, decl.fields));
  const components = Object.entries(spec.components ?? {}).map(([name, decl]) => componentSpecOf(name, decl));
  const configs = [...(spec.configs ?? [])];

  abstract class Typed extends (base as typeof ModularPipelineBlocks) {
    get spec(): S {
      return spec;
    }

    override get description(): string {
      return spec.description ?? super.description;
    }

    // Fresh arrays (the params themselves are immutable), since callers may edit a returned list.
    override get expectedComponents(): ComponentSpec[] {
      return spec.components ? components.map((c) => c.clone()) : super.expectedComponents;
    }

    override get expectedConfigs(): ConfigSpec[] {
      return spec.configs ? [...configs] : super.expectedConfigs;
    }

    override get inputs(): InputParam[] {
      return spec.inputs ? [...inputs] : super.inputs;
    }

    override get intermediatesOutputs(): OutputParam[] {
      return spec.outputs ? [...outputs] : super.intermediatesOutputs;
    }
  }
  Object.defineProperty(Typed, TYPED_BLOCK_BASE, { value: true });
  return Typed;
}
