/**
 * An IP-Adapter (h94/IP-Adapter's `ip-adapter_sdxl.safetensors` layout)
 * built into the UNet graph, as diffusers' `unet._load_ip_adapter_weights`
 * installs it:
 *
 * - `image_proj.proj` / `image_proj.norm`: diffusers' ImageProjection. The
 *   image encoder's `image_embeds` [B, n, D] (input `image_embeds`) become
 *   n x 4 tokens [B, 4n, cross_attention_dim] (Linear to 4 x cross, then a
 *   LayerNorm per token).
 * - `ip_adapter.<k>.to_k_ip.weight` / `to_v_ip.weight` [hidden, cross]: at
 *   every cross-attention (attn2) the query also attends over those
 *   tokens, and that attention times the layer's scale is added to attn2's
 *   output before `to_out` (IPAdapterAttnProcessor). `ip_adapter_scale` is
 *   an input [L] with one scale per cross-attention layer, in
 *   `attentionLayers` order (diffusers' per-block scales; one number is
 *   that number L times). k numbers
 *   the UNet's attention processors in diffusers' `attn_processors` order
 *   (down blocks, up blocks, then the mid block; attn1 and attn2 alternate),
 *   so the cross-attentions are 1, 3, 5, ...
 *
 * IP-Adapter Plus (`image_proj.latents`, h94's `ip-adapter-plus_sdxl_vit-h`)
 * has diffusers' IPAdapterPlusImageProjection (a Resampler) instead: it
 * reads the image encoder's penultimate hidden states [B, n, S, D] (input
 * `image_embeds` of rank 4) and gives `latents.shape[1]` tokens per image.
 * Its weights keep the original names (`image_proj.layers.<i>.0.to_kv`,
 * `.1.1`, ...), which diffusers renames on load; the math is diffusers'.
 *
 * The file is checked against the UNet config before anything is built:
 * every key it must have, every shape, no key left over, each error naming
 * the file and the key. The scale is a graph input, so changing it needs no
 * rebuild. The Face ID variants are refused by name.
 */
import { UnsupportedConfigError, WeightMismatchError } from '../errors.js';
import type { ModelConfig } from '../builders/config-reader.js';
import type { UNetExtensions } from '../builders/unet-2d-condition.js';
import { attention, gelu, layerNorm, linear } from '../graph/layers.js';
import type { Dim, ModelGraph } from '../graph/model-graph.js';
import { listModelWeights } from '../list-model-weights.js';
import { readSafetensorsHeader } from '../safetensors/safetensors-file.js';

/** diffusers' ImageProjection for IP-Adapter weights (`proj.weight` present): always 4 tokens per image. */
const TOKENS_PER_IMAGE = 4;
/** diffusers' IPAdapterPlusImageProjection: 4 blocks, 64-wide heads, feed-forward x4 (fixed when it converts the weights). */
const RESAMPLER_DEPTH = 4;
const RESAMPLER_HEAD_DIM = 64;
const RESAMPLER_FF_MULT = 4;

/** Which image projection the adapter has, and so what the image encoder must give it. */
export type IpAdapterImageProjection = 'image-projection' | 'resampler';

export interface IpAdapterUNetBuild {
  /** Pass to buildModel as `unet`, with `extensionId` and `extraWeightFiles`. */
  readonly unet: UNetExtensions;
  readonly extensionId: string;
  readonly extraWeightFiles: readonly string[];
  readonly projection: IpAdapterImageProjection;
  /**
   * The image embedding size the adapter projects from: the image encoder's `projection_dim`
   * (its image_embeds) for an ImageProjection, its `hidden_size` (penultimate hidden states) for a Resampler.
   */
  readonly imageEmbedDim: number;
  /** The image encoder config field that must equal imageEmbedDim. */
  readonly imageEncoderField: 'projection_dim' | 'hidden_size';
  readonly crossAttentionDim: number;
  /** The cross-attention layers the adapter reaches, in diffusers' processor order (the order of `ip_adapter_scale`). */
  readonly attentionLayers: readonly string[];
}

