import { describe, expect, it } from 'vitest';
import { ComponentSpec } from '../components/component-spec.js';
import { MissingOutputError } from '../errors.js';
import { ConfigSpec } from '../params/config-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { ModularPipelineBlocks, type BlockResult } from './modular-pipeline-blocks.js';
import { SequentialPipelineBlocks } from './sequential-pipeline-blocks.js';
import { blockSpec, component, input, kwargsInput, output, TypedBlock, type ComponentsOf, type StateOf } from './typed-block.js';

/** What the typed block needs of its component. */
class Adder {
  constructor(readonly bias: number) {}
  add(a: number, b: number): number {
    return a + b + this.bias;
  }
}

const addSpec = blockSpec({
  description: 'Adds offset to x',
  components: { adder: component(Adder, { description: 'Adds two numbers' }) },
  configs: [new ConfigSpec('scale_output', false)],
  inputs: {
    x: input<number>({ required: true, typeHint: 'int', description: 'The input' }),
    offset: input<number>({ default: 1 }),
    label: input<string>(),
  },
  outputs: { y: output<number>({ typeHint: 'int', description: 'x + offset' }) },
});

class TypedAddStep extends TypedBlock(addSpec) {
  static override modelName = 'toy';

  override async call(components: ComponentsOf<typeof addSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    // Typed reads: x and offset are numbers (required / defaulted), label may be unset.
    const label: string = bs.label ?? 'none';
    bs.y = components.adder.add(bs.x, bs.offset);
    void label;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The same block declared the getter way: the printout and doc must not tell them apart. */
class GetterAddStep extends ModularPipelineBlocks {
  static override modelName = 'toy';
  override get description() {
    return 'Adds offset to x';
  }
  override get expectedComponents() {
    return [new ComponentSpec('adder', Adder, { description: 'Adds two numbers' })];
  }
  override get expectedConfigs() {
    return [new ConfigSpec('scale_output', false)];
  }
  override get inputs() {
    return [
      new InputParam('x', { required: true, typeHint: 'int', description: 'The input' }),
      new InputParam('offset', { default: 1 }),
      new InputParam('label'),
    ];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('y', { typeHint: 'int', description: 'x + offset' })];
  }
}

const doubleSpec = blockSpec({
  description: 'Doubles y',
  inputs: { y: input<number>({ required: true, typeHint: 'int' }) },
  outputs: { z: output<number>({ typeHint: 'int' }) },
});

class TypedDoubleStep extends TypedBlock(doubleSpec) {
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.z = bs.y * 2;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** Forgets to write its output: caught at run time by setBlockState, as for any block. */
class ForgetfulStep extends TypedBlock(doubleSpec) {
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    this.setBlockState(state, this.getBlockState(state));
    return [components, state];
  }
}

class TwoTypedSteps extends SequentialPipelineBlocks {
  static override blockClasses = [TypedAddStep, TypedDoubleStep];
  static override blockNames = ['add', 'double'];
}

const sumTaggedSpec = blockSpec({
  description: 'Sums the tagged values',
  inputs: {
    base: input<number>({ default: 0 }),
    addends: kwargsInput<number>({ description: 'Every value tagged addends' }),
  },
  outputs: { total: output<number>({ typeHint: 'int' }) },
});

class TypedSumTaggedStep extends TypedBlock(sumTaggedSpec) {
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const addends: Record<string, number> = bs.addends;
    bs.total = bs.base;
    for (const value of Object.values(addends)) bs.total += value;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

class GetterSumTaggedStep extends ModularPipelineBlocks {
  override get description() {
    return 'Sums the tagged values';
  }
  override get inputs() {
    return [new InputParam('base', { default: 0 }), new InputParam({ kwargsType: 'addends', description: 'Every value tagged addends' })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('total', { typeHint: 'int' })];
  }
}

/** Writes two values tagged `addends` for the kwargs input to collect. */
class TagAddendsStep extends ModularPipelineBlocks {
  override get intermediatesOutputs() {
    return [new OutputParam('a', { kwargsType: 'addends' }), new OutputParam('b', { kwargsType: 'addends' })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.a = 2;
    bs.b = 5;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

class TagThenSum extends SequentialPipelineBlocks {
  static override blockClasses = [TagAddendsStep, TypedSumTaggedStep];
  static override blockNames = ['tag', 'sum'];
}

describe('TypedBlock', () => {
  it('declares a kwargs input as the nameless param the getter form writes, and collects the tagged values under its key', async () => {
    const typed = new TypedSumTaggedStep();
    expect(typed.inputs.map((p) => [p.name, p.kwargsType])).toEqual([
      ['base', null],
      [null, 'addends'],
    ]);
    expect(typed.doc.replace('TypedSumTaggedStep', 'X')).toBe(new GetterSumTaggedStep().doc.replace('GetterSumTaggedStep', 'X'));
    // base 1 + tagged 2 + 5 = 8.
    expect(await new TagThenSum().initPipeline().run({ base: 1, output: 'total' })).toBe(8);
  });


  it('declares the same params as the getter form: printout, doc and names are identical', () => {
    const typed = new TypedAddStep();
    const getter = new GetterAddStep();
    // The Class: line names the real base (ModularPipelineBlocks), not the class TypedBlock made.
    expect(typed.baseClassName).toBe('ModularPipelineBlocks');
    expect(typed.toString().replace('TypedAddStep', 'X')).toBe(getter.toString().replace('GetterAddStep', 'X'));
    expect(typed.doc.replace('TypedAddStep', 'X')).toBe(getter.doc.replace('GetterAddStep', 'X'));
    expect(typed.inputNames).toEqual(['x', 'offset', 'label']);
    expect(typed.requiredInputs).toEqual(['x']);
    expect(typed.outputNames).toEqual(['y']);
    expect(typed.componentNames).toEqual(['adder']);
    expect(typed.expectedConfigs.map((c) => c.name)).toEqual(['scale_output']);
  });

  it('hands out fresh lists, so editing one does not change the block', () => {
    const typed = new TypedAddStep();
    typed.inputs.pop();
    typed.expectedComponents[0]!.name = 'renamed';
    expect(typed.inputNames).toEqual(['x', 'offset', 'label']);
    expect(typed.componentNames).toEqual(['adder']);
  });

  it('runs in a pipeline with typed components and state: y = x + offset + bias, z = 2y', async () => {
    const pipeline = new TwoTypedSteps().initPipeline();
    pipeline.updateComponents({ adder: new Adder(10) });
    // x=3, offset default 1, bias 10 -> y = 14, z = 28 (worked by hand).
    expect(await pipeline.run({ x: 3, output: ['y', 'z'] })).toEqual({ y: 14, z: 28 });
  });

  it('still checks at run time that the declared output was written', async () => {
    const pipeline = new ForgetfulStep().initPipeline();
    await expect(pipeline.run({ y: 1 })).rejects.toBeInstanceOf(MissingOutputError);
  });

  it('refuses a spec entry that did not come from input(), output() or component()', () => {
    const bad = { inputs: { x: new InputParam('x') } } as unknown as Parameters<typeof TypedBlock>[0];
    expect(() => TypedBlock(bad)).toThrow(/input\(\), output\(\) or component\(\)/);
  });

  it('makes a renamed output, an undeclared name and a wrong type compile errors (checked by tsc in npm run typecheck)', () => {
    // This body is type-checked, not run for its values: every @ts-expect-error below fails
    // `tsc --noEmit` if the line it marks ever compiles, e.g. if the state type fell back to `any`.
    const typeOnly = (bs: StateOf<typeof addSpec>, components: ComponentsOf<typeof addSpec>) => {
      // @ts-expect-error the output is `y`; writing a renamed `y_out` is an error
      bs.y_out = 1;
      // @ts-expect-error `y` is a number
      bs.y = 'one';
      // @ts-expect-error `label` may be unset: it is neither required nor defaulted
      const label: string = bs.label;
      // @ts-expect-error no component `subtractor` is declared
      void components.subtractor;
      // @ts-expect-error Adder.add takes numbers
      components.adder.add('1', 2);
      const x: number = bs.x;
      const offset: number = bs.offset;
      return [label, x, offset];
    };
    expect(typeof typeOnly).toBe('function');
  });

  it('types the state getBlockState returns, also over a named base class (checked by tsc)', () => {
    class OnGetterBase extends TypedBlock(addSpec, GetterAddStep) {}
    // The base's own untyped getBlockState must not be the overload picked: these lines would then compile.
    const typeOnly = (typed: TypedAddStep, onBase: OnGetterBase, state: PipelineState) => {
      const bs = typed.getBlockState(state);
      // @ts-expect-error `y` is a number
      bs.y = 'one';
      const based = onBase.getBlockState(state);
      // @ts-expect-error `label` may be unset
      const label: string = based.label;
      return label;
    };
    expect(typeof typeOnly).toBe('function');
  });
});
