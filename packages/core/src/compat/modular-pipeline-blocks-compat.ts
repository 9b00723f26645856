/**
 * The developer guide's and older diffusers' spellings on every block, kept
 * working for blocks written that way (the guide's examples, published
 * plugins) during the deprecation period. They are installed on
 * `ModularPipelineBlocks.prototype` so a subclass can still override the
 * declaration hooks (`override get intermediatesInputs()`), and typed here by
 * merging into the class, so no other module repeats them.
 */
import type { BlocksDict } from '../blocks/blocks-dict.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import type { BlockState } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';

declare module '../blocks/modular-pipeline-blocks.js' {
  interface ModularPipelineBlocks {
    /**
     * The guide's name for inputs produced by earlier blocks; merged with `inputs`.
     * @deprecated Declare them in `inputs`.
     */
    get intermediatesInputs(): InputParam[];
    /**
     * diffusers v0.34's spelling of `intermediatesInputs`; merged with `inputs`.
     * @deprecated Declare them in `inputs`.
     */
    get intermediateInputs(): InputParam[];
    /**
     * Newer diffusers' spelling of `intermediatesOutputs`; both are merged into `outputs`.
     * @deprecated Use `intermediatesOutputs`.
     */
    get intermediateOutputs(): OutputParam[];
    /**
     * Newer diffusers' name for `blocks`.
     * @deprecated Use `blocks`.
     */
    get subBlocks(): BlocksDict;
    /**
     * The guide's name for `setBlockState`.
     * @deprecated Use `setBlockState`.
     */
    addBlockState(state: PipelineState, blockState: BlockState): void;
  }
}

/** What the aliases need of the class (its prototype's current spellings). */
interface BlocksPrototype {
  readonly blocks: BlocksDict;
  setBlockState(state: PipelineState, blockState: BlockState): void;
}

const none = (): never[] => [];

/** Installs the old spellings on the class's prototype; called once, by the class's own module. */
export function installModularPipelineBlocksAliases(prototype: BlocksPrototype): void {
  const getters: Record<string, (this: BlocksPrototype) => unknown> = {
    intermediatesInputs: none,
    intermediateInputs: none,
    intermediateOutputs: none,
    subBlocks(this: BlocksPrototype) {
      return this.blocks;
    },
  };
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(prototype, name, { get, enumerable: false, configurable: true });
  }
  Object.defineProperty(prototype, 'addBlockState', {
    value: function addBlockState(this: BlocksPrototype, state: PipelineState, blockState: BlockState): void {
      this.setBlockState(state, blockState);
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });
}
