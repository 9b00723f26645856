/**
 * How a pipeline's blocks run: the one interface local and remote pipelines differ by. A
 * ModularPipeline holds its components and loads them the same way whichever runner it has;
 * the local runner runs the blocks in this process, a remote one (the sandbox package's) in a
 * sandbox, reaching the same components through the pipeline.
 */
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ComponentsManager } from '../components/components-manager.js';
import type { Logger } from '../logger.js';
import type { ModularPipeline } from './modular-pipeline.js';
import type { RunOptions } from './pipeline-options.js';
import { runBlocks } from './run-blocks.js';
import { selectOutput, type RunInputs } from './run-result.js';

/** What a runner needs of the pipeline it runs for. */
export interface RunTarget {
  readonly blocks: ModularPipelineBlocks;
  /** The pipeline as blocks see it (`components.unet`). */
  readonly componentsView: ModularPipeline;
  readonly label: string;
  readonly strict: boolean;
  readonly logger: Logger;
  readonly maxMemory: number | string | null;
  readonly componentsManager: ComponentsManager | null;
  /** Makes a block's components resident before it runs, under auto offload. */
  prepareBlock(block: ModularPipelineBlocks, name: string): Promise<void>;
}

export interface BlocksRunner {
  /** The class name the pipeline reports when its blocks say another (a sandbox's pipeline class); absent: its own. */
  readonly pipelineClassName?: string;
  /**
   * Runs the target's blocks on `inputs` (already checked by the pipeline's `run`: RUN_OPTIONS and
   * checkRunInputs); resolves to what `inputs.output` selects (the whole state when none).
   */
  run(target: RunTarget, inputs: RunInputs, options: RunOptions): Promise<unknown>;
}

/** Runs the blocks in this process, on the pipeline's own component objects. */
export const localBlocksRunner: BlocksRunner = {
  async run(target, inputs, options) {
    return selectOutput(await runBlocks(target, inputs, options), inputs.output);
  },
};
