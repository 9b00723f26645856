/**
 * Classifier-free guidance (Ho & Salimans 2022, arXiv 2207.12598):
 * pred = uncond + s * (cond - uncond), or cond + s * (cond - uncond) with the
 * original formulation. Off (one model call per step) when disabled, outside
 * [start, stop), or when s is 1 (0 with the original formulation).
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import type { RawConfig } from '../config/config-fields.js';
import { DiffusionInputError } from '../errors.js';
import { float32Like, requireFloat32, requireSameShape, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { baseGuiderFields, Guider, resolveGuiderConfig, type BaseGuiderConfig, type GuiderOutput, type PredictionName } from './guider.js';
import { rescaleNoiseCfg } from './rescale-noise-cfg.js';

export type ClassifierFreeGuidanceConfig = BaseGuiderConfig;

const FIELDS = baseGuiderFields(7.5);

export class ClassifierFreeGuidance extends Guider<ClassifierFreeGuidanceConfig> {
  static readonly className = 'ClassifierFreeGuidance';
  readonly className = ClassifierFreeGuidance.className;

  constructor(config: Partial<ClassifierFreeGuidanceConfig> = {}) {
    super(resolveGuiderConfig(ClassifierFreeGuidance.className, FIELDS, {}, config));
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): ClassifierFreeGuidance {
    return new ClassifierFreeGuidance(resolveGuiderConfig(ClassifierFreeGuidance.className, FIELDS, config, overrides));
  }

  forward(predictions: Partial<Record<PredictionName, Tensor>>): GuiderOutput {
    const { cond, uncond } = readPredictions(this.className, predictions, this.isGuidanceActive());
    let pred = cond;
    if (uncond && this.isGuidanceActive()) {
      pred = combineCfg(cond.data, uncond.data, this.guidanceScale, this.useOriginalFormulation, cond.shape);
    }
    if (this.guidanceRescale > 0) pred = rescaleNoiseCfg(pred, cond, this.guidanceRescale);
    return { pred, predCond: cond, predUncond: uncond };
  }
}

/** base + s * (cond - uncond), base being uncond (default) or cond (original formulation). */
export function combineCfg(
  cond: Float32Array,
  uncond: Float32Array,
  scale: number,
  originalFormulation: boolean,
  shape: readonly number[],
): Float32Tensor {
  const out = new Float32Array(cond.length);
  const base = originalFormulation ? cond : uncond;
  for (let i = 0; i < out.length; i++) out[i] = base[i] + scale * (cond[i] - uncond[i]);
  return float32Like(shape, out);
}

/** pred_cond is always needed; pred_uncond when guidance is active this step. */
export function readPredictions(
  who: string,
  predictions: Partial<Record<PredictionName, Tensor>>,
  needUncond: boolean,
): { cond: Float32Tensor; uncond: Float32Tensor | undefined } {
  if (!predictions.pred_cond) {
    throw new DiffusionInputError(`${who}.forward: pred_cond is missing; pass { pred_cond, pred_uncond }.`);
  }
  const cond = requireFloat32(predictions.pred_cond, 'pred_cond', `${who}.forward`);
  if (!predictions.pred_uncond) {
    if (needUncond) {
      throw new DiffusionInputError(
        `${who}.forward: guidance is active this step (numConditions 2) but pred_uncond is missing; run the model on both batches of prepareInputs.`,
      );
    }
    return { cond, uncond: undefined };
  }
  const uncond = requireFloat32(predictions.pred_uncond, 'pred_uncond', `${who}.forward`);
  requireSameShape(cond, uncond, ['pred_cond', 'pred_uncond'], `${who}.forward`);
  return { cond, uncond };
}
