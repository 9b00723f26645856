/**
 * The tiny SDXL UNet: an analytic denoiser, so sampling shows something.
 *
 *   sigma  = sigmas[t] (SDXL table; log-linear between integer timesteps)
 *   x      = sample * sqrt(sigma^2 + 1)          (undo the scheduler's input scaling)
 *   c      = 1.5 * tanh(Wt·n(text_embeds) + We·n(mean_s(encoder_hidden_states)) + Wi·time_ids/1024)
 *   eps    = (x - target) * sigma / (sigma^2 + s^2),  target = c broadcast over space (+ variant terms)
 *
 * That eps is the exact denoiser for latents drawn from N(target, s^2): its x0
 * prediction is (x s^2 + target sigma^2) / (sigma^2 + s^2). With the default
 * s = 0 it is (x - target) / sigma and the x0 it implies is exactly `target`;
 * with s > 0 (`priorStd`) the prediction trusts the input at low noise, so
 * latents held near the end of sampling (img2img, differential diffusion)
 * keep their picture, as a real model's would.
 *
 * n() is L2 normalisation, so all-zero (negative) conditioning gives c = 0.
 * With s = 0 Euler sampling lands on the target,
 * classifier-free guidance extrapolates between targets, and img2img at low
 * strength stays near its start. Variants add ControlNet residual inputs or
 * IP-Adapter inputs (see README.md).
 */
import { GraphBuilder, type GraphPrecision } from '../onnx/builder/graph-builder.js';
import { OnnxDataType } from '../onnx/proto/onnx-schema.js';
import { l2Normalize, upsampleNearest } from './graph-parts.js';
import { rgbToLatentMatrix, SDXL_LATENT_RGB_BIAS } from './latent-rgb.js';
import { sdxlSigmaTable } from './sdxl-sigmas.js';
import type { SeededRandom } from './seeded-random.js';

export const UNET_TARGET_SCALE = 1.5;
export const UNET_TEXT_DIM = 1280;
export const UNET_CONTEXT_DIM = 2048;
export const UNET_TIME_IDS = 6;
/** Time ids are sizes in pixels; dividing by 1024 keeps their term O(1). */
export const UNET_TIME_ID_SCALE = 1024;
export const IMAGE_EMBED_DIM = 1024;

export type TinyUnetVariant = 'base' | 'controlnet' | 'ip_adapter';

/** The conditioning weights, exposed so tests can recompute the target in plain JS. */
export interface TinyUnetWeights {
  /** [1280, 4] row-major */
  text: Float32Array;
  /** [2048, 4] row-major */
  context: Float32Array;
  /** [6, 4] row-major */
  timeIds: Float32Array;
}

export function tinyUnetWeights(rng: SeededRandom): TinyUnetWeights {
  return {
    text: rng.normal(UNET_TEXT_DIM * 4, 1),
    context: rng.normal(UNET_CONTEXT_DIM * 4, 0.5),
    timeIds: rng.normal(UNET_TIME_IDS * 4, 0.1),
  };
}

export interface TinyUnetOptions {
  variant?: TinyUnetVariant;
  precision?: GraphPrecision;
  /** s, the std of the Gaussian the UNet denoises toward (default 0: a point mass at the target). */
  priorStd?: number;
}

