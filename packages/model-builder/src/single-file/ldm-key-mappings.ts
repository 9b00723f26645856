/**
 * Where diffusers' and transformers' tensor names lie in an original
 * (LDM/SGM) SDXL checkpoint, the layout `from_single_file` converts from
 * (diffusers' loaders/single_file_utils.py: convert_ldm_unet_checkpoint,
 * convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint,
 * convert_open_clip_checkpoint). The mapping runs from the diffusers name to
 * the checkpoint's, so a missing tensor is reported by its checkpoint name:
 *
 * - UNet (`model.diffusion_model.`): `input_blocks.<i>` / `output_blocks.<i>`
 *   count resnets, attentions and samplers in one sequence
 *   (layers_per_block + 1 per down block, the same per up block), resnet
 *   parts are `in_layers.0/2`, `out_layers.0/3`, `emb_layers.1`,
 *   `skip_connection`; attentions keep their inner names.
 * - VAE (`first_stage_model.`): `down.<i>.block.<j>`, the decoder's `up.<i>`
 *   numbered from the bottom, `mid.block_1/2`, `mid.attn_1.{norm,q,k,v,proj_out}`
 *   (1x1 convolutions, read as linear weights), `nin_shortcut`, `norm_out`.
 * - CLIP-L (`conditioner.embedders.0.transformer.`): transformers' own names.
 * - OpenCLIP-bigG (`conditioner.embedders.1.model.`): `transformer.resblocks.<n>`
 *   with `ln_1/2`, `mlp.c_fc/c_proj`, q/k/v fused row-wise in
 *   `attn.in_proj_weight`/`in_proj_bias`, and `text_projection` stored transposed.
 */
import { UnsupportedConfigError } from '../errors.js';
import type { ModelConfig } from '../builders/config-reader.js';
import type { CheckpointKeyMapping, CheckpointTensor } from './checkpoint-weights.js';

/** Bump when a mapping changes, so graphs built through the old one are rebuilt. */
export const LDM_MAPPING_VERSION = 1;

export const LDM_UNET_PREFIX = 'model.diffusion_model.';
export const LDM_VAE_PREFIX = 'first_stage_model.';
export const SGM_CLIP_L_PREFIX = 'conditioner.embedders.0.transformer.';
export const SGM_OPEN_CLIP_PREFIX = 'conditioner.embedders.1.model.';
/** The SDXL refiner has only the OpenCLIP encoder, as embedder 0. */
export const SGM_REFINER_OPEN_CLIP_PREFIX = 'conditioner.embedders.0.model.';

const RESNET_PARTS: Readonly<Record<string, string>> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  time_emb_proj: 'emb_layers.1',
  conv_shortcut: 'skip_connection',
};

const UNET_TOP: Readonly<Record<string, string>> = {
  'time_embedding.linear_1': 'time_embed.0',
  'time_embedding.linear_2': 'time_embed.2',
  'add_embedding.linear_1': 'label_emb.0.0',
  'add_embedding.linear_2': 'label_emb.0.2',
  conv_in: 'input_blocks.0.0',
  conv_norm_out: 'out.0',
  conv_out: 'out.2',
};

function positiveInt(config: ModelConfig, key: string, file: string): number {
  const value = config[key];
  if (!Number.isInteger(value) || (value as number) <= 0) throw new UnsupportedConfigError(`${file}: '${key}' must be a positive integer to map a single-file checkpoint, got ${JSON.stringify(value)}.`, file, key);
  return value as number;
}

