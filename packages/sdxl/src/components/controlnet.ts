/**
 * An SDXL ControlNet as an ONNX session: `sample`, `timestep`,
 * `encoder_hidden_states`, `controlnet_cond` (the control image in [0, 1]),
 * `conditioning_scale`, `text_embeds`, `time_ids` -> `down_block_res_samples_<i>`
 * and `mid_block_res_sample`, the residuals the UNet adds to its skip
 * connections. A ControlNet-Union export also declares `control_type`
 * (and possibly `control_type_idx`); inputs an export does not declare are
 * not fed, as diffusers passes controlnet kwargs only when `forward` takes them.
 */
import type { ComponentLoader, ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import { Tensor, scale, stack } from '@modular-diffusers/runtime';
import { ModelCapabilityError } from './model-capability-error.js';
import { OnnxSessionComponent } from './onnx-session-component.js';
import { openOnnxComponent } from './open-onnx-component.js';

export interface ControlNetCall {
  /** Scaled latents [N, 4, h, w]. */
  sample: Tensor;
  timestep: number;
  encoderHiddenStates: Tensor;
  textEmbeds: Tensor;
  timeIds: Tensor;
  /** Control image [N, 3, H, W] in [0, 1] (a list of one per control mode for a union model). */
  controlnetCond: Tensor | readonly Tensor[];
  /** `controlnet_conditioning_scale x controlnet_keep[i]`. */
  conditioningScale: number;
  /** diffusers' guess mode: down residuals scaled from 0.1 (shallow) to 1.0 (deep). */
  guessMode?: boolean;
  /** ControlNet-Union: one-hot control modes [N, num_control_type]. */
  controlType?: Tensor | null;
  controlTypeIdx?: readonly number[] | null;
}

export interface ControlNetResiduals {
  down: Tensor<'float32'>[];
  mid: Tensor<'float32'>;
}

const DOWN_OUTPUT = /^down_block_res_samples?[._]?(\d+)$/;
const MID_OUTPUT = 'mid_block_res_sample';

export class ControlNetModel extends OnnxSessionComponent {
  static async fromPretrained(spec: ComponentSpec, context: LoaderContext): Promise<ControlNetModel> {
    const component = await openOnnxComponent(spec, context);
    return new this(component.model, component.config, component.folder);
  }

  get dtype(): 'float32' | 'float16' {
    return this.model.input('sample')?.dtype === 'float16' ? 'float16' : 'float32';
  }

  /** Whether the export takes control modes (a ControlNet-Union model). */
  get acceptsControlType(): boolean {
    return this.model.input('control_type') !== undefined;
  }

  /** How many control modes a union model knows (config `num_control_type`, else the declared width). */
  get numControlType(): number | null {
    const configured = this.config.num_control_type;
    if (typeof configured === 'number') return configured;
    const declared = this.model.input('control_type')?.dims[1];
    return typeof declared === 'number' ? declared : null;
  }

  /** diffusers' `global_pool_conditions` (such ControlNets always run in guess mode). */
  get globalPoolConditions(): boolean {
    return this.config.global_pool_conditions === true;
  }

  /** The residual outputs, down blocks in order, then the mid block. */
  get downOutputNames(): string[] {
    return this.model.outputNames
      .filter((n) => DOWN_OUTPUT.test(n))
      .sort((a, b) => Number(DOWN_OUTPUT.exec(a)![1]) - Number(DOWN_OUTPUT.exec(b)![1]));
  }

  async run(call: ControlNetCall): Promise<ControlNetResiduals> {
    const rows = call.sample.shape[0]!;
    const declaresScale = this.model.input('conditioning_scale') !== undefined;
    // Guess mode weights each down block differently, which a scalar input cannot express:
    // run at scale 1 and apply diffusers' weights here (its ControlNet scales the outputs last).
    const scaleOutside = call.guessMode === true && !this.globalPoolConditions;
    // diffusers' ControlNet-Union given several images scales each image's terms inside the model,
    // and its guess-mode weights then leave the scale out: the graph gets the scale, the weights not.
    const scaleInside = scaleOutside && this.acceptsControlType && Array.isArray(call.controlnetCond) && call.controlnetCond.length > 1;
    const feeds: Record<string, Tensor> = {
      sample: call.sample,
      timestep: this.timestepTensor(call.timestep, rows),
      encoder_hidden_states: call.encoderHiddenStates,
      controlnet_cond: this.condTensor(call.controlnetCond),
      text_embeds: call.textEmbeds,
      time_ids: call.timeIds,
    };
    if (declaresScale) feeds.conditioning_scale = new Tensor('float32', Float32Array.of(scaleOutside && !scaleInside ? 1 : call.conditioningScale), [1]);
    if (this.acceptsControlType) {
      if (!call.controlType) {
        throw new ModelCapabilityError(
          `The ControlNet export ${this.model.path} is a ControlNet-Union model (it takes 'control_type'); pass \`control_mode\` ` +
            `so StableDiffusionXLControlNetUnionInputStep prepares the control type.`,
        );
      }
      feeds.control_type = call.controlType;
    }
    const idxInfo = this.model.input('control_type_idx');
    if (idxInfo && call.controlTypeIdx) {
      const idx = call.controlTypeIdx;
      feeds.control_type_idx =
        idxInfo.dtype === 'int32'
          ? new Tensor('int32', Int32Array.from(idx), [idx.length])
          : new Tensor('int64', BigInt64Array.from(idx.map((v) => BigInt(v))), [idx.length]);
    }

    const downNames = this.downOutputNames;
    if (downNames.length === 0 || !this.model.output(MID_OUTPUT)) {
      throw new ModelCapabilityError(
        `${this.model.path} does not look like a ControlNet export: it needs outputs down_block_res_samples_<i> and ${MID_OUTPUT}, ` +
          `it has ${this.model.outputNames.join(', ')}.`,
      );
    }
    const result = await this.model.run(feeds, { outputs: [...downNames, MID_OUTPUT] });
    let down = downNames.map((n) => result[n] as Tensor<'float32'>);
    let mid = result[MID_OUTPUT] as Tensor<'float32'>;
    if (scaleOutside) {
      const weights = guessModeWeights(down.length);
      const by = scaleInside ? 1 : call.conditioningScale;
      down = down.map((t, k) => scale(t, Math.fround(weights[k]! * by)));
      mid = scale(mid, Math.fround(weights[down.length]! * by));
    } else if (!declaresScale) {
      down = down.map((t) => scale(t, call.conditioningScale));
      mid = scale(mid, call.conditioningScale);
    }
    return { down, mid };
  }

  private timestepTensor(t: number, rows: number): Tensor {
    const info = this.model.input('timestep');
    const declared = info?.dims[0];
    const length = typeof declared === 'number' ? declared : rows;
    if (info?.dtype === 'int64') return new Tensor('int64', new BigInt64Array(length).fill(BigInt(Math.round(t))), [length]);
    return new Tensor('float32', new Float32Array(length).fill(t), [length]);
  }

  private condTensor(cond: Tensor | readonly Tensor[]): Tensor {
    const stacked = this.model.input('controlnet_cond')?.dims.length === 5;
    // A union graph that takes [B, K, 3, H, W] gets one image as K = 1 too (the built ControlNetUnionModel).
    if (cond instanceof Tensor) return stacked && cond.rank === 4 ? stack([cond as Tensor<'float32'>], 1) : cond;
    if (stacked) return stack([...cond] as Tensor<'float32'>[], 1);
    if (cond.length === 1) return cond[0]!;
    throw new ModelCapabilityError(
      `${cond.length} control images were given but the ControlNet export ${this.model.path} takes one 'controlnet_cond' image; ` +
        `pass one control image (and one control_mode).`,
    );
  }
}

/** The ControlNet-Union type: the same session wrapper, registered under diffusers' class name. */
export class ControlNetUnionModel extends ControlNetModel {}

/**
 * torch.logspace(-1, 0, n + 1): 0.1 ... 1.0, the per-block weights
 * diffusers' ControlNet applies in guess mode (last one for the mid block).
 */
export function guessModeWeights(downBlocks: number): number[] {
  return Array.from({ length: downBlocks + 1 }, (_, k) => Math.fround(10 ** (-1 + k / downBlocks)));
}

export const CONTROLNET_LOADERS: readonly ComponentLoader[] = [
  { type: 'ControlNetModel', fromPretrained: (spec, context) => ControlNetModel.fromPretrained(spec, context) },
  { type: 'ControlNetUnionModel', fromPretrained: (spec, context) => ControlNetUnionModel.fromPretrained(spec, context) },
];
