/**
 * How inference timesteps are picked out of the training range
 * (Table 2 of arXiv 2305.08891): 'linspace', 'leading' or 'trailing'.
 * Values come back in float64, highest first, before any float32 cast.
 */
import { arange, linspace, roundHalfEven } from './numpy-semantics.js';

export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

export interface SpacingOptions {
  numTrainTimesteps: number;
  numInferenceSteps: number;
  stepsOffset: number;
  /** Round linspace values to integers (DDIM does; Euler keeps fractional timesteps). */
  roundLinspace: boolean;
}

export function spacedTimesteps(spacing: TimestepSpacing, options: SpacingOptions): Float64Array {
  const { numTrainTimesteps: T, numInferenceSteps: n, stepsOffset } = options;
  let values: Float64Array;
  if (spacing === 'linspace') {
    values = linspace(0, T - 1, n).reverse();
    if (options.roundLinspace) values = values.map(roundHalfEven);
  } else if (spacing === 'leading') {
    const stepRatio = Math.floor(T / n);
    values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = (n - 1 - i) * stepRatio + stepsOffset;
  } else {
    values = arange(T, 0, -T / n).map((v) => roundHalfEven(v) - 1);
  }
  return values;
}
