import type { ComponentSpec } from '../components/component-spec.js';
import { BlockDefinitionError, BlockExecutionError, InvalidArgumentError, MissingInputError, MissingOutputError, ModularDiffusersError, NotFoundError, UndeclaredOutputError } from '../errors.js';
import {
  getPretrainedHook,
  getPretrainedHooks,
  type BlocksFromPretrainedOptions,
  type SavePretrainedOptions,
  type SavePretrainedResult,
} from '../hub/pretrained-hooks.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import { createPipeline, type CallablePipeline, type InitPipelineOptions, type InitPipelineOptionsFor, type ModularPipeline } from '../pipeline/modular-pipeline.js';
import type { CallableOf } from '../pipeline/callable-pipeline.js';
import { BlockState, blockStateContext } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';
import type { BlockDeclarations, RunContext } from '../state/run-context.js';
import { inspectSymbol } from '../util/inspect.js';
import { BLOCKS_FROM_PRETRAINED_OPTIONS, SAVE_PRETRAINED_OPTIONS } from '../pipeline/pipeline-options.js';
import { installModularPipelineBlocksAliases } from '../compat/modular-pipeline-blocks-compat.js';
import { BLOCK_BRAND, isTypedBlockBase } from './block-brand.js';
import { BlocksDict } from './blocks-dict.js';
import { combineOutputs, uniqueInputs } from './combine-params.js';
import { formatCompositeBlocks, formatLeafBlock } from './format-blocks.js';
import { makeDocString } from './make-doc-string.js';
import type { RequirementsTree } from './requirements.js';
import { formatWorkflows, workflowInputNames, workflowTriggers, type WorkflowMap } from './workflows.js';

/** What a block's `call` resolves to: the components (the pipeline) and the state it updated. */
/** What `call` returns: the components (the pipeline) and the state it was given, updated. */
export type BlockResult<S = PipelineState> = [ModularPipeline, S] | readonly [ModularPipeline, S];

/**
 * The base of every block. A leaf block subclasses it (the guide's `PipelineBlock` is in compat/),
 * declares what it needs with getters, and implements `call`:
 *
 * ```ts
 * class MyStep extends ModularPipelineBlocks {
 *   static override modelName = 'stable-diffusion-xl';
 *   override get description() { return 'what it does'; }
 *   override get expectedComponents() { return [new ComponentSpec('vae', 'AutoencoderKL')]; }
 *   override get inputs() { return [new InputParam('image', { required: true })]; }
 *   override get intermediatesOutputs() { return [new OutputParam('image_latents')]; }
 *   override async call(components: ModularPipeline, state: PipelineState) {
 *     const blockState = this.getBlockState(state);
 *     blockState.image_latents = await components.vae.encode(blockState.image);
 *     this.setBlockState(state, blockState);
 *     return [components, state] as const;
 *   }
 * }
 * ```
 */
export class ModularPipelineBlocks {
  /** The model family, used to pick the pipeline class in `initPipeline` (e.g. 'stable-diffusion-xl'). */
  static modelName: string | null = null;

  /**
   * Named workflows of a composite (diffusers' `_workflow_map`): `{ image2image: { image: true, prompt: true } }`.
   * `getWorkflow(name)` prunes the blocks to what runs for those inputs; `fromPretrained(repo, { workflow })`
   * and `loadComponents({ workflow })` use it.
   */
  static workflowMap: WorkflowMap | null = null;

  /**
   * Python packages a repo of these blocks needs, as PEP 440 specifiers (`{ torch: '>=2.0' }`):
   * diffusers' `_requirements`, saved as `requirements` in `modular_config.json`.
   */
  static requirements: Readonly<Record<string, string>> | null = null;

  /** npm packages the blocks need (`{ '@modular-diffusers/sdxl': '^0.1.0' }`), saved as `npm_requirements`. */
  static npmRequirements: Readonly<Record<string, string>> | null = null;

  /** Sub-blocks by name; empty for a leaf. */
  readonly blocks: BlocksDict;

