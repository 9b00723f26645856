/**
 * CFG-Zero* (Fan et al. 2025, arXiv 2503.18886): the unconditional
 * prediction is first scaled by the optimal alpha = <cond, uncond> / |uncond|^2
 * per sample, and the first `zero_init_steps` steps predict zero.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import { numberField, type RawConfig } from '../config/config-fields.js';
import { DiffusionInputError } from '../errors.js';
import { float32Like, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { combineCfg, readPredictions } from './classifier-free-guidance.js';
import { baseGuiderFields, Guider, resolveGuiderConfig, type BaseGuiderConfig, type GuiderOutput, type PredictionName } from './guider.js';
import { rescaleNoiseCfg } from './rescale-noise-cfg.js';

export type ClassifierFreeZeroStarGuidanceConfig = BaseGuiderConfig & {
  zero_init_steps: number;
};

const FIELDS = { ...baseGuiderFields(7.5), zero_init_steps: numberField(1, { integer: true, min: 0 }) };

export class ClassifierFreeZeroStarGuidance extends Guider<ClassifierFreeZeroStarGuidanceConfig> {
  static readonly className = 'ClassifierFreeZeroStarGuidance';
  readonly className = ClassifierFreeZeroStarGuidance.className;

  constructor(config: Partial<ClassifierFreeZeroStarGuidanceConfig> = {}) {
    super(resolveGuiderConfig(ClassifierFreeZeroStarGuidance.className, FIELDS, {}, config));
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): ClassifierFreeZeroStarGuidance {
    return new ClassifierFreeZeroStarGuidance(resolveGuiderConfig(ClassifierFreeZeroStarGuidance.className, FIELDS, config, overrides));
  }

  get zeroInitSteps(): number {
    return this.config.zero_init_steps;
  }

  forward(predictions: Partial<Record<PredictionName, Tensor>>): GuiderOutput {
    const active = this.isGuidanceActive();
    const { cond, uncond } = readPredictions(this.className, predictions, active);
    let pred: Float32Tensor;
    let predUncond = uncond;
    if (!this._enabled) {
      pred = cond;
    } else if (this._step === undefined) {
      throw new DiffusionInputError(`${this.className}.forward: call setState(step, numInferenceSteps, timestep) first; CFG-Zero* depends on the step.`);
    } else if (this._step < this.zeroInitSteps) {
      pred = float32Like(cond.shape, new Float32Array(cond.size));
    } else if (!active || !uncond) {
      pred = cond;
    } else {
      predUncond = scaleUnconditional(cond, uncond);
      pred = combineCfg(cond.data, predUncond.data, this.guidanceScale, this.useOriginalFormulation, cond.shape);
    }
    if (this.guidanceRescale > 0) pred = rescaleNoiseCfg(pred, cond, this.guidanceRescale);
    return { pred, predCond: cond, predUncond };
  }
}

/** uncond * alpha per batch sample, alpha = sum(cond * uncond) / (sum(uncond^2) + 1e-8). */
function scaleUnconditional(cond: Float32Tensor, uncond: Float32Tensor): Float32Tensor {
  const batch = cond.shape[0] ?? 1;
  const inner = cond.size / batch;
  const out = new Float32Array(cond.size);
  for (let b = 0; b < batch; b++) {
    const start = b * inner;
    let dot = 0;
    let squared = 0;
    for (let i = start; i < start + inner; i++) {
      dot += cond.data[i] * uncond.data[i];
      squared += uncond.data[i] * uncond.data[i];
    }
    // torch computes alpha in float32
    const alpha = Math.fround(dot / (squared + 1e-8));
    for (let i = start; i < start + inner; i++) out[i] = uncond.data[i] * alpha;
  }
  return float32Like(cond.shape, out);
}
