/**
 * Adaptive Projected Guidance (Sadat et al. 2024, arXiv 2410.02416): the
 * guidance direction cond - uncond is split into the part parallel to the
 * conditional prediction (which over-saturates) and the orthogonal part;
 * the parallel part is scaled by `eta`, the norm capped at
 * `adaptive_projected_guidance_rescale`, and an optional momentum smooths
 * the direction across steps.
 */
import type { Tensor } from '@modular-diffusers/runtime/tensor';
import { numberField, nullableIntOrIntListField, nullableNumberField, type FieldSpecs, type RawConfig } from '../config/config-fields.js';
import { float32Like, type Float32Tensor } from '../tensor-math/latent-checks.js';
import { nonBatchDims, reductionGroups } from '../tensor-math/reduction-groups.js';
import { readPredictions } from './classifier-free-guidance.js';
import {
  baseGuiderFields,
  Guider,
  resolveGuiderConfig,
  type BaseGuiderConfig,
  type GuiderBatch,
  type GuiderInputValue,
  type GuiderOutput,
  type PredictionName,
} from './guider.js';
import { MomentumBuffer } from './momentum-buffer.js';
import { rescaleNoiseCfg } from './rescale-noise-cfg.js';

export type AdaptiveProjectedGuidanceConfig = BaseGuiderConfig & {
  adaptive_projected_guidance_momentum: number | null;
  adaptive_projected_guidance_rescale: number;
  adaptive_projected_guidance_norm_dim: number | readonly number[] | null;
  eta: number;
};

const FIELDS: FieldSpecs<AdaptiveProjectedGuidanceConfig> = {
  ...baseGuiderFields(7.5),
  adaptive_projected_guidance_momentum: nullableNumberField(),
  adaptive_projected_guidance_rescale: numberField(15.0, { min: 0 }),
  adaptive_projected_guidance_norm_dim: nullableIntOrIntListField(),
  eta: numberField(1.0),
};

export class AdaptiveProjectedGuidance extends Guider<AdaptiveProjectedGuidanceConfig> {
  static readonly className = 'AdaptiveProjectedGuidance';
  readonly className = AdaptiveProjectedGuidance.className;
  private momentumBuffer: MomentumBuffer | undefined;

  constructor(config: Partial<AdaptiveProjectedGuidanceConfig> = {}) {
    super(resolveGuiderConfig(AdaptiveProjectedGuidance.className, FIELDS, {}, config));
  }

  static fromConfig(config: RawConfig = {}, overrides: RawConfig = {}): AdaptiveProjectedGuidance {
    return new AdaptiveProjectedGuidance(resolveGuiderConfig(AdaptiveProjectedGuidance.className, FIELDS, config, overrides));
  }

  /** A new run (step 0) starts a fresh momentum buffer. */
  override prepareInputs(data: Readonly<Record<string, GuiderInputValue>>): GuiderBatch[] {
    const momentum = this.config.adaptive_projected_guidance_momentum;
    if (this._step === 0 && momentum !== null) this.momentumBuffer = new MomentumBuffer(momentum);
    return super.prepareInputs(data);
  }

  forward(predictions: Partial<Record<PredictionName, Tensor>>): GuiderOutput {
    const active = this.isGuidanceActive();
    const { cond, uncond } = readPredictions(this.className, predictions, active);
    let pred = cond;
    if (active && uncond) pred = this.normalizedGuidance(cond, uncond);
    if (this.guidanceRescale > 0) pred = rescaleNoiseCfg(pred, cond, this.guidanceRescale);
    return { pred, predCond: cond, predUncond: uncond };
  }

  private normalizedGuidance(cond: Float32Tensor, uncond: Float32Tensor): Float32Tensor {
    const c = this.config;
    const normDim = c.adaptive_projected_guidance_norm_dim;
    const dims = normDim === null ? nonBatchDims(cond.rank) : typeof normDim === 'number' ? [normDim] : normDim;
    const { groupOf, count } = reductionGroups(cond.shape, dims, `${this.className}.forward`);
    const n = cond.size;

    let diff: Float32Array = new Float32Array(n);
    for (let i = 0; i < n; i++) diff[i] = cond.data[i] - uncond.data[i];
    if (this.momentumBuffer) diff = this.momentumBuffer.update(diff);

    const threshold = c.adaptive_projected_guidance_rescale;
    if (threshold > 0) {
      const norms = new Float64Array(count);
      for (let i = 0; i < n; i++) norms[groupOf[i]] += diff[i] * diff[i];
      const scales = norms.map((s) => Math.min(1, threshold / Math.fround(Math.sqrt(s))));
      const capped = new Float32Array(n);
      for (let i = 0; i < n; i++) capped[i] = diff[i] * scales[groupOf[i]];
      diff = capped;
    }

    // Project in float64, as diffusers does: v1 = cond / max(|cond|, 1e-12), parallel = <diff, v1> v1.
    const condNorms = new Float64Array(count);
    for (let i = 0; i < n; i++) condNorms[groupOf[i]] += cond.data[i] * cond.data[i];
    const inverseNorms = condNorms.map((s) => 1 / Math.max(Math.sqrt(s), 1e-12));
    const dots = new Float64Array(count);
    for (let i = 0; i < n; i++) dots[groupOf[i]] += diff[i] * cond.data[i] * inverseNorms[groupOf[i]];

    const base = c.use_original_formulation ? cond.data : uncond.data;
    const scale = c.guidance_scale;
    const eta = c.eta;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const g = groupOf[i];
      const parallel = Math.fround(dots[g] * cond.data[i] * inverseNorms[g]);
      const orthogonal = Math.fround(diff[i] - dots[g] * cond.data[i] * inverseNorms[g]);
      out[i] = base[i] + scale * (orthogonal + eta * parallel);
    }
    return float32Like(cond.shape, out);
  }
}