/** Reads `file`'s header, checks it against the UNet config, and returns the UNet extensions that build it in. */
export async function ipAdapterUNetExtensions(file: string, unetConfig: ModelConfig, unetConfigFile: string): Promise<IpAdapterUNetBuild> {
  const header = await readSafetensorsHeader(file);
  const shapes = new Map([...header.tensors].map(([key, info]) => [key, info.shape] as const));
  refuseOtherKinds(file, shapes);

  const crossDim = unetConfig.cross_attention_dim;
  if (typeof crossDim !== 'number') {
    throw new UnsupportedConfigError(`${unetConfigFile}: 'cross_attention_dim' must be one number for an IP-Adapter, got ${JSON.stringify(crossDim)}.`, unetConfigFile, 'cross_attention_dim');
  }
  const projection: ProjectionPlan = shapes.has('image_proj.latents')
    ? resamplerPlan(file, shapes, crossDim, unetConfigFile)
    : imageProjectionPlan(file, shapes, crossDim, unetConfigFile);
  const imageEmbedDim = projection.imageEmbedDim;

  const layers = crossAttentionLayers(unetConfig);
  const ids = new Map<string, number>();
  const expected = new Set(projection.keys);
  layers.forEach(({ prefix, dim }, index) => {
    const id = 2 * index + 1;
    ids.set(prefix, id);
    for (const which of ['to_k_ip', 'to_v_ip']) {
      const key = `ip_adapter.${id}.${which}.weight`;
      if (!shapes.has(key)) {
        throw new WeightMismatchError(
          `${file} has no '${key}': the UNet (${unetConfigFile}) has ${layers.length} cross-attention layers, so an IP-Adapter for it has ` +
            `ip_adapter.1 ... ip_adapter.${2 * layers.length - 1} (${prefix} is number ${id}); this adapter belongs to another UNet, or the file is incomplete.`,
          file,
          key,
        );
      }
      expectShape(file, shapes, key, [dim, crossDim], ` (for ${prefix})`);
      expected.add(key);
    }
  });
  const extra = [...shapes.keys()].filter((key) => !expected.has(key));
  if (extra.length > 0) {
    throw new WeightMismatchError(
      `${file} has ${extra.length} weight(s) the UNet (${unetConfigFile}, ${layers.length} cross-attention layers) has no place for ` +
        `(${extra.slice(0, 4).map((k) => `'${k}'`).join(', ')}${extra.length > 4 ? ', ...' : ''}); it is an IP-Adapter for another UNet.`,
      file,
      extra[0]!,
    );
  }

  let tokens: string | null = null;
  let scale: string | null = null;
  const unet: UNetExtensions = {
    declareInputs(g, batch) {
      scale = g.input('ip_adapter_scale', 'float32', [layers.length]);
      tokens = projection.build(g, batch);
    },
    crossAttentionHook(site) {
      const id = ids.get(site.prefix);
      if (id === undefined || tokens === null || scale === null) {
        throw new WeightMismatchError(`${file}: the UNet graph has a cross-attention '${site.prefix}' the adapter check did not list; report this.`, file, site.prefix);
      }
      const { g } = site;
      const k = linear(g, tokens, `ip_adapter.${id}.to_k_ip`, crossDim, site.dim, false);
      const v = linear(g, tokens, `ip_adapter.${id}.to_v_ip`, crossDim, site.dim, false);
      const layerScale = g.op('Gather', [scale, g.constInt64([(id - 1) / 2])], { axis: { i: 0 } });
      return g.op('Mul', [attention(g, site.query, k, v, site.heads, site.headDim, site.layerOptions), layerScale]);
    },
  };
  return {
    unet,
    extensionId: `ip-adapter:${projection.kind}:layer-scales`,
    extraWeightFiles: [file],
    projection: projection.kind,
    imageEmbedDim,
    imageEncoderField: projection.kind === 'resampler' ? 'hidden_size' : 'projection_dim',
    crossAttentionDim: crossDim,
    attentionLayers: layers.map((l) => l.prefix),
  };
}

interface ProjectionPlan {
  readonly kind: IpAdapterImageProjection;
  readonly imageEmbedDim: number;
  /** Every `image_proj.*` key it takes (all checked). */
  readonly keys: readonly string[];
  /** Declares `image_embeds` and returns the image tokens [B, tokens, cross_attention_dim]. */
  build(g: ModelGraph, batch: Dim): string;
}

