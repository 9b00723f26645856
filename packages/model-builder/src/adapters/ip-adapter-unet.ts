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
 *   tokens, and `ip_adapter_scale` (input [1]) times that attention is added
 *   to attn2's output before `to_out` (IPAdapterAttnProcessor). k numbers
 *   the UNet's attention processors in diffusers' `attn_processors` order
 *   (down blocks, up blocks, then the mid block; attn1 and attn2 alternate),
 *   so the cross-attentions are 1, 3, 5, ...
 *
 * The file is checked against the UNet config before anything is built:
 * every key it must have, every shape, no key left over, each error naming
 * the file and the key. The scale is a graph input, so changing it needs no
 * rebuild. IP-Adapter Plus (a Resampler, `image_proj.latents`) and the
 * Face ID variants are refused by name.
 */
import { UnsupportedConfigError, WeightMismatchError } from '../errors.js';
import type { ModelConfig } from '../builders/config-reader.js';
import type { UNetExtensions } from '../builders/unet-2d-condition.js';
import { attention, layerNorm, linear } from '../graph/layers.js';
import { listModelWeights } from '../list-model-weights.js';
import { readSafetensorsHeader } from '../safetensors/safetensors-file.js';

/** diffusers' ImageProjection for IP-Adapter weights (`proj.weight` present): always 4 tokens per image. */
const TOKENS_PER_IMAGE = 4;

export interface IpAdapterUNetBuild {
  /** Pass to buildModel as `unet`, with `extensionId` and `extraWeightFiles`. */
  readonly unet: UNetExtensions;
  readonly extensionId: string;
  readonly extraWeightFiles: readonly string[];
  /** The image embedding size the adapter projects from: the image encoder's `projection_dim` must equal it. */
  readonly imageEmbedDim: number;
  readonly crossAttentionDim: number;
  /** The cross-attention layers the adapter reaches, in diffusers' processor order. */
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

  const layers = crossAttentionLayers(unetConfig);
  const ids = new Map<string, number>();
  const expected = new Set(['image_proj.proj.weight', 'image_proj.proj.bias', 'image_proj.norm.weight', 'image_proj.norm.bias']);
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
      const embeds = g.input('image_embeds', 'float32', [batch, 'num_images', imageEmbedDim]);
      scale = g.input('ip_adapter_scale', 'float32', [1]);
      const projected = linear(g, g.op('Reshape', [embeds, g.constInt64([-1, imageEmbedDim])]), 'image_proj.proj', imageEmbedDim, rows);
      const rowsOfEmbeds = g.op('Slice', [g.op('Shape', [embeds]), g.constInt64([0]), g.constInt64([1])]);
      const perRow = g.op('Reshape', [projected, g.op('Concat', [rowsOfEmbeds, g.constInt64([-1, crossDim])], { axis: { i: 0 } })]);
      tokens = layerNorm(g, perRow, 'image_proj.norm', crossDim, 1e-5);
    },
    crossAttentionHook(site) {
      const id = ids.get(site.prefix);
      if (id === undefined || tokens === null || scale === null) {
        throw new WeightMismatchError(`${file}: the UNet graph has a cross-attention '${site.prefix}' the adapter check did not list; report this.`, file, site.prefix);
      }
      const { g } = site;
      const k = linear(g, tokens, `ip_adapter.${id}.to_k_ip`, crossDim, site.dim, false);
      const v = linear(g, tokens, `ip_adapter.${id}.to_v_ip`, crossDim, site.dim, false);
      return g.op('Mul', [attention(g, site.query, k, v, site.heads, site.headDim, site.layerOptions), scale]);
    },
  };
  return {
    unet,
    extensionId: `ip-adapter:image-projection:${TOKENS_PER_IMAGE}`,
    extraWeightFiles: [file],
    imageEmbedDim,
    crossAttentionDim: crossDim,
    attentionLayers: layers.map((l) => l.prefix),
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
    ['image_proj.latents', 'IP-Adapter Plus (a Resampler image projection)'],
    ['image_proj.proj.3.weight', 'IP-Adapter Full Face (an MLP image projection)'],
    ['image_proj.perceiver_resampler.proj_in.weight', 'IP-Adapter Face ID Plus'],
  ];
  for (const [key, kind] of kinds) {
    if (shapes.has(key)) {
      throw new UnsupportedConfigError(
        `${file} is ${kind} ('${key}'); the model builder builds the plain IP-Adapter image projection (image_proj.proj + image_proj.norm) only, ` +
          `e.g. h94/IP-Adapter's sdxl_models/ip-adapter_sdxl.safetensors.`,
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
