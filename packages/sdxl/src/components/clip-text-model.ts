/**
 * CLIP text encoders as SDXL uses them, over Optimum-style ONNX exports:
 * `input_ids` in; `last_hidden_state`, the pooled output and
 * `hidden_states.0..N` out. SDXL conditions on a hidden state near the end
 * (the penultimate by default), so the encoders expose hidden states by
 * Python-style index, `-2` meaning `hidden_states[-2]`.
 */
import { ComponentLoadError, InvalidArgumentError } from '@modular-diffusers/core';
import { Tensor, cast, type OnnxModel } from '@modular-diffusers/runtime';
import { floatDtypeOf } from './onnx-load-options.js';
import { OnnxSessionComponent } from './onnx-session-component.js';

export interface ClipTextEncoding {
  /** The selected hidden state, [batch, sequence, hidden] float32. */
  hiddenState: Tensor<'float32'>;
  /** `pooler_output` (CLIPTextModel) or `text_embeds` (CLIPTextModelWithProjection), [batch, dim] float32. */
  pooled: Tensor<'float32'>;
}

const HIDDEN_STATE = /^hidden_states\.(\d+)$/;

export class CLIPTextModel extends OnnxSessionComponent {
  /** The output that holds the pooled embedding. */
  protected readonly pooledOutput: string = 'pooler_output';

  constructor(model: OnnxModel, config: Readonly<Record<string, unknown>>, folder: string) {
    super(model, config, folder);
    if (!model.input('input_ids')) {
      throw new ComponentLoadError(`${model.path} has no 'input_ids' input; load a CLIP text encoder export (inputs: ${model.inputNames.join(', ')}).`);
    }
  }

  /** How many `hidden_states.N` outputs the export has (layers + 1; 0 when exported without them). */
  get numHiddenStates(): number {
    return this.model.outputNames.filter((n) => HIDDEN_STATE.test(n)).length;
  }

  /** The float type of the export's outputs. */
  get dtype(): 'float32' | 'float16' {
    return floatDtypeOf(this.model.output('last_hidden_state')?.dtype ?? this.model.output(this.pooledOutput)?.dtype);
  }

  /**
   * Runs the encoder on token ids [batch, 77] and returns `hidden_states[hiddenStateIndex]`
   * (negative counts from the end, as in Python) plus the pooled embedding.
   */
  async encode(inputIds: Tensor<'int32' | 'int64'>, options: { hiddenStateIndex?: number } = {}): Promise<ClipTextEncoding> {
    const index = this.hiddenStateOutput(options.hiddenStateIndex ?? -2);
    const pooledName = this.model.output(this.pooledOutput) ? this.pooledOutput : null;
    if (!pooledName) {
      throw new ComponentLoadError(`${this.model.path} has no '${this.pooledOutput}' output; outputs are: ${this.model.outputNames.join(', ')}.`);
    }
    const out = await this.model.run({ input_ids: inputIds }, { outputs: [index, pooledName] });
    return { hiddenState: toFloat32(out[index]!), pooled: toFloat32(out[pooledName]!) };
  }

  private hiddenStateOutput(index: number): string {
    const count = this.numHiddenStates;
    if (count === 0) {
      throw new ComponentLoadError(
        `${this.model.path} exports no hidden_states.N outputs, which SDXL needs (it conditions on the penultimate layer). ` +
          `Re-export the text encoder with output_hidden_states (Optimum does this for SDXL).`,
      );
    }
    if (!Number.isInteger(index) || index < -count || index >= count) {
      throw new InvalidArgumentError(
        `Hidden state ${index} does not exist: this encoder has ${count} (hidden_states.0..${count - 1}); a clip_skip of ${-index - 2} is too large.`,
      );
    }
    return `hidden_states.${index < 0 ? count + index : index}`;
  }
}

/** SDXL's second text encoder: the pooled embedding is the projected `text_embeds`. */
export class CLIPTextModelWithProjection extends CLIPTextModel {
  protected override readonly pooledOutput: string = 'text_embeds';
}

function toFloat32(t: Tensor): Tensor<'float32'> {
  return cast(t, 'float32');
}