function stringList(config: ModelConfig, key: string, file: string): string[] {
  const value = config[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new UnsupportedConfigError(`${file}: '${key}' must be a list of block types, got ${JSON.stringify(value)}.`, file, key);
  return value as string[];
}

/** `norm1.weight` -> `in_layers.0.weight`; null for a name a resnet does not have. */
function resnetPart(rest: string): string | null {
  const dot = rest.indexOf('.');
  const part = RESNET_PARTS[rest.slice(0, dot)];
  return part ? `${part}${rest.slice(dot)}` : null;
}

/** The UNet2DConditionModel of an SDXL checkpoint; `configFile` names the config in messages. */
export function ldmUnetMapping(config: ModelConfig, configFile: string): CheckpointKeyMapping {
  const perBlock = positiveInt(config, 'layers_per_block', configFile);
  const upTypes = stringList(config, 'up_block_types', configFile);
  const locate = (key: string): string | null => {
    const dot = key.lastIndexOf('.');
    const top = UNET_TOP[key.slice(0, dot)];
    if (top) return `${top}${key.slice(dot)}`;
    const parts = key.split('.');
    const rest = (from: number) => parts.slice(from).join('.');
    if (parts[0] === 'down_blocks') {
      const block = Number(parts[1]);
      if (parts[2] === 'downsamplers') return `input_blocks.${1 + block * (perBlock + 1) + perBlock}.0.op.${parts.at(-1)}`;
      const index = 1 + block * (perBlock + 1) + Number(parts[3]);
      if (parts[2] === 'resnets') return prefixed(`input_blocks.${index}.0.`, resnetPart(rest(4)));
      if (parts[2] === 'attentions') return `input_blocks.${index}.1.${rest(4)}`;
      return null;
    }
    if (parts[0] === 'mid_block') {
      if (parts[1] === 'resnets') return prefixed(`middle_block.${2 * Number(parts[2])}.`, resnetPart(rest(3)));
      if (parts[1] === 'attentions' && parts[2] === '0') return `middle_block.1.${rest(3)}`;
      return null;
    }
    if (parts[0] === 'up_blocks') {
      const block = Number(parts[1]);
      if (parts[2] === 'upsamplers') {
        // An up block is [resnet, attention?, upsampler] in the LDM layout: the upsampler follows the attention.
        const slot = upTypes[block]?.startsWith('CrossAttn') ? 2 : 1;
        return `output_blocks.${block * (perBlock + 1) + perBlock}.${slot}.conv.${parts.at(-1)}`;
      }
      const index = block * (perBlock + 1) + Number(parts[3]);
      if (parts[2] === 'resnets') return prefixed(`output_blocks.${index}.0.`, resnetPart(rest(4)));
      if (parts[2] === 'attentions') return `output_blocks.${index}.1.${rest(4)}`;
      return null;
    }
    return null;
  };
  return renamed('the UNet', LDM_UNET_PREFIX, `ldm-unet@${LDM_MAPPING_VERSION}`, locate);
}

const VAE_ATTENTION: Readonly<Record<string, string>> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };

/** The AutoencoderKL of an SDXL checkpoint. */
export function ldmVaeMapping(config: ModelConfig, configFile: string): CheckpointKeyMapping {
  const channels = config.block_out_channels;
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new UnsupportedConfigError(`${configFile}: 'block_out_channels' must be a list to map a single-file checkpoint, got ${JSON.stringify(channels)}.`, configFile, 'block_out_channels');
  }
  const blocks = channels.length;
  const locate = (key: string): string | null => {
    const [half, ...parts] = key.split('.');
    if (half === 'quant_conv' || half === 'post_quant_conv') return key;
    if (half !== 'encoder' && half !== 'decoder') return null;
    const rest = (from: number) => parts.slice(from).join('.');
    if (parts[0] === 'conv_in' || parts[0] === 'conv_out') return key;
    if (parts[0] === 'conv_norm_out') return `${half}.norm_out.${rest(1)}`;
    if (parts[0] === 'mid_block') {
      if (parts[1] === 'resnets') return `${half}.mid.block_${Number(parts[2]) + 1}.${shortcut(rest(3))}`;
      const inner = rest(3);
      const dot = inner.lastIndexOf('.');
      const name = VAE_ATTENTION[inner.slice(0, dot)];
      return parts[1] === 'attentions' && parts[2] === '0' && name ? `${half}.mid.attn_1.${name}${inner.slice(dot)}` : null;
    }
    const ownBlock = Number(parts[1]);
    // The decoder's up blocks are numbered from the bottom in the LDM layout.
    const block = half === 'encoder' ? ownBlock : blocks - 1 - ownBlock;
    const kind = half === 'encoder' ? 'down' : 'up';
    if ((parts[0] === 'down_blocks' && half === 'encoder') || (parts[0] === 'up_blocks' && half === 'decoder')) {
      if (parts[2] === 'downsamplers' || parts[2] === 'upsamplers') return `${half}.${kind}.${block}.${kind}sample.conv.${parts.at(-1)}`;
      if (parts[2] === 'resnets') return `${half}.${kind}.${block}.block.${parts[3]}.${shortcut(rest(4))}`;
    }
    return null;
  };
  return renamed('the VAE', LDM_VAE_PREFIX, `ldm-vae@${LDM_MAPPING_VERSION}`, locate);
}