  constructor() {
    this.blocks = new BlocksDict();
  }

  // ---- declarations: override these getters -------------------------------------------------

  get modelName(): string | null {
    return (this.constructor as typeof ModularPipelineBlocks).modelName ?? null;
  }

  get description(): string {
    return '';
  }

  get expectedComponents(): ComponentSpec[] {
    return [];
  }

  get expectedConfigs(): ConfigSpec[] {
    return [];
  }

  /** Values the block reads (from the caller or an earlier block). */
  get inputs(): InputParam[] {
    return [];
  }

  /**
   * The values the block writes to the state (the guide's name; `outputs` is what a block
   * writes in all). The old spellings of the other hooks live in compat/.
   */
  get intermediatesOutputs(): OutputParam[] {
    return [];
  }

  // ---- derived views ------------------------------------------------------------------------

  /** Every input the block reads: `inputs` plus the intermediate-input lists, first declaration per name. */
  get allInputs(): InputParam[] {
    return uniqueInputs(this.inputs, this.intermediatesInputs, this.intermediateInputs);
  }

  /** Every value the block writes. */
  get outputs(): OutputParam[] {
    return combineOutputs([this.intermediatesOutputs, this.intermediateOutputs]);
  }

  get inputNames(): string[] {
    return this.allInputs.flatMap((p) => (p.name ? [p.name] : []));
  }

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  get requiredInputs(): string[] {
    return this.allInputs.filter((p) => p.required && p.name).map((p) => p.name as string);
  }

  get componentNames(): string[] {
    return this.expectedComponents.map((c) => c.name);
  }

  /** This class's `requirements` and, under each sub-block's name, that sub-block's (diffusers' `_requirements`). */
  get requirements(): RequirementsTree {
    return this.requirementsTree((b) => b.requirements, (this.constructor as typeof ModularPipelineBlocks).requirements);
  }

  /** Like `requirements`, for npm packages. */
  get npmRequirements(): RequirementsTree {
    return this.requirementsTree((b) => b.npmRequirements, (this.constructor as typeof ModularPipelineBlocks).npmRequirements);
  }

  private requirementsTree(of: (b: ModularPipelineBlocks) => RequirementsTree, own: Readonly<Record<string, string>> | null): RequirementsTree {
    const tree: Record<string, string | RequirementsTree> = { ...own };
    for (const [name, block] of this.blocks) {
      const sub = of(block);
      if (Object.keys(sub).length > 0) tree[name] = sub;
    }
    return tree;
  }

  /** True for sequential, loop and conditional blocks. */
  get isComposite(): boolean {
    return false;
  }

  /** True when the block may not run at all (a conditional block without a default branch). */
  get isSkippable(): boolean {
    return false;
  }

  /** Whether the printout shows the trigger-inputs banner (sequential and conditional blocks do). */
  get showsTriggerBanner(): boolean {
    return false;
  }

  /** Every trigger input of conditional blocks in this tree, sorted. */
  get triggerInputs(): string[] {
    const found = new Set<string>();
    for (const sub of this.blocks.values()) for (const t of sub.triggerInputs) found.add(t);
    return [...found].sort();
  }

  get className(): string {
    return this.constructor.name;
  }

  /** The direct parent class's name: the `Class:` line of the printout. */
  get baseClassName(): string {
    let base: unknown = Object.getPrototypeOf(this.constructor);
    while (isTypedBlockBase(base)) base = Object.getPrototypeOf(base);
    return (base as { name?: string } | null)?.name ?? '';
  }

  // ---- running ------------------------------------------------------------------------------