/** diffusers' ImageProjection: image_embeds [B, n, D] -> Linear(D, 4 x cross) -> [B, 4n, cross] -> LayerNorm. */
function imageProjectionPlan(file: string, shapes: ReadonlyMap<string, readonly number[]>, crossDim: number, unetConfigFile: string): ProjectionPlan {
  const projShape = required(file, shapes, 'image_proj.proj.weight');
  const [rows, imageEmbedDim] = projShape as [number, number];
  if (projShape.length !== 2 || rows !== TOKENS_PER_IMAGE * crossDim) {
    const madeFor = projShape.length === 2 && rows % TOKENS_PER_IMAGE === 0 ? ` (an adapter for cross_attention_dim ${rows / TOKENS_PER_IMAGE})` : '';
    throw new WeightMismatchError(
      `${file}: 'image_proj.proj.weight' has shape [${projShape.join(', ')}]${madeFor}, but the UNet (${unetConfigFile}) has cross_attention_dim ${crossDim}, ` +
        `so it needs [${TOKENS_PER_IMAGE * crossDim}, <image embedding size>]; load the IP-Adapter made for this base model.`,
      file,
      'image_proj.proj.weight',
    );
  }
  expectShape(file, shapes, 'image_proj.proj.bias', [rows]);
  expectShape(file, shapes, 'image_proj.norm.weight', [crossDim]);
  expectShape(file, shapes, 'image_proj.norm.bias', [crossDim]);
  return {
    kind: 'image-projection',
    imageEmbedDim,
    keys: ['image_proj.proj.weight', 'image_proj.proj.bias', 'image_proj.norm.weight', 'image_proj.norm.bias'],
    build(g, batch) {
      const embeds = g.input('image_embeds', 'float32', [batch, 'num_images', imageEmbedDim]);
      const projected = linear(g, g.op('Reshape', [embeds, g.constInt64([-1, imageEmbedDim])]), 'image_proj.proj', imageEmbedDim, rows);
      const rowsOfEmbeds = g.op('Slice', [g.op('Shape', [embeds]), g.constInt64([0]), g.constInt64([1])]);
      const perRow = g.op('Reshape', [projected, g.op('Concat', [rowsOfEmbeds, g.constInt64([-1, crossDim])], { axis: { i: 0 } })]);
      return layerNorm(g, perRow, 'image_proj.norm', crossDim, 1e-5);
    },
  };
}

/**
 * diffusers' IPAdapterPlusImageProjection over the encoder's hidden states [B, n, S, D]: proj_in,
 * 4 blocks (the learned latents attend over [LN(x); LN(latents)], then a GELU feed-forward, each
 * with its residual), proj_out and norm_out; [B, n x queries, cross].
 */
