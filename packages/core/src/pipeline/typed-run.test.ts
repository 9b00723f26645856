import { describe, expect, expectTypeOf, it } from 'vitest';
import { TypedBlock, blockSpec, input, output, type InputsOf } from '../blocks/typed-block.js';
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

/** Inputs typed from the block's own declarations (what a family's pipeline class does with its blocks'). */
class HalfPipeline extends ModularPipeline<HalfOutputs, InputsOf<typeof halfSpec>> {}

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

  it('type-checks the inputs the pipeline class declares, and lets other names through', async () => {
    const pipe = new HalfStep().initPipeline({ pipelineClass: HalfPipeline });
    const typeOnly = () => {
      // @ts-expect-error x is declared a number
      void pipe.run({ x: 'four', output: 'half' });
      // @ts-expect-error the callable form checks the same
      void pipe({ unit: 3 });
      // null takes the default; a name the class does not declare (a plugin's input) is allowed
      void pipe.run({ x: 2, unit: null, plugin_input: true });
    };
    expect(typeof typeOnly).toBe('function');
    expect(await pipe.run({ x: 2, unit: null, output: 'label' })).toBe('1 m');
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
