/**
 * What an original-layout checkpoint is, told from its keys and a few
 * shapes as diffusers' `infer_diffusers_model_type` tells it (the same
 * marker keys, checked in the same order): SDXL base is recognised by a key
 * of its OpenCLIP encoder's 10th resblock, the refiner by its OpenCLIP
 * encoder sitting at embedder 0, an inpainting UNet by 9 input channels.
 */
import type { SafetensorsHeader } from '../safetensors/safetensors-file.js';

export type CheckpointModelType =
  | 'xl_base'
  | 'xl_inpaint'
  | 'xl_refiner'
  | 'playground-v2-5'
  | 'v1'
  | 'v2'
  | 'inpainting'
  | 'inpainting_v2'
  | 'upscale'
  | 'controlnet'
  | 'unknown';

/** The keys diffusers' CHECKPOINT_KEY_NAMES checks (the ones SDXL and its neighbours need). */
export const CHECKPOINT_MARKER_KEYS = {
  v1: 'model.diffusion_model.output_blocks.11.0.skip_connection.weight',
  v2: 'model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight',
  xl_base: 'conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias',
  xl_refiner: 'conditioner.embedders.0.model.transformer.resblocks.9.mlp.c_proj.bias',
  upscale: 'model.diffusion_model.input_blocks.10.0.skip_connection.bias',
  controlnet: ['control_model.time_embed.0.weight', 'controlnet_cond_embedding.conv_in.weight'],
  playground: 'edm_mean',
  inpainting: 'model.diffusion_model.input_blocks.0.0.weight',
} as const;

export interface CheckpointKind {
  readonly type: CheckpointModelType;
  /** The key the decision rests on (for messages). */
  readonly evidence: string | null;
  /** diffusers' default config repo for the type (DIFFUSERS_DEFAULT_PIPELINE_PATHS), when it has one. */
  readonly defaultConfigRepo: string | null;
}

const DEFAULT_CONFIG_REPOS: Readonly<Partial<Record<CheckpointModelType, string>>> = {
  xl_base: 'stabilityai/stable-diffusion-xl-base-1.0',
  xl_refiner: 'stabilityai/stable-diffusion-xl-refiner-1.0',
  xl_inpaint: 'diffusers/stable-diffusion-xl-1.0-inpainting-0.1',
  'playground-v2-5': 'playgroundai/playground-v2.5-1024px-aesthetic',
  v1: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
  v2: 'stabilityai/stable-diffusion-2-1',
  inpainting: 'stable-diffusion-v1-5/stable-diffusion-inpainting',
  inpainting_v2: 'stabilityai/stable-diffusion-2-inpainting',
  upscale: 'stabilityai/stable-diffusion-x4-upscaler',
  controlnet: 'lllyasviel/control_v11p_sd15_canny',
};

export function inferCheckpointModelType(header: SafetensorsHeader): CheckpointKind {
  const m = CHECKPOINT_MARKER_KEYS;
  const shape = (key: string) => header.tensors.get(key)?.shape ?? null;
  const has = (key: string) => header.tensors.has(key);
  const kind = (type: CheckpointModelType, evidence: string | null): CheckpointKind => ({ type, evidence, defaultConfigRepo: DEFAULT_CONFIG_REPOS[type] ?? null });
  const isV2 = shape(m.v2)?.at(-1) === 1024;
  if (shape(m.inpainting)?.[1] === 9) {
    if (isV2) return kind('inpainting_v2', m.inpainting);
    if (has(m.xl_base)) return kind('xl_inpaint', m.inpainting);
    return kind('inpainting', m.inpainting);
  }
  if (isV2) return kind('v2', m.v2);
  if (has(m.playground)) return kind('playground-v2-5', m.playground);
  if (has(m.xl_base)) return kind('xl_base', m.xl_base);
  if (has(m.xl_refiner)) return kind('xl_refiner', m.xl_refiner);
  if (has(m.upscale)) return kind('upscale', m.upscale);
  const control = m.controlnet.find(has);
  if (control) return kind('controlnet', control);
  // diffusers falls back to v1 for any other checkpoint; say so only when its UNet key is there.
  if (has(m.v1)) return kind('v1', m.v1);
  return kind('unknown', null);
}