function resamplerPlan(file: string, shapes: ReadonlyMap<string, readonly number[]>, crossDim: number, unetConfigFile: string): ProjectionPlan {
  const latentsShape = required(file, shapes, 'image_proj.latents');
  if (latentsShape.length !== 3 || latentsShape[0] !== 1) {
    throw new WeightMismatchError(`${file}: 'image_proj.latents' has shape [${latentsShape.join(', ')}]; a Resampler's latents are [1, queries, hidden].`, file, 'image_proj.latents');
  }
  const [, queries, hidden] = latentsShape as [number, number, number];
  const proj = required(file, shapes, 'image_proj.proj_in.weight');
  if (proj.length !== 2 || proj[0] !== hidden) {
    throw new WeightMismatchError(`${file}: 'image_proj.proj_in.weight' has shape [${proj.join(', ')}] but the latents are ${hidden} wide; the file is damaged.`, file, 'image_proj.proj_in.weight');
  }
  const embedDim = proj[1]!;
  const out = required(file, shapes, 'image_proj.proj_out.weight');
  if (out.length !== 2 || out[0] !== crossDim) {
    throw new WeightMismatchError(
      `${file}: 'image_proj.proj_out.weight' has shape [${out.join(', ')}]${out.length === 2 ? ` (an adapter for cross_attention_dim ${out[0]})` : ''}, ` +
        `but the UNet (${unetConfigFile}) has cross_attention_dim ${crossDim}; load the IP-Adapter made for this base model.`,
      file,
      'image_proj.proj_out.weight',
    );
  }
  const q0 = required(file, shapes, 'image_proj.layers.0.0.to_q.weight');
  const inner = q0[0]!;
  if (inner % RESAMPLER_HEAD_DIM !== 0) {
    throw new WeightMismatchError(`${file}: 'image_proj.layers.0.0.to_q.weight' has ${inner} rows, not a multiple of the Resampler's ${RESAMPLER_HEAD_DIM}-wide heads.`, file, 'image_proj.layers.0.0.to_q.weight');
  }
  const heads = inner / RESAMPLER_HEAD_DIM;
  const ff = hidden * RESAMPLER_FF_MULT;
  const want: Array<[string, number[]]> = [
    ['image_proj.latents', [1, queries, hidden]],
    ['image_proj.proj_in.weight', [hidden, embedDim]],
    ['image_proj.proj_in.bias', [hidden]],
    ['image_proj.proj_out.weight', [crossDim, hidden]],
    ['image_proj.proj_out.bias', [crossDim]],
    ['image_proj.norm_out.weight', [crossDim]],
    ['image_proj.norm_out.bias', [crossDim]],
  ];
  for (let i = 0; i < RESAMPLER_DEPTH; i++) {
    const p = `image_proj.layers.${i}`;
    want.push(
      [`${p}.0.norm1.weight`, [hidden]], [`${p}.0.norm1.bias`, [hidden]], [`${p}.0.norm2.weight`, [hidden]], [`${p}.0.norm2.bias`, [hidden]],
      [`${p}.0.to_q.weight`, [inner, hidden]], [`${p}.0.to_kv.weight`, [2 * inner, hidden]], [`${p}.0.to_out.weight`, [hidden, inner]],
      [`${p}.1.0.weight`, [hidden]], [`${p}.1.0.bias`, [hidden]], [`${p}.1.1.weight`, [ff, hidden]], [`${p}.1.3.weight`, [hidden, ff]],
    );
  }
  for (const [key, shape] of want) expectShape(file, shapes, key, shape);
  return {
    kind: 'resampler',
    imageEmbedDim: embedDim,
    keys: want.map(([key]) => key),
    build(g, batch) {
      const embeds = g.input('image_embeds', 'float32', [batch, 'num_images', 'image_tokens', embedDim]);
      const dims = g.op('Shape', [embeds]);
      const flat = g.op('Reshape', [embeds, g.op('Concat', [g.constInt64([-1]), g.op('Slice', [dims, g.constInt64([2]), g.constInt64([4])])], { axis: { i: 0 } })]);
      const x = linear(g, flat, 'image_proj.proj_in', embedDim, hidden);
      const images = g.op('Slice', [g.op('Shape', [flat]), g.constInt64([0]), g.constInt64([1])]);
      let latents = g.op('Expand', [g.weight('image_proj.latents', [1, queries, hidden]), g.op('Concat', [images, g.constInt64([queries, hidden])], { axis: { i: 0 } })]);
      for (let i = 0; i < RESAMPLER_DEPTH; i++) {
        const p = `image_proj.layers.${i}`;
        const context = layerNorm(g, x, `${p}.0.norm1`, hidden, 1e-5);
        const normed = layerNorm(g, latents, `${p}.0.norm2`, hidden, 1e-5);
        const keysValues = g.op('Concat', [context, normed], { axis: { i: 1 } });
        const q = linear(g, normed, `${p}.0.to_q`, hidden, inner, false);
        // to_kv stacks to_k over to_v (diffusers chunks it in two along the output rows).
        const [k, v] = g.opN('Split', [linear(g, keysValues, `${p}.0.to_kv`, hidden, 2 * inner, false), g.constInt64([inner, inner])], 2, { axis: { i: -1 } });
        const attended = attention(g, q, k!, v!, heads, RESAMPLER_HEAD_DIM, g.layerOptions);
        latents = g.op('Add', [linear(g, attended, `${p}.0.to_out`, inner, hidden, false), latents]);
        const up = linear(g, layerNorm(g, latents, `${p}.1.0`, hidden, 1e-5), `${p}.1.1`, hidden, ff, false);
        latents = g.op('Add', [linear(g, gelu(g, up), `${p}.1.3`, ff, hidden, false), latents]);
      }
      const tokens = layerNorm(g, linear(g, latents, 'image_proj.proj_out', hidden, crossDim), 'image_proj.norm_out', crossDim, 1e-5);
      const rowsOfEmbeds = g.op('Slice', [dims, g.constInt64([0]), g.constInt64([1])]);
      return g.op('Reshape', [tokens, g.op('Concat', [rowsOfEmbeds, g.constInt64([-1, crossDim])], { axis: { i: 0 } })]);
    },
  };
}

