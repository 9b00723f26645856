/**
 * A small community-style plugin for the remote tests, written against the
 * public engine API exactly like a real plugin. The tests bundle it with
 * esbuild (engine packages left to the sandbox's libraries) and also import
 * it directly, so the host can compute the same printouts for comparison.
 *
 * Arithmetic (checked by hand in the tests):
 * - `scale`: scaled = scaler.scale(latents, factor), the host's ToyScaler
 *   computes latents * factor + offset;
 * - `refine` loop, `num_steps` times: scaled = scaler.scale(scaled, 1) +
 *   guider.guidanceScale * shift, where the guider is diffusion's
 *   ClassifierFreeGuidance built in the sandbox and `shift` a pipeline config.
 */
import {
  AutoPipelineBlocks,
  ComponentSpec,
  ConfigSpec,
  InputParam,
  LoopSequentialPipelineBlocks,
  OutputParam,
  PipelineBlock,
  SequentialPipelineBlocks,
  type BlockResult,
  type BlockState,
  type ModularPipeline,
  type PipelineComponents,
  type PipelineState,
} from '@modular-diffusers/core';
import { Tensor } from '@modular-diffusers/runtime/tensor';

const MODEL = 'toy-remote';

/** What the blocks use of the host's ToyScaler (a proxy in the sandbox) and the sandbox-built guider. */
interface ScalerLike {
  scale(latents: Tensor<'float32'>, factor: number): Promise<Tensor<'float32'>>;
}
interface GuiderLike {
  readonly guidanceScale: number;
}

const scalerSpec = () => new ComponentSpec('scaler', 'ToyScaler', { description: 'Host arithmetic standing in for a model' });
const guiderSpec = () =>
  new ComponentSpec('guider', 'ClassifierFreeGuidance', { config: { guidance_scale: 2 }, defaultCreationMethod: 'fromConfig' });

export class ToyScaleStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Scales the latents with the host scaler';
  }

  override get expectedComponents() {
    return [scalerSpec()];
  }

  override get inputs() {
    return [
      new InputParam('latents', { required: true, typeHint: 'Tensor', description: 'The starting latents' }),
      new InputParam('factor', { default: 2, typeHint: 'float', description: 'Multiplier handed to the scaler' }),
    ];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('scaled', { typeHint: 'Tensor', description: 'The scaled latents' })];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ latents: Tensor<'float32'>; factor: number; scaled?: Tensor<'float32'> }>(state);
    bs.scaled = await components.getComponent<ScalerLike>('scaler').scale(bs.latents, bs.factor);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class ToyRefineStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'One refinement: rescale on the host, then shift by guidance_scale * shift';
  }

  override get expectedComponents() {
    return [scalerSpec(), guiderSpec()];
  }

  override get expectedConfigs() {
    return [new ConfigSpec('shift', 0.25, 'Added per step, times the guidance scale')];
  }

  override get intermediatesInputs() {
    return [new InputParam('scaled', { required: true, typeHint: 'Tensor' })];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('scaled', { typeHint: 'Tensor' })];
  }

  override async call(components: ModularPipeline, bs: BlockState & { scaled: Tensor<'float32'> }): Promise<[ModularPipeline, BlockState]> {
    const rescaled = await components.getComponent<ScalerLike>('scaler').scale(bs.scaled, 1);
    const shift = components.getComponent<GuiderLike>('guider').guidanceScale * Number(components.config.shift);
    bs.scaled = new Tensor('float32', rescaled.data.map((v) => v + shift), rescaled.shape);
    return [components, bs];
  }
}

export class ToyRefineLoop extends LoopSequentialPipelineBlocks {
  static override modelName = MODEL;
  static override blockClasses = [ToyRefineStep];
  static override blockNames = ['refine_step'];

  override get description() {
    return 'Refines the scaled latents num_steps times';
  }

  override get loopInputs() {
    return [new InputParam('num_steps', { default: 3, typeHint: 'int', description: 'How many refinements' })];
  }

  override async call(components: ModularPipeline, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ num_steps: number }>(state);
    const progress = this.progressBar(bs, bs.num_steps);
    for (let i = 0; i < bs.num_steps; i++) {
      [components] = await this.loopStep(components, bs, i);
      progress.update();
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class ToyRemoteBlocks extends SequentialPipelineBlocks {
  static override modelName = MODEL;
  static override blockClasses = [ToyScaleStep, ToyRefineLoop];
  static override blockNames = ['scale', 'refine'];

  override get description() {
    return 'Toy remote pipeline: scale on the host, refine in a loop';
  }
}

/** The same two steps as a preset dict, the other shape `auto_map` may name. */
export const TOY_PRESET = { scale: ToyScaleStep, refine: ToyRefineLoop };

/**
 * Tries what a hostile plugin would: a method outside the allow-list, a component this
 * pipeline does not have, and a call with malformed arguments. Reports each refusal message.
 */
export class ToySneakyStep extends PipelineBlock {
  static override modelName = MODEL;

  override get expectedComponents() {
    return [scalerSpec()];
  }

  override get inputs() {
    return [new InputParam('target', { default: 'vault' })];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('attempts', { typeHint: 'List[str]' })];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const invoke = (globalThis as unknown as { capabilities: { invokeComponent: (...a: unknown[]) => Promise<unknown> } }).capabilities.invokeComponent;
    const attempts: string[] = [];
    const tryCall = async (...args: unknown[]) => {
      try {
        attempts.push(`ok: ${JSON.stringify(await invoke(...args))}`);
      } catch (error) {
        attempts.push(String((error as Error).message));
      }
    };
    await tryCall('scaler', 'secret', []);
    await tryCall('scaler', 'constructor', []);
    await tryCall(bs.target, 'scale', [{ $tensor: { dtype: 'float32', shape: [1], data: new Float32Array([1]) } }, 1]);
    await tryCall('scaler', 'scale');
    bs.attempts = attempts;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** Two branches that disagree on `strength`'s default (the conditional-defaults rule, across the sandbox). */
export class ToyStrengthA extends PipelineBlock {
  static override modelName = MODEL;
  override get inputs() {
    return [new InputParam('mask'), new InputParam('strength', { typeHint: 'float', default: 0.9999 })];
  }
}
export class ToyStrengthB extends PipelineBlock {
  static override modelName = MODEL;
  override get inputs() {
    return [new InputParam('strength', { typeHint: 'float', default: 0.3 })];
  }
}
export class ToyBranchDefaults extends AutoPipelineBlocks {
  static override modelName = MODEL;
  static override blockClasses = [ToyStrengthA, ToyStrengthB];
  static override blockNames = ['inpaint', 'img2img'];
  static override blockTriggerInputs = ['mask', null];
}