  /**
   * Runs the block. A top-level block gets `(components, state)`; a block
   * inside a loop gets `(components, blockState, i, t)` and returns the
   * block state.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  async call(components: ModularPipeline, state: PipelineState | BlockState, ...loopArgs: unknown[]): Promise<BlockResult<PipelineState | BlockState>> {
    throw new BlockDefinitionError(`${this.className} does not implement call(components, state).`);
  }

  /** `allInputs` and `outputs`, computed once per pipeline run (see RunContext.declarations). */
  declarationsIn(state: PipelineState): BlockDeclarations {
    const cache = state.context.declarations;
    let found = cache?.get(this);
    if (!found) {
      found = { allInputs: this.allInputs, outputs: this.outputs };
      cache?.set(this, found);
    }
    return found;
  }

  /**
   * Reads the block's inputs from the state into a BlockState: a missing
   * value takes the input's default, a missing required input throws a
   * MissingInputError naming it and this block, and a kwargs-only input
   * collects every value tagged with its kwargs type (individually and as a
   * dict under the kwargs type's name).
   */
  getBlockState<T extends object = Record<string, unknown>>(state: PipelineState): BlockState & T {
    const { allInputs, outputs } = this.declarationsIn(state);
    const values = new Map<string, unknown>();
    const declared = new Set<string>();
    for (const param of allInputs) {
      if (param.name) {
        declared.add(param.name);
        let value = state.get(param.name);
        if (value === null || value === undefined) value = param.default ?? value;
        if (param.required && (value === null || value === undefined)) {
          throw new MissingInputError(param.name, this.describeRequirer(param.name));
        }
        if (!values.has(param.name) || values.get(param.name) == null) values.set(param.name, value);
      } else if (param.kwargsType) {
        const group = { ...((values.get(param.kwargsType) as Record<string, unknown> | undefined) ?? {}) };
        for (const [key, value] of Object.entries(state.getByKwargs(param.kwargsType))) {
          if (value === null || value === undefined) continue;
          declared.add(key);
          if (values.get(key) == null) values.set(key, value);
          group[key] = value;
        }
        declared.add(param.kwargsType);
        values.set(param.kwargsType, group);
      }
    }
    for (const out of outputs) declared.add(out.name);
    return new BlockState(values, {
      declared,
      strict: state.strict,
      owner: this.className,
      context: state.context,
    }) as BlockState & T;
  }

  /**
   * Writes the block's outputs back to the state (with their kwargs tags),
   * plus any input the block replaced. A declared output that was never set
   * throws; in strict mode so does a changed pipeline value the block does
   * not declare, since that change would be lost.
   */
  setBlockState(state: PipelineState, blockState: BlockState): void {
    const bs = blockState as BlockState & Record<string, unknown>;
    const { allInputs, outputs } = this.declarationsIn(state);
    const outputNames = new Set(outputs.map((o) => o.name));
    for (const out of outputs) {
      if (!bs.has(out.name)) throw new MissingOutputError(out.name, this.className);
      state.set(out.name, bs[out.name], out.kwargsType);
    }
    const declared = new Set(outputNames);
    for (const param of allInputs) {
      if (param.name) {
        declared.add(param.name);
        if (outputNames.has(param.name) || !bs.has(param.name)) continue;
        const value = bs[param.name];
        if (value !== state.get(param.name)) state.set(param.name, value, param.kwargsType);
      } else if (param.kwargsType) {
        declared.add(param.kwargsType);
        for (const [key, current] of Object.entries(state.getByKwargs(param.kwargsType))) {
          declared.add(key);
          if (bs.has(key) && bs[key] !== current) state.set(key, bs[key], param.kwargsType);
        }
      }
    }
    if (state.strict) {
      for (const key of bs.keys()) {
        if (!declared.has(key) && state.has(key) && state.get(key) !== bs[key]) throw new UndeclaredOutputError(key, this.className);
      }
    }
  }