export function buildTinyUnet(rng: SeededRandom, options: TinyUnetOptions = {}): GraphBuilder {
  const variant = options.variant ?? 'base';
  const priorStd = options.priorStd ?? 0;
  if (!(priorStd >= 0)) throw new RangeError(`priorStd must be >= 0, got ${priorStd}.`);
  const weights = tinyUnetWeights(rng);
  const g = new GraphBuilder(variant === 'base' ? 'unet' : `unet_${variant}`, { precision: options.precision });
  const sample = g.input('sample', 'float32', ['batch_size', 4, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['steps']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', UNET_CONTEXT_DIM]);
  const textEmbeds = g.input('text_embeds', 'float32', ['batch_size', UNET_TEXT_DIM]);
  const timeIds = g.input('time_ids', 'float32', ['batch_size', UNET_TIME_IDS]);

  const sigma = g.op('Reshape', [sigmaAt(g, timestep), g.constInt64([-1, 1, 1, 1])]);
  const sigmaSquared = g.op('Mul', [sigma, sigma]);
  const inputScale = g.op('Sqrt', [g.op('Add', [sigmaSquared, g.constFloat([1], [])])]);
  const x = g.op('Mul', [sample, inputScale]);

  const pre = g.op('Add', [
    g.op('Add', [
      g.op('MatMul', [l2Normalize(g, textEmbeds), g.constFloat(weights.text, [UNET_TEXT_DIM, 4])]),
      g.op('MatMul', [
        l2Normalize(g, g.op('ReduceMean', [context], { axes: [1], keepdims: 0 })),
        g.constFloat(weights.context, [UNET_CONTEXT_DIM, 4]),
      ]),
    ]),
    g.op('MatMul', [
      g.op('Div', [timeIds, g.constFloat([UNET_TIME_ID_SCALE], [])]),
      g.constFloat(weights.timeIds, [UNET_TIME_IDS, 4]),
    ]),
  ]);
  let colour = g.op('Mul', [g.op('Tanh', [pre]), g.constFloat([UNET_TARGET_SCALE], [])]);

  if (variant === 'ip_adapter') {
    const imageEmbeds = g.input('image_embeds', 'float32', ['batch_size', 1, IMAGE_EMBED_DIM]);
    const scale = g.input('ip_adapter_scale', 'float32', [1]);
    // The tiny image encoder puts the image's mean colour (RGB in [-1, 1]) in embedding dims 0..2.
    const rgb = g.op('Reshape', [
      g.op('Slice', [imageEmbeds, g.constInt64([0]), g.constInt64([3]), g.constInt64([2])]),
      g.constInt64([-1, 3]),
    ]);
    const imageColour = g.op('MatMul', [
      g.op('Sub', [rgb, g.constFloat(SDXL_LATENT_RGB_BIAS, [1, 3])]),
      g.constFloat(transpose(rgbToLatentMatrix(), 4, 3), [3, 4]),
    ]);
    colour = g.op('Add', [colour, g.op('Mul', [scale, g.op('Sub', [imageColour, colour])])]);
  }
  let target = g.op('Reshape', [colour, g.constInt64([-1, 4, 1, 1])]);

  if (variant === 'controlnet') {
    const r0 = g.input('down_block_additional_residual_0', 'float32', ['batch_size', 4, 'height', 'width']);
    const r1 = g.input('down_block_additional_residual_1', 'float32', ['batch_size', 4, 'height_2', 'width_2']);
    const r2 = g.input('down_block_additional_residual_2', 'float32', ['batch_size', 4, 'height_4', 'width_4']);
    const mid = g.input('mid_block_additional_residual', 'float32', ['batch_size', 4, 'height_4', 'width_4']);
    const sum = g.op('Add', [
      g.op('Add', [r0, upsampleNearest(g, r1, 2)]),
      g.op('Add', [upsampleNearest(g, r2, 4), upsampleNearest(g, mid, 4)]),
    ]);
    target = g.op('Add', [target, g.op('Div', [sum, g.constFloat([4], [])])]);
  }

  const eps =
    priorStd === 0
      ? g.op('Div', [g.op('Sub', [x, target]), sigma])
      : g.op('Div', [
          g.op('Mul', [g.op('Sub', [x, target]), sigma]),
          g.op('Add', [sigmaSquared, g.constFloat([priorStd * priorStd], [])]),
        ]);
  g.output('out_sample', eps, 'float32', ['batch_size', 4, 'height', 'width']);
  return g;
}

/**
 * sigma(t) from the 1000-entry table: exact at integer t (what leading/
 * trailing spacing produce), log-linear between them, which inverts the
 * log-sigma interpolation diffusers uses to turn Karras sigmas into timesteps.
 */
function sigmaAt(g: GraphBuilder, timestep: string): string {
  const table = sdxlSigmaTable();
  const last = table.length - 1;
  const t = g.op('Clip', [timestep, g.constFloat([0], []), g.constFloat([last], [])]);
  const t0 = g.op('Floor', [t]);
  const t1 = g.op('Min', [g.op('Add', [t0, g.constFloat([1], [])]), g.constFloat([last], [])]);
  const frac = g.op('Sub', [t, t0]);
  const i0 = g.op('Cast', [t0], { to: OnnxDataType.int64 });
  const i1 = g.op('Cast', [t1], { to: OnnxDataType.int64 });
  const sigmas = g.constFloat(table);
  const logSigmas = g.constFloat(table.map(Math.log));
  const logStep = g.op('Sub', [g.op('Gather', [logSigmas, i1]), g.op('Gather', [logSigmas, i0])]);
  return g.op('Mul', [g.op('Gather', [sigmas, i0]), g.op('Exp', [g.op('Mul', [frac, logStep])])]);
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}