/**
 * The UNet's attn2 modules in diffusers' `attn_processors` order: the
 * module tree as registered (down_blocks, up_blocks, then mid_block), each
 * block's attentions and their transformer blocks in index order.
 */
export function crossAttentionLayers(unetConfig: ModelConfig): Array<{ prefix: string; dim: number }> {
  const section = (prefix: string) => (prefix.startsWith('down_blocks.') ? 0 : prefix.startsWith('up_blocks.') ? 1 : 2);
  const layers: Array<{ prefix: string; dim: number }> = [];
  for (const [key, shape] of listModelWeights('UNet2DConditionModel', unetConfig)) {
    if (key.endsWith('.attn2.to_q.weight')) layers.push({ prefix: key.slice(0, -'.to_q.weight'.length), dim: shape[0]! });
  }
  // The builder visits the mid block between the down and up blocks; sort is stable, so each section keeps its order.
  return layers.sort((a, b) => section(a.prefix) - section(b.prefix));
}

function refuseOtherKinds(file: string, shapes: ReadonlyMap<string, readonly number[]>): void {
  const kinds: Array<[string, string]> = [
    ['image_proj.proj.3.weight', 'IP-Adapter Full Face (an MLP image projection)'],
    ['image_proj.perceiver_resampler.proj_in.weight', 'IP-Adapter Face ID Plus'],
  ];
  for (const [key, kind] of kinds) {
    if (shapes.has(key)) {
      throw new UnsupportedConfigError(
        `${file} is ${kind} ('${key}'); the model builder builds IP-Adapter's image projection (image_proj.proj + image_proj.norm, ` +
          `e.g. h94/IP-Adapter's sdxl_models/ip-adapter_sdxl.safetensors) and IP-Adapter Plus's Resampler (image_proj.latents) only.`,
        file,
        key,
      );
    }
  }
  if (!shapes.has('image_proj.proj.weight') && shapes.has('image_proj.norm.weight')) {
    throw new UnsupportedConfigError(`${file} looks like an IP-Adapter Face ID ('image_proj.norm.weight' without 'image_proj.proj.weight'), which the model builder does not build.`, file, 'image_proj.norm.weight');
  }
}

function required(file: string, shapes: ReadonlyMap<string, readonly number[]>, key: string): readonly number[] {
  const shape = shapes.get(key);
  if (!shape) {
    const keys = [...shapes.keys()];
    throw new WeightMismatchError(
      `${file} has no '${key}'${keys.length ? ` (it has ${keys.slice(0, 3).map((k) => `'${k}'`).join(', ')}${keys.length > 3 ? ', ...' : ''})` : ' (it has no tensors)'}; ` +
        `an IP-Adapter safetensors file has image_proj.* and ip_adapter.<n>.to_k_ip/to_v_ip weights (h94/IP-Adapter's layout).`,
      file,
      key,
    );
  }
  return shape;
}

function expectShape(file: string, shapes: ReadonlyMap<string, readonly number[]>, key: string, want: readonly number[], where = ''): void {
  const shape = required(file, shapes, key);
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new WeightMismatchError(
      `${file}: '${key}' has shape [${shape.join(', ')}] but the UNet needs [${want.join(', ')}]${where}; this IP-Adapter belongs to another base model.`,
      file,
      key,
    );
  }
}