  /**
   * Runs one sub-block and checks what it returned; engine errors get the
   * sub-block's name prepended to their `blockPath`, other errors are wrapped
   * in a BlockExecutionError that keeps the original as `cause`.
   */
  protected async runSubBlock<S>(name: string, block: ModularPipelineBlocks, components: ModularPipeline, state: S, ...args: unknown[]): Promise<[ModularPipeline, S]> {
    let result: unknown;
    try {
      await runContextOf(state)?.beforeBlock?.(block, name);
      result = await block.call(components, state as PipelineState, ...args);
    } catch (error) {
      if (error instanceof ModularDiffusersError) {
        error.blockPath.unshift(name);
        throw error;
      }
      const wrapped = new BlockExecutionError(`'${name}' (${block.className})`, error);
      wrapped.blockPath.push(name);
      throw wrapped;
    }
    if (!Array.isArray(result) || result.length !== 2) {
      throw new BlockDefinitionError(`${block.className}.call() must return [components, state]; it returned ${String(result)}.`);
    }
    return [result[0] as ModularPipeline, result[1] as S];
  }

  /**
   * Checks the caller's inputs before any block of the run executes, so a
   * bad input fails with a clear error before a model has run. The state
   * holds the caller's values and input defaults only (nothing computed
   * yet). A leaf overrides it to check the inputs it reads; a composite
   * checks every sub-block, selected at runtime or not, and each check looks
   * only at values that were given.
   */
  validateInputs(components: ModularPipeline, state: PipelineState): void {
    for (const block of this.blocks.values()) block.validateInputs(components, state);
  }

  /** Names the block (and, in a composite, the sub-block) that requires `input`. */
  protected describeRequirer(input: string): string {
    const path = findRequirer(this, input);
    return path ? `${this.className} (needed by sub-block '${path.join('.')}')` : this.className;
  }

  // ---- structure ----------------------------------------------------------------------------

  /** A sub-block by dotted path, e.g. `getBlock('denoise.before_denoiser')`. */
  getBlock(path: string): ModularPipelineBlocks {
    let current: ModularPipelineBlocks = this;
    for (const part of path.split('.')) {
      const next = current.blocks.get(part);
      if (!next) {
        throw new NotFoundError(
          `No sub-block '${part}' in ${current.className} (looking up '${path}'). Its blocks are: ${current.blocks.keys().join(', ') || '(none)'}.`,
        );
      }
      current = next;
    }
    return current;
  }

  /**
   * The blocks that would run for the given input names: a dry run that
   * resolves conditional blocks and returns a flat sequence with dotted names.
   */
  getExecutionBlocks(...inputNames: string[]): ModularPipelineBlocks | null {
    void inputNames;
    return this;
  }

  get workflowMap(): WorkflowMap | null {
    return (this.constructor as typeof ModularPipelineBlocks).workflowMap ?? null;
  }

  /** The names of the workflows this class declares; throws when it declares none. */
  get availableWorkflows(): string[] {
    return Object.keys(workflowTriggers(this.workflowMap, this.className));
  }

  /** The blocks that run for `workflow` (a flattened sequence); the error for an unknown name lists the available ones. */
  getWorkflow(workflow: string): ModularPipelineBlocks {
    const names = workflowInputNames(this.workflowMap, workflow, this.className);
    const blocks = this.getExecutionBlocks(...names);
    if (blocks === null) throw new InvalidArgumentError(`Workflow '${workflow}' of ${this.className} selects no blocks.`);
    return blocks;
  }

  /** @internal Appends `[dottedName, block]` for the leaves (and loops) that would run. */
  collectExecutionBlocks(name: string, active: Set<string>, out: Array<[string, ModularPipelineBlocks]>): void {
    out.push([name, this]);
    for (const o of this.outputs) active.add(o.name);
  }

