/**
 * Alternative sigma spacings (Karras, exponential, Lu's lambdas) and the
 * inverse map from a sigma back to a fractional training timestep, computed
 * in float64 the way diffusers computes them with numpy.
 */
import { linspace } from './numpy-semantics.js';

const f32 = Math.fround;

/** Karras et al. 2022 (arXiv 2206.00364) eq. 5 with rho = 7, from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number, rho = 7): Float64Array {
  const ramp = linspace(0, 1, numInferenceSteps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/** Sigmas evenly spaced in log space, from sigmaMax down to sigmaMin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): Float64Array {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps).map(Math.exp);
}

/** Lu et al.'s uniform-lambda schedule as diffusers applies it: even steps in log sigma, returned as sigmas. */
export function luLambdaSigmas(logSigmaMin: number, logSigmaMax: number, numInferenceSteps: number): Float64Array {
  const ramp = linspace(0, 1, numInferenceSteps);
  return ramp.map((r) => Math.exp(logSigmaMax + r * (logSigmaMin - logSigmaMax)));
}

/** np.log over a float32 array: the result stays float32. */
export function logFloat32(values: Float32Array): Float32Array {
  return values.map((v) => f32(Math.log(v)));
}

/**
 * The fractional training timestep whose sigma is `sigma`: linear
 * interpolation in log-sigma between the two neighbouring training steps,
 * clamped to the table. `logSigmas` is float32 (numpy keeps np.log of a
 * float32 array in float32), so the neighbour gap is a float32 difference.
 * With `float32Input` the sigma itself is float32 and numpy keeps its log
 * and the weight in float32 too (diffusers' custom-sigmas path).
 */
export function sigmaToTimestep(sigma: number, logSigmas: Float32Array, float32Input = false): number {
  const logSigma = float32Input ? f32(Math.log(Math.max(f32(sigma), f32(1e-10)))) : Math.log(Math.max(sigma, 1e-10));
  // argmax of the running count of log_sigmas <= log_sigma: the first index where the count peaks.
  let count = 0;
  let best = 0;
  let lowIdx = 0;
  for (let i = 0; i < logSigmas.length; i++) {
    if (logSigma - logSigmas[i] >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = i;
    }
  }
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx];
  const high = logSigmas[highIdx];
  let w = float32Input ? f32(f32(low - logSigma) / f32(low - high)) : (low - logSigma) / f32(low - high);
  w = Math.min(Math.max(w, 0), 1);
  const oneMinusW = float32Input ? f32(1 - w) : 1 - w;
  return oneMinusW * lowIdx + w * highIdx;
}
