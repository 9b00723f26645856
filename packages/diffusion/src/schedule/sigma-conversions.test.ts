import { describe, expect, it } from 'vitest';
import { expectAllClose, referenceKarras, referenceSigmas, referenceTimestepForSigma } from '../../test/support/float64-reference.js';
import { buildNoiseSchedule, trainingSigmas } from './noise-schedule.js';
import { exponentialSigmas, karrasSigmas, logFloat32, luLambdaSigmas, sigmaToTimestep } from './sigma-conversions.js';

const sigmas = trainingSigmas(
  buildNoiseSchedule({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' }).alphasCumprod,
);
const logSigmas = logFloat32(sigmas);

describe('sigma conversions', () => {
  it('Karras spacing matches eq. 5 and hits both ends', () => {
    const k = karrasSigmas(0.03, 14.6, 10);
    expectAllClose(k, referenceKarras(0.03, 14.6, 10), { rtol: 1e-12 });
    expect(k[0]).toBeCloseTo(14.6, 12);
    expect(k[9]).toBeCloseTo(0.03, 12);
  });

  it('exponential and Lu-lambda spacings are geometric from max to min', () => {
    const e = exponentialSigmas(0.03, 14.6, 6);
    const ratio = (0.03 / 14.6) ** (1 / 5);
    for (let i = 1; i < 6; i++) expect(e[i] / e[i - 1]).toBeCloseTo(ratio, 12);
    expectAllClose(luLambdaSigmas(Math.log(0.03), Math.log(14.6), 6), e, { rtol: 1e-12 });
  });

  it('sigmaToTimestep inverts sigma(t): exact on the grid, log-linear between', () => {
    for (const t of [0, 1, 250, 761, 998, 999]) expect(sigmaToTimestep(sigmas[t], logSigmas)).toBeCloseTo(t, 4);
    const ref = referenceSigmas();
    for (const sigma of [0.05, 1, 3.3, 12]) {
      expect(sigmaToTimestep(sigma, logSigmas)).toBeCloseTo(referenceTimestepForSigma(sigma, ref), 2);
    }
    // clamped outside the table
    expect(sigmaToTimestep(1e-6, logSigmas)).toBe(0);
    expect(sigmaToTimestep(100, logSigmas)).toBe(999);
  });
});