  /**
   * A copy of this block tree: the same classes and settings, new `blocks`
   * dicts all the way down, so editing one never changes the other.
   */
  clone(): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    for (const key of Reflect.ownKeys(this)) {
      const descriptor = Object.getOwnPropertyDescriptor(this, key)!;
      if ('value' in descriptor && descriptor.value instanceof BlocksDict) descriptor.value = descriptor.value.deepCopy();
      Object.defineProperty(copy, key, descriptor);
    }
    return copy;
  }

  /**
   * Builds a pipeline from a copy of these blocks; later edits to the blocks do not change it. It is
   * callable (`await pipeline({ prompt })`), and typed by `pipelineClass` when one is given.
   */
  initPipeline<P extends ModularPipeline = ModularPipeline>(repo?: string | null, options?: InitPipelineOptionsFor<P>): P & CallableOf<P>;
  initPipeline<P extends ModularPipeline = ModularPipeline>(options?: InitPipelineOptionsFor<P>): P & CallableOf<P>;
  initPipeline(repoOrOptions?: string | null | InitPipelineOptions, maybeOptions: InitPipelineOptions = {}): ModularPipeline & CallablePipeline {
    if (repoOrOptions !== null && repoOrOptions !== undefined && typeof repoOrOptions === 'object') {
      return createPipeline(this.clone(), null, repoOrOptions);
    }
    if (repoOrOptions !== null && repoOrOptions !== undefined && typeof repoOrOptions !== 'string') {
      throw new InvalidArgumentError('initPipeline(repo, options): repo must be a string (a Hub repo id or a local folder).');
    }
    return createPipeline(this.clone(), repoOrOptions ?? null, maybeOptions);
  }

  /** Loads a block class shared on the Hub; implemented by `@modular-diffusers/hub`. */
  static async fromPretrained(repo: string, options: BlocksFromPretrainedOptions = {}): Promise<ModularPipelineBlocks> {
    BLOCKS_FROM_PRETRAINED_OPTIONS.check(options);
    return getPretrainedHooks('ModularPipelineBlocks.fromPretrained').blocksFromPretrained(repo, options ?? {});
  }

  /** Writes `modular_config.json` (and a model card) to `dir`, optionally pushing it; implemented by `@modular-diffusers/hub`. */
  savePretrained(dir: string, options: SavePretrainedOptions = {}): Promise<SavePretrainedResult> {
    SAVE_PRETRAINED_OPTIONS.check(options, 'ModularPipelineBlocks.savePretrained');
    return getPretrainedHook('saveBlocks', 'ModularPipelineBlocks.savePretrained')(this, dir, options ?? {});
  }

  // ---- printing -----------------------------------------------------------------------------

  /** @internal How a sub-block is labelled in this block's printout. */
  formatSubBlockLabel(name: string, block: ModularPipelineBlocks, index: number): string {
    return `    [${index}] ${name} (${block.className})`;
  }

  /** @internal The description, followed (as in diffusers) by "Supported workflows:" when the class declares workflows. */
  get describedWorkflows(): string {
    const map = this.workflowMap;
    return map ? `${this.description}\n\n${formatWorkflows(map)}` : this.description;
  }

  /** The text documentation: description, components, configs, inputs and outputs. */
  get doc(): string {
    return makeDocString({
      className: this.className,
      description: this.describedWorkflows,
      components: this.expectedComponents,
      configs: this.expectedConfigs,
      inputs: this.allInputs,
      outputs: this.outputs,
    });
  }

  toString(): string {
    return this.isComposite ? formatCompositeBlocks(this) : formatLeafBlock(this);
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

Object.defineProperty(ModularPipelineBlocks.prototype, BLOCK_BRAND, { value: true });

function findRequirer(block: ModularPipelineBlocks, input: string): string[] | null {
  for (const [name, sub] of block.blocks) {
    if (sub.isComposite) {
      const inner = findRequirer(sub, input);
      if (inner) return [name, ...inner];
    } else if (sub.allInputs.some((p) => p.name === input && p.required)) {
      return [name];
    }
  }
  return null;
}

/** The run context a sub-block is called under: a PipelineState's, or the one a BlockState was made with. */
function runContextOf(state: unknown): RunContext | null {
  if (state instanceof BlockState) return blockStateContext(state);
  const context = (state as { context?: unknown } | null)?.context;
  return context !== null && typeof context === 'object' ? (context as RunContext) : null;
}

installModularPipelineBlocksAliases(ModularPipelineBlocks.prototype);
