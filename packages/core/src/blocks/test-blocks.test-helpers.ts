import { ComponentSpec } from '../components/component-spec.js';
import { ConfigSpec } from '../params/config-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { BlockState } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { AutoPipelineBlocks } from './conditional-pipeline-blocks.js';
import { LoopSequentialPipelineBlocks } from './loop-sequential-pipeline-blocks.js';
import { type BlockResult } from './modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';

// Small pure-TS blocks for the engine's unit tests: y = x + offset, z = y * factor.

export class AddStep extends PipelineBlock {
  static override modelName = 'toy';
  override get description() {
    return 'Adds offset to x';
  }
  override get expectedComponents() {
    return [new ComponentSpec('adder', 'Adder')];
  }
  override get expectedConfigs() {
    return [new ConfigSpec('scale_output', false)];
  }
  override get inputs() {
    return [new InputParam('x', { required: true, typeHint: 'int', description: 'The input' }), new InputParam('offset', { default: 1 })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('y', { typeHint: 'int', description: 'x + offset' })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ x: number; offset: number; y?: number }>(state);
    bs.y = bs.x + bs.offset;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class MulStep extends PipelineBlock {
  override get description() {
    return 'Multiplies y by factor';
  }
  override get inputs() {
    return [new InputParam('factor', { default: 2 })];
  }
  override get intermediatesInputs() {
    return [new InputParam('y', { required: true, typeHint: 'int' })];
  }
  override get intermediateOutputs() {
    return [new OutputParam('z', { typeHint: 'int' })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ y: number; factor: number; z?: number }>(state);
    bs.z = bs.y * bs.factor;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class NegStep extends PipelineBlock {
  override get description() {
    return 'Negates y (used as an alternative branch)';
  }
  override get inputs() {
    return [new InputParam('y', { required: true }), new InputParam('neg_flag')];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('z')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ y: number; z?: number }>(state);
    bs.z = -bs.y;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** Branch order is priority: neg_flag first, then factor, else skipped. */
export class AutoZ extends AutoPipelineBlocks {
  static override blockClasses = [NegStep, MulStep];
  static override blockNames = ['neg', 'mul'];
  static override blockTriggerInputs = ['neg_flag', 'factor'];
  override get description() {
    return 'Computes z if asked';
  }
}

/** Loop body: accumulate x into acc, then count. */
export class AccumulateStep extends PipelineBlock {
  override get intermediatesInputs() {
    return [new InputParam('acc', { required: true })];
  }
  override async call(components: PipelineComponents, bs: BlockState & Record<string, number>, i: number, t: number) {
    bs.delta = t * (i + 1);
    return [components, bs] as [PipelineComponents, BlockState];
  }
}

export class ApplyStep extends PipelineBlock {
  override get intermediatesOutputs() {
    return [new OutputParam('acc')];
  }
  override async call(components: PipelineComponents, bs: BlockState & Record<string, number>) {
    bs.acc = bs.acc + bs.delta;
    return [components, bs] as [PipelineComponents, BlockState];
  }
}

/** acc += t * (i + 1) for every t in `ts`. */
export class AccumulateLoop extends LoopSequentialPipelineBlocks {
  static override blockClasses = [AccumulateStep, ApplyStep];
  static override blockNames = ['accumulate', 'apply'];
  override get description() {
    return 'Accumulates over ts';
  }
  override get loopInputs() {
    return [new InputParam('ts', { required: true })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ ts: number[] }>(state);
    const progress = this.progressBar(bs, bs.ts.length);
    for (let i = 0; i < bs.ts.length; i++) {
      await this.loopStep(components, bs, i, bs.ts[i]);
      progress.update();
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}
