/**
 * The host's view of blocks that live in a sandbox: a ModularPipelineBlocks
 * whose declarations, printout and doc were computed inside the sandbox and
 * copied out as data. It prints, documents and composes a pipeline exactly
 * like local blocks, but its code never runs in the host realm: `initPipeline`
 * builds a RemoteModularPipeline that runs the real blocks in its own sandbox.
 *
 * The sub-block tree is there for reading (`getBlock('denoise')`, printouts);
 * editing it on the host cannot change what runs in the sandbox, so a
 * pipeline refuses to run edited remote blocks.
 */
import {
  callable,
  ComponentSpec,
  ConfigSpec,
  InputParam,
  ModularPipelineBlocks,
  OutputParam,
  type BlockResult,
  type CallablePipeline,
  type InitPipelineOptions,
  type ModularPipeline,
  type PipelineState,
} from '@modular-diffusers/core';
import { RemotePipelineError } from './remote-errors.js';
import type { RemoteBlockDescription, RemoteDescribeResult } from './remote-protocol.js';
import type { RemoteSandboxOptions, RemoteSession, RemoteSource } from './remote-session.js';
import type { RemoteValueCodec } from './remote-value-codec.js';
import { RemoteModularPipeline, type RemotePipelineOptions } from './remote-modular-pipeline.js';

/** Shared by a remote blocks tree and its clones: where the code came from and how to run it. */
export interface RemoteOrigin {
  readonly source: RemoteSource;
  readonly options: RemoteSandboxOptions;
  readonly described: RemoteDescribeResult;
  /** Decodes values (defaults, configs) with host Tensors. */
  readonly codec: RemoteValueCodec;
  /** The sandbox that described the blocks, handed to the first pipeline built from the whole tree. */
  parked: RemoteSession | null;
}

export class RemoteBlocks extends ModularPipelineBlocks {
  readonly remoteOrigin: RemoteOrigin;
  readonly remoteDescription: RemoteBlockDescription;
  /** Path of this block under the bundle's export (empty for the export itself). */
  readonly remotePath: readonly string[];

  constructor(origin: RemoteOrigin, description: RemoteBlockDescription, path: readonly string[] = []) {
    super();
    this.remoteOrigin = origin;
    this.remoteDescription = description;
    this.remotePath = Object.freeze([...path]);
    for (const [name, sub] of description.subBlocks) this.blocks.set(name, new RemoteBlocks(origin, sub, [...path, name]));
  }

  override get className(): string {
    return this.remoteDescription.className;
  }

  override get baseClassName(): string {
    return this.remoteDescription.baseClassName;
  }

  override get modelName(): string | null {
    return this.remoteDescription.modelName;
  }

  override get description(): string {
    return this.remoteDescription.description;
  }

  override get expectedComponents(): ComponentSpec[] {
    return this.remoteDescription.components.map(
      (c) =>
        new ComponentSpec({
          name: c.name,
          type: c.type || null,
          library: c.library,
          description: c.description,
          config: c.config ? (this.remoteOrigin.codec.decode(c.config) as Record<string, unknown>) : null,
          pretrainedModelNameOrPath: c.repo,
          subfolder: c.subfolder,
          variant: c.variant,
          revision: c.revision,
          defaultCreationMethod: c.defaultCreationMethod,
        }),
    );
  }

  override get expectedConfigs(): ConfigSpec[] {
    return this.remoteDescription.configs.map((c) => new ConfigSpec({ name: c.name, default: this.remoteOrigin.codec.decode(c.default), description: c.description }));
  }

  override get inputs(): InputParam[] {
    return this.remoteDescription.inputs.map(
      (p) =>
        new InputParam({
          name: p.name,
          typeHint: p.typeHint || null,
          description: p.description,
          required: p.required,
          default: p.default === null ? undefined : this.remoteOrigin.codec.decode(p.default),
          kwargsType: p.kwargsType,
          metadata: p.metadata,
          defaultsByBlock: p.defaultsByBlock
            ? Object.fromEntries(Object.entries(p.defaultsByBlock).map(([k, v]) => [k, v === null ? undefined : this.remoteOrigin.codec.decode(v)]))
            : null,
        }),
    );
  }

  override get allInputs(): InputParam[] {
    return this.inputs;
  }

  override get intermediatesOutputs(): OutputParam[] {
    return this.outputs;
  }

  override get outputs(): OutputParam[] {
    return this.remoteDescription.outputs.map(
      (o) => new OutputParam({ name: o.name, typeHint: o.typeHint || null, description: o.description, kwargsType: o.kwargsType, metadata: o.metadata }),
    );
  }

  override get isComposite(): boolean {
    return this.remoteDescription.isComposite;
  }

  override get isSkippable(): boolean {
    return this.remoteDescription.isSkippable;
  }

  override get showsTriggerBanner(): boolean {
    return this.remoteDescription.showsTriggerBanner;
  }

  override get triggerInputs(): string[] {
    return [...this.remoteDescription.triggerInputs];
  }

  /** The sandbox's `doc` of these blocks. */
  override get doc(): string {
    return this.remoteDescription.doc;
  }

  /** The sandbox's printout of these blocks. */
  override toString(): string {
    return this.remoteDescription.printout;
  }

  override async call(components: ModularPipeline, state: PipelineState): Promise<BlockResult> {
    void components;
    void state;
    throw new RemotePipelineError(
      `${this.className} is remote code: it runs only inside its sandbox. Build a pipeline with blocks.initPipeline() and run that.`,
    );
  }

  /** A RemoteModularPipeline over a copy of these blocks, running them in a sandbox of its own. */
  override initPipeline(repo?: string | null, options?: RemotePipelineOptions): RemoteModularPipeline & CallablePipeline;
  override initPipeline(options?: RemotePipelineOptions): RemoteModularPipeline & CallablePipeline;
  override initPipeline(
    repoOrOptions?: string | null | InitPipelineOptions,
    maybeOptions: RemotePipelineOptions = {},
  ): RemoteModularPipeline & CallablePipeline {
    if (repoOrOptions !== null && repoOrOptions !== undefined && typeof repoOrOptions === 'object') {
      return callable(new RemoteModularPipeline(this.clone(), null, repoOrOptions));
    }
    if (repoOrOptions !== null && repoOrOptions !== undefined && typeof repoOrOptions !== 'string') {
      throw new RemotePipelineError('initPipeline(repo, options): repo must be a string (a Hub repo id or a local folder).');
    }
    return callable(new RemoteModularPipeline(this.clone(), repoOrOptions ?? null, maybeOptions));
  }

  /** Throws when the host-side tree no longer matches what the sandbox described. */
  assertUnedited(): void {
    const edited = findEdit(this, this.remoteDescription, this.className);
    if (edited) {
      throw new RemotePipelineError(
        `The remote blocks were edited on the host (${edited}); remote code cannot be changed from the host. ` +
          'Compose blocks inside the plugin (or locally with local blocks) instead.',
      );
    }
  }
}

function findEdit(block: ModularPipelineBlocks, description: RemoteBlockDescription, path: string): string | null {
  if (!(block instanceof RemoteBlocks) || block.remoteDescription !== description) return `'${path}' was replaced`;
  const names = block.blocks.keys();
  const expected = description.subBlocks.map(([name]) => name);
  if (names.join('\n') !== expected.join('\n')) return `the sub-blocks of '${path}' are now ${names.join(', ') || 'none'}`;
  for (const [name, sub] of description.subBlocks) {
    const found = findEdit(block.blocks.get(name)!, sub, `${path}.${name}`);
    if (found) return found;
  }
  return null;
}
