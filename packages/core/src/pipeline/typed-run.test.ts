import { describe, expect, expectTypeOf, it } from 'vitest';
import { TypedBlock, blockSpec, input, output } from '../blocks/typed-block.js';
import type { BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineState } from '../state/pipeline-state.js';
import { callable } from './callable-pipeline.js';
import { ModularPipeline } from './modular-pipeline.js';

const halfSpec = blockSpec({
  description: 'Halves x, and names the result',
  inputs: { x: input<number>({ required: true }), unit: input<string>({ default: 'm' }) },
  outputs: { half: output<number>(), label: output<string>() },
});

class HalfStep extends TypedBlock(halfSpec) {
  override async call(components: ModularPipeline, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.half = bs.x / 2;
    bs.label = `${bs.half} ${bs.unit}`;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** Outputs that depend on an input, the way SDXL's images depend on output_type. */
interface HalfOutputs {
  readonly '~inputs'?: unknown;
  readonly half: number;
  readonly label: NonNullable<this['~inputs']> extends { readonly unit: 'raw' } ? never : string;
}

class HalfPipeline extends ModularPipeline<HalfOutputs> {}

describe('typed run results', () => {
  it('types run and the callable form by the pipeline class outputs: half = x / 2 (4 -> 2)', async () => {
    const pipe = new HalfStep().initPipeline({ pipelineClass: HalfPipeline });
    const half = await pipe.run({ x: 4, output: 'half' });
    expectTypeOf(half).toEqualTypeOf<number>();
    expect(half).toBe(2);
    const both = await pipe({ x: 4, output: ['half', 'label'] });
    expectTypeOf(both).toEqualTypeOf<{ half: number; label: string }>();
    expect(both).toEqual({ half: 2, label: '2 m' });
    const raw = await pipe({ x: 4, unit: 'raw', output: 'label' });
    expectTypeOf(raw).toEqualTypeOf<never>();
    const state = await pipe.run({ x: 4 });
    expectTypeOf(state).toEqualTypeOf<PipelineState>();
    expect(state).toBeInstanceOf(PipelineState);
  });

  it('reads an output no declaration types as unknown, never as any', async () => {
    const pipe = new HalfStep().initPipeline();
    const half = await pipe.run({ x: 4, output: 'half' });
    expectTypeOf(half).toBeUnknown();
    // @ts-expect-error an untyped output is unknown: it must be narrowed before use as a number
    const n: number = half;
    expect(n).toBe(2);
  });

  it('makes callability opt in: a constructed pipeline is a plain object until callable() wraps it', async () => {
    const plain = new HalfPipeline(new HalfStep());
    expect(typeof plain).toBe('object');
    const wrapped = callable(plain);
    expect(typeof wrapped).toBe('function');
    expect(callable(plain)).toBe(wrapped);
    expect(await wrapped({ x: 6, output: 'half' })).toBe(3);
    expect(await plain.to('cpu')).toBe(wrapped);
  });
});
