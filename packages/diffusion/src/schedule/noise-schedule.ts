/**
 * The training noise schedule every discrete scheduler starts from: betas,
 * alphas and their cumulative product, held in float32 like diffusers'
 * torch tensors so that every sigma derived from them matches bit for bit.
 */
import { torchLinspaceFloat32 } from './numpy-semantics.js';

const f32 = Math.fround;

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';

export interface NoiseScheduleOptions {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  /** Betas given directly (diffusers' `trained_betas`); bypasses the schedule. */
  trainedBetas?: readonly number[] | null;
  /** Rescale to zero terminal SNR (arXiv 2305.08891, Algorithm 1). */
  rescaleBetasZeroSnr?: boolean;
}

export interface NoiseSchedule {
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
}

export function buildNoiseSchedule(options: NoiseScheduleOptions): NoiseSchedule {
  const n = options.numTrainTimesteps;
  let betas: Float32Array;
  if (options.trainedBetas != null) {
    betas = Float32Array.from(options.trainedBetas);
  } else if (options.betaSchedule === 'linear') {
    betas = torchLinspaceFloat32(options.betaStart, options.betaEnd, n);
  } else if (options.betaSchedule === 'scaled_linear') {
    betas = torchLinspaceFloat32(Math.sqrt(options.betaStart), Math.sqrt(options.betaEnd), n);
    for (let i = 0; i < n; i++) betas[i] = f32(betas[i] * betas[i]);
  } else {
    betas = cosineBetas(n);
  }
  if (options.rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);

  const alphas = new Float32Array(betas.length);
  for (let i = 0; i < betas.length; i++) alphas[i] = f32(1 - betas[i]);
  const alphasCumprod = cumprodFloat32(alphas);
  // diffusers pins the last value just above zero so that sigma stays finite.
  if (options.rescaleBetasZeroSnr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphas, alphasCumprod };
}

/** torch.cumprod on a float32 CPU tensor: accumulated in double, each output rounded to float32. */
function cumprodFloat32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** squaredcos_cap_v2 (Nichol & Dhariwal's cosine schedule), computed in float64 then stored as float32. */
function cosineBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
  const betas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    betas[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  }
  return betas;
}

/** arXiv 2305.08891 Algorithm 1, step by step in float32 as diffusers runs it on torch. */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = new Float32Array(n);
  for (let i = 0; i < n; i++) alphas[i] = f32(1 - betas[i]);
  const sqrtBar = cumprodFloat32(alphas).map((v) => f32(Math.sqrt(v)));
  const first = sqrtBar[0];
  const last = sqrtBar[n - 1];
  const scale = f32(first / f32(first - last));
  for (let i = 0; i < n; i++) sqrtBar[i] = f32(f32(sqrtBar[i] - last) * scale);
  const bar = sqrtBar.map((v) => f32(v * v));
  const out = new Float32Array(n);
  out[0] = f32(1 - bar[0]);
  for (let i = 1; i < n; i++) out[i] = f32(1 - f32(bar[i] / bar[i - 1]));
  return out;
}

/** sigma(t) = sqrt((1 - alphaBar_t) / alphaBar_t), in float32 as torch computes it, indexed by training timestep. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) {
    const a = alphasCumprod[i];
    out[i] = Math.sqrt(f32(f32(1 - a) / a));
  }
  return out;
}