/** SDXL's first text encoder (CLIP ViT-L), stored with transformers' names under the embedder prefix. */
export function sgmClipLMapping(): CheckpointKeyMapping {
  return {
    ...renamed('text encoder 1 (CLIP-L)', SGM_CLIP_L_PREFIX, `sgm-clip-l@${LDM_MAPPING_VERSION}`, (key) => key),
    // transformers' position-id buffer: int64 as a rule, but some merges store it as floats; never a weight.
    ignored: new Set([`${SGM_CLIP_L_PREFIX}text_model.embeddings.position_ids`]),
  };
}

const OPEN_CLIP_LAYER: ReadonlyArray<readonly [string, string]> = [
  ['layer_norm1', 'ln_1'],
  ['layer_norm2', 'ln_2'],
  ['mlp.fc1', 'mlp.c_fc'],
  ['mlp.fc2', 'mlp.c_proj'],
  ['self_attn.out_proj', 'attn.out_proj'],
];
const OPEN_CLIP_TOP: Readonly<Record<string, string>> = {
  'text_model.embeddings.position_embedding.weight': 'positional_embedding',
  'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
  'text_model.final_layer_norm.weight': 'ln_final.weight',
  'text_model.final_layer_norm.bias': 'ln_final.bias',
};

/** SDXL's second text encoder (OpenCLIP ViT-bigG) as CLIPTextModelWithProjection; `prefix` is embedder 1's (embedder 0's in the refiner). */
export function sgmOpenClipMapping(config: ModelConfig, configFile: string, prefix: string = SGM_OPEN_CLIP_PREFIX): CheckpointKeyMapping {
  const hidden = positiveInt(config, 'hidden_size', configFile);
  const locate = (key: string): CheckpointTensor | null => {
    const top = OPEN_CLIP_TOP[key];
    if (top) return { key: prefix + top };
    if (key === 'text_projection.weight') return { key: `${prefix}text_projection`, transposed: true };
    const match = /^text_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(key);
    if (!match) return null;
    const [, layer, rest] = match as unknown as [string, string, string];
    const fused = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
    if (fused) {
      const part = 'qkv'.indexOf(fused[1]!);
      return { key: `${prefix}transformer.resblocks.${layer}.attn.in_proj_${fused[2]}`, rows: [part * hidden, (part + 1) * hidden] };
    }
    for (const [ours, theirs] of OPEN_CLIP_LAYER) {
      if (rest.startsWith(`${ours}.`)) return { key: `${prefix}transformer.resblocks.${layer}.${theirs}${rest.slice(ours.length)}` };
    }
    return null;
  };
  return {
    id: `sgm-open-clip@${LDM_MAPPING_VERSION}:${prefix}`,
    what: 'text encoder 2 (OpenCLIP-bigG)',
    prefix,
    locate,
    // open_clip's contrastive temperature and (in some exports) its causal-mask buffer: not weights of the text encoder.
    ignored: new Set([`${prefix}logit_scale`, `${prefix}attn_mask`]),
  };
}

function renamed(what: string, prefix: string, id: string, locate: (key: string) => string | null): CheckpointKeyMapping {
  return {
    id,
    what,
    prefix,
    locate: (key) => {
      const name = locate(key);
      return name === null ? null : { key: prefix + name };
    },
  };
}

function prefixed(head: string, tail: string | null): string | null {
  return tail === null ? null : head + tail;
}

function shortcut(rest: string): string {
  return rest.startsWith('conv_shortcut.') ? `nin_shortcut${rest.slice('conv_shortcut'.length)}` : rest;
}
