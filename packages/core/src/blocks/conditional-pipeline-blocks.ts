import type { ComponentSpec } from '../components/component-spec.js';
import { mergeComponentSpecs, mergeConfigSpecs } from '../components/merge-component-specs.js';
import { BlockDefinitionError } from '../errors.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import type { ModularPipeline } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import type { BlockLike } from './blocks-dict.js';
import { alternativeInputs, combineOutputs } from './combine-params.js';
import { ModularPipelineBlocks, type BlockResult } from './modular-pipeline-blocks.js';
import { populateFromStatics } from './sequential-pipeline-blocks.js';

/**
 * Alternative branches, one of which runs, chosen at run time from which
 * trigger inputs are present in the state. Subclasses list the branches in
 * `static blockClasses` / `blockNames` / `blockTriggerInputs` and implement
 * `selectBlock`; `defaultBlockName` runs when nothing is selected, and
 * without one the whole block is skipped.
 */
export class ConditionalPipelineBlocks extends ModularPipelineBlocks {
  static blockClasses: readonly BlockLike[] = [];
  static blockNames: readonly string[] = [];
  static blockTriggerInputs: readonly (string | null)[] = [];
  static defaultBlockName: string | null = null;

  constructor() {
    super();
    populateFromStatics(this);
    const def = this.defaultBlockName;
    if (def !== null && !this.blocks.has(def)) {
      throw new BlockDefinitionError(`${this.className}: defaultBlockName '${def}' is not one of its blocks (${this.blocks.keys().join(', ')}).`);
    }
  }

  /** The state keys `selectBlock` looks at. */
  get blockTriggerInputs(): (string | null)[] {
    return [...(this.constructor as typeof ConditionalPipelineBlocks).blockTriggerInputs];
  }

  get defaultBlockName(): string | null {
    return (this.constructor as typeof ConditionalPipelineBlocks).defaultBlockName;
  }

  /**
   * The branch to run given the trigger values (undefined/null = absent), or
   * null for "none" (then the default runs, or the block is skipped).
   */
  selectBlock(triggers: Record<string, unknown>): string | null {
    void triggers;
    throw new BlockDefinitionError(`${this.className} must implement selectBlock(triggers).`);
  }

  override get isComposite(): boolean {
    return true;
  }

  override get isSkippable(): boolean {
    return this.defaultBlockName === null;
  }

  override get showsTriggerBanner(): boolean {
    return true;
  }

  override get modelName(): string | null {
    const own = (this.constructor as typeof ModularPipelineBlocks).modelName;
    return own ?? this.blocks.values()[0]?.modelName ?? null;
  }

  override get triggerInputs(): string[] {
    const found = new Set(super.triggerInputs);
    for (const t of this.blockTriggerInputs) if (t !== null) found.add(t);
    return [...found].sort();
  }

  override get expectedComponents(): ComponentSpec[] {
    return mergeComponentSpecs(this.blocks.entries().map(([name, b]) => ({ block: `'${name}' (${b.className})`, specs: b.expectedComponents })));
  }

  override get expectedConfigs(): ConfigSpec[] {
    return mergeConfigSpecs(this.blocks.entries().map(([name, b]) => ({ block: name, specs: b.expectedConfigs })));
  }

  override get inputs(): InputParam[] {
    return alternativeInputs(
      this.blocks.entries().map(([name, b]) => [name, b.allInputs] as const),
      !this.isSkippable,
    );
  }

  override get allInputs(): InputParam[] {
    return this.inputs;
  }

  override get intermediatesOutputs(): OutputParam[] {
    return combineOutputs(this.blocks.values().map((b) => b.outputs));
  }

  override get outputs(): OutputParam[] {
    return this.intermediatesOutputs;
  }

  /** The branch that runs for these trigger values, falling back to the default; null when skipped. */
  resolveBlockName(triggers: Record<string, unknown>): string | null {
    return this.selectBlock(triggers) ?? this.defaultBlockName;
  }

  override async call(components: ModularPipeline, state: PipelineState): Promise<BlockResult> {
    const triggers: Record<string, unknown> = {};
    for (const t of this.blockTriggerInputs) if (t !== null) triggers[t] = state.get(t);
    const name = this.resolveBlockName(triggers);
    if (name === null) {
      state.context.logger.info(`Skipping ${this.className}: none of its trigger inputs (${this.triggerInputs.join(', ')}) is set.`);
      return [components, state];
    }
    return this.runSubBlock(name, this.blocks.getOrThrow(name), components, state);
  }

  /** The block that would run when the given input names are present: a leaf, a flattened sequence, or null. */
  override getExecutionBlocks(...inputNames: string[]): ModularPipelineBlocks | null {
    const name = this.resolveBlockName(presence(this.blockTriggerInputs, new Set(inputNames)));
    if (name === null) return null;
    return this.blocks.getOrThrow(name).getExecutionBlocks(...inputNames);
  }

  override collectExecutionBlocks(name: string, active: Set<string>, out: Array<[string, ModularPipelineBlocks]>): void {
    const selected = this.resolveBlockName(presence(this.blockTriggerInputs, active));
    if (selected !== null) this.blocks.getOrThrow(selected).collectExecutionBlocks(name, active, out);
  }
}

function presence(triggers: readonly (string | null)[], active: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of triggers) if (t !== null) out[t] = active.has(t) ? true : undefined;
  return out;
}

/**
 * The guide's auto block: branch i runs when `blockTriggerInputs[i]` is
 * present, first match wins (list order is priority), and a `null` trigger
 * (last) marks the default branch.
 */
export class AutoPipelineBlocks extends ConditionalPipelineBlocks {
  constructor() {
    super();
    const ctor = this.constructor as typeof ConditionalPipelineBlocks;
    const triggers = ctor.blockTriggerInputs;
    if (triggers.length !== this.blocks.length) {
      throw new BlockDefinitionError(
        `${this.className}: blockClasses, blockNames and blockTriggerInputs must have the same length (${this.blocks.length} blocks, ${triggers.length} triggers).`,
      );
    }
    const nulls = triggers.filter((t) => t === null).length;
    if (nulls > 1 || (nulls === 1 && triggers[triggers.length - 1] !== null)) {
      throw new BlockDefinitionError(`${this.className}: at most one null (default) trigger, and it must be the last of blockTriggerInputs.`);
    }
    if (ctor.defaultBlockName !== null) {
      throw new BlockDefinitionError(`${this.className}: an AutoPipelineBlocks marks its default with a null trigger; do not set defaultBlockName.`);
    }
  }

  override get defaultBlockName(): string | null {
    const triggers = this.blockTriggerInputs;
    const at = triggers.indexOf(null);
    return at >= 0 ? (this.blocks.keys()[at] ?? null) : null;
  }

  override selectBlock(triggers: Record<string, unknown>): string | null {
    const names = this.blocks.keys();
    const list = this.blockTriggerInputs;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t !== null && t !== undefined && triggers[t] !== null && triggers[t] !== undefined) return names[i] ?? null;
    }
    return null;
  }

  /** The trigger of branch `name`, for the printout. */
  triggerOf(name: string): string | null {
    const at = this.blocks.keys().indexOf(name);
    return at >= 0 ? (this.blockTriggerInputs[at] ?? null) : null;
  }

  override formatSubBlockLabel(name: string, block: ModularPipelineBlocks): string {
    const trigger = this.triggerOf(name);
    return `    • ${name} ${trigger === null ? '[default]' : `[trigger: ${trigger}]`} (${block.className})`;
  }
}
