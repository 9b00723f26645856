import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import { AddStep, MulStep, NegStep } from '../blocks/test-blocks.test-helpers.js';
import { AutoBoostStep, AutoZFromY, BoostStep, COUNT_BLOCKS, CountingLoop, PrepareLoopStep } from '../blocks/walkthrough-blocks.test-helpers.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ComponentsManager } from '../components/components-manager.js';
import { ComponentLoaderRegistry } from '../components/loader-registry.js';
import { MissingInputError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import { ModularPipeline } from './modular-pipeline.js';

// The developer guide's walkthrough (copy a preset, replace blocks, insert an auto step at 0, add
// a branch picked by an earlier output), replayed on small generic blocks: what the engine does with
// any family. The guide's own printouts are checked on the real blocks, in sdxl and plugins/diffdiff.

class Adder {}
const registry = () => new ComponentLoaderRegistry().register({ type: 'Adder', fromPretrained: async () => new Adder() });
const inputNames = (blocks: SequentialPipelineBlocks) => blocks.inputs.map((p) => p.key);

// Worked numbers: x = 3 and the default offset 1 give y = 4; the default factor 2 gives z = 8;
// the default num_steps 2 gives ts = [1, 2], so the loop ends at acc = 8 + 1 * 1 + 2 * 2 = 13.
const x = 3;

/** The blocks after the walkthrough's edits to a copy of the preset: mul replaced by NegStep. */
const EDITED_PRINTOUT = [
  'SequentialPipelineBlocks(',
  '  Class: ModularPipelineBlocks',
  '',
  '  Description: ',
  '',
  '',
  '  Components:',
  '      adder (`Adder`)',
  '',
  '  Configs:',
  '      scale_output (default: False)',
  '',
  '  Blocks:',
  '    [0] add (AddStep)',
  '       Description: Adds offset to x',
  '',
  '    [1] mul (NegStep)',
  '       Description: Negates y (used as an alternative branch)',
  '',
  '    [2] prepare_loop (PrepareLoopStep)',
  '       Description: Prepares the loop:',
  '                     1. ts counts from 1 to num_steps',
  '                     2. acc starts at z',
  '',
  '    [3] loop (CountingLoop)',
  '       Description: Counting loop that adds t * (i + 1) to acc for each t in ts',
  '',
  ')',
].join('\n');

const TRIGGER_BANNER = [
  '  ====================================================================================================',
  '  This pipeline contains blocks that are selected at runtime based on inputs.',
  "  Trigger Inputs: {'boost'}",
  "  Use `get_execution_blocks()` with input names to see selected blocks (e.g. `get_execution_blocks('boost')`).",
  '  ====================================================================================================',
];

describe('composition walkthrough on generic blocks', () => {
  it("prints a loop subclass with its parent as Class and the body's blocks", () => {
    expect(String(new CountingLoop())).toBe(
      [
        'CountingLoop(',
        '  Class: AccumulateLoop',
        '',
        '  Description: Counting loop that adds t * (i + 1) to acc for each t in ts',
        '',
        '',
        '  Blocks:',
        '    [0] accumulate (AccumulateStep)',
        '       Description: ',
        '',
        '    [1] apply (ApplyStep)',
        '       Description: ',
        '',
        ')',
      ].join('\n'),
    );
  });

  it('prints the blocks built from an edited copy of a preset, with multi-line descriptions indented', () => {
    const edited = COUNT_BLOCKS.copy();
    edited['mul'] = NegStep;
    expect(SequentialPipelineBlocks.fromBlocksDict(edited).toString()).toBe(EDITED_PRINTOUT);
    expect(COUNT_BLOCKS.get('mul')).toBe(MulStep); // the preset is untouched
  });

  it('prints an auto step with its trigger banner, and the sequence after inserting it at 0', () => {
    expect(new AutoBoostStep().toString()).toBe(
      [
        'AutoBoostStep(',
        '  Class: AutoPipelineBlocks',
        '',
        ...TRIGGER_BANNER,
        '',
        '',
        '  Description: Run the boost step if `boost` is provided.',
        '',
        '',
        '  Blocks:',
        '    • boost [trigger: boost] (BoostStep)',
        '       Description: Turns boost into an offset',
        '',
        ')',
      ].join('\n'),
    );
    const blocks = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS);
    blocks.blocks.insert('boost', new AutoBoostStep(), 0);
    const printout = blocks.toString();
    expect(printout.startsWith(['SequentialPipelineBlocks(', '  Class: ModularPipelineBlocks', '', ...TRIGGER_BANNER, '', '', '  Description: '].join('\n'))).toBe(true);
    expect(printout).toContain('    [0] boost (AutoBoostStep)\n       Description: Run the boost step if `boost` is provided.\n\n    [1] add (AddStep)\n');
    expect(printout).toContain('    [4] loop (CountingLoop)\n');
  });

  it('lists an auto step with two triggers in its trigger inputs, sorted, and with the branch each picks', () => {
    const printout = new AutoZFromY().toString();
    expect(printout).toContain("  Trigger Inputs: {'neg_flag', 'y'}");
    expect(printout).toContain('    • neg [trigger: neg_flag] (NegStep)\n       Description: Negates y (used as an alternative branch)\n');
    expect(printout).toContain('    • mul [trigger: y] (MulStep)\n       Description: Multiplies y by factor\n');
  });

  it('computes the pipeline inputs at each stage of the edits', () => {
    const preset = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS);
    expect(inputNames(preset)).toEqual(['x', 'offset', 'factor', 'num_steps']);
    // Outputs of earlier blocks are not inputs: y, z, ts and acc are all produced.
    expect(inputNames(preset)).not.toContain('y');

    // Replace the producer of y by a block that does not produce it: y becomes a required user input.
    const edited = COUNT_BLOCKS.copy();
    edited['add'] = PrepareLoopStep;
    const stage = SequentialPipelineBlocks.fromBlocksDict(edited);
    expect(stage.inputs.find((p) => p.name === 'y')?.required).toBe(true);
    expect(inputNames(stage)).not.toContain('x');

    // An auto step inserted at 0 adds its trigger input, optional; being skippable it produces nothing for later blocks.
    preset.blocks.insert('boost', new AutoBoostStep(), 0);
    expect(preset.inputs.find((p) => p.name === 'boost')?.required).toBe(false);
    expect(inputNames(preset)).toContain('offset');
    expect(preset.doc).toContain('      boost (`Any`, *optional*):\n\n      x (`int`):\n          The input\n');
  });

  it('runs placeholder subclasses like their parents and warns about an input no block declares', async () => {
    class PlaceholderPrepareLoop extends PrepareLoopStep {}
    class PlaceholderLoop extends CountingLoop {}
    const blocks = COUNT_BLOCKS.copy();
    blocks.set('prepare_loop', PlaceholderPrepareLoop);
    blocks.set('loop', PlaceholderLoop);
    const logger = new MemoryLogger();
    const pipe = SequentialPipelineBlocks.fromBlocksDict(blocks).initPipeline('org/count', { loaderRegistry: registry(), logger });
    expect(await pipe({ x, boost: 1, output: 'acc' })).toBe(13);
    expect(logger.of('warn').join('\n')).toMatch(/Unexpected input 'boost'/);
  });

  it('loads the components and runs the preset end to end with the expected numbers', async () => {
    const manager = new ComponentsManager();
    const pipe = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS).initPipeline('org/count', { componentsManager: manager, loaderRegistry: registry() });
    await pipe.loadComponents();
    expect(pipe.nullComponentNames).toEqual([]);
    expect(Object.values(manager.search('adder'))[0]).toBeInstanceOf(Adder);
    expect(await pipe.run({ x, output: ['y', 'z', 'ts', 'acc'] })).toEqual({ y: 4, z: 8, ts: [1, 2], acc: 13 });
    // num_steps 3: ts = [1, 2, 3], acc = 8 + 1 + 4 + 9 = 22.
    expect(await pipe.run({ x, num_steps: 3, output: 'acc' })).toBe(22);
  });

  it('runs with the auto step inserted at 0, with and without its trigger input', async () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS);
    blocks.blocks.insert('boost', new AutoBoostStep(), 0);
    const pipe = blocks.initPipeline('org/count', { loaderRegistry: registry() });
    expect(await pipe({ x, output: 'acc' })).toBe(13);
    // boost 1 gives offset 10: y = 13, z = 26, acc = 26 + 1 + 4 = 31.
    expect(await pipe({ x, boost: 1, output: ['offset', 'acc'] })).toEqual({ offset: 10, acc: 31 });
  });

  it('inserts at an index and replaces by name; the first declaration of a component name gives its type', () => {
    class FastAddStep extends PipelineBlock {
      override get expectedComponents() {
        return [new ComponentSpec('adder', 'FastAdder')];
      }
    }
    const blocks = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS);
    blocks.blocks.insert('boost', new AutoBoostStep(), 0);
    blocks.blocks.insert('fast_add', new FastAddStep(), 2);
    blocks.blocks.set('loop', new CountingLoop());
    expect(blocks.blocks.keys()).toEqual(['boost', 'add', 'fast_add', 'mul', 'prepare_loop', 'loop']);
    expect(blocks.expectedComponents.filter((c) => c.name === 'adder').map((c) => c.typeName)).toEqual(['Adder']);
  });

  it("picks an auto step's branch from an earlier block's output, and runs each branch", async () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, auto: AutoZFromY });
    expect(blocks.triggerInputs).toEqual(['neg_flag', 'y']);
    // y is an output of add, so giving x alone selects the y branch.
    expect(blocks.getExecutionBlocks('x').getBlock('auto')).toBeInstanceOf(MulStep);
    expect(blocks.getExecutionBlocks('x', 'neg_flag').getBlock('auto')).toBeInstanceOf(NegStep);
    const pipe = blocks.initPipeline({ loaderRegistry: registry() });
    expect(await pipe({ x, output: 'z' })).toBe(8);
    expect(await pipe({ x, neg_flag: true, output: 'z' })).toBe(-4);
  });

  it('names the block and its path when a required input is missing', async () => {
    const pipe = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS).initPipeline({ loaderRegistry: registry() });
    const error = await pipe.run({ factor: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingInputError);
    expect((error as MissingInputError).message).toContain("Required input 'x' is missing for block AddStep");
    expect((error as MissingInputError).blockPath).toEqual(['add']);
  });

  it('keeps an initialised pipeline independent of later edits to its blocks', () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict(COUNT_BLOCKS.copy().set('mul', NegStep));
    const pipe = blocks.initPipeline('org/count', { loaderRegistry: registry() });
    blocks.blocks.insert('boost', new AutoBoostStep(), 0);
    blocks.blocks.set('prepare_loop', new BoostStep());
    expect(pipe).toBeInstanceOf(ModularPipeline);
    expect(pipe.blocks.blocks.keys()).not.toContain('boost');
    expect(pipe.blocks.toString()).toBe(EDITED_PRINTOUT);
  });
});
