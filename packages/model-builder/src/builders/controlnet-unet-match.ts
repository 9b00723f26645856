/**
 * Whether a ControlNet fits a UNet: its residuals must have the UNet's skip
 * connection layout (block_out_channels, layers_per_block) and it must take
 * the inputs the pipeline feeds the UNet (cross_attention_dim for the prompt
 * embeddings, the text_time added embedding's sizes, the latent channels).
 * An SD 1.5 ControlNet next to an SDXL UNet, or one made for another SDXL
 * size, fails here, naming the ControlNet's config file and the first key
 * that differs, before any model runs.
 */
import { ModelBuildError } from '../errors.js';
import type { ModelConfig } from './config-reader.js';

/** A ControlNet whose config does not match the UNet it would steer. */
export class ArchitectureMismatchError extends ModelBuildError {
  static override readonly code: string = 'ARCHITECTURE_MISMATCH';
  override name = 'ArchitectureMismatchError';
}

export interface ConfigSource {
  readonly config: ModelConfig;
  /** The config.json it was read from, for messages. */
  readonly file: string;
}

/** diffusers' constructor defaults (UNet2DConditionModel and ControlNetModel agree on these), for keys a config leaves out. */
const DEFAULTS: Readonly<Record<string, unknown>> = {
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  cross_attention_dim: 1280,
  addition_embed_type: null,
  addition_time_embed_dim: null,
  projection_class_embeddings_input_dim: null,
};

const KEYS = ['addition_embed_type', 'cross_attention_dim', 'block_out_channels', 'layers_per_block', 'addition_time_embed_dim', 'projection_class_embeddings_input_dim'] as const;

function value(source: ConfigSource, key: string): unknown {
  const v = source.config[key] ?? DEFAULTS[key] ?? null;
  // layers_per_block may be an int or one int per block; a list of equal ints is that int.
  if (key === 'layers_per_block' && Array.isArray(v) && v.length > 0 && v.every((x) => x === v[0])) return v[0];
  return v;
}

export function checkControlNetMatchesUNet(controlnet: ConfigSource, unet: ConfigSource): void {
  for (const key of KEYS) {
    const ours = value(controlnet, key);
    const theirs = value(unet, key);
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      const hint = key === 'addition_embed_type' || key === 'cross_attention_dim'
        ? ` (an SD 1.x/2.x ControlNet has no "text_time" embedding and 768/1024-wide cross attention; SDXL's has "text_time" and 2048)`
        : '';
      throw new ArchitectureMismatchError(
        `${controlnet.file}: '${key}' is ${JSON.stringify(ours)} but the UNet's (${unet.file}) is ${JSON.stringify(theirs)}: ` +
          `this ControlNet was made for another architecture${hint}. Load a ControlNet trained for this UNet.`,
        controlnet.file,
        key,
      );
    }
  }
  // The ControlNet takes the latents without an inpainting UNet's mask channels.
  const latentChannels = unet.config.out_channels ?? 4;
  const takes = controlnet.config.in_channels ?? 4;
  if (takes !== latentChannels) {
    throw new ArchitectureMismatchError(
      `${controlnet.file}: 'in_channels' is ${JSON.stringify(takes)} but the UNet's (${unet.file}) latents have ${JSON.stringify(latentChannels)} channels ('out_channels'); ` +
        `load a ControlNet trained for this UNet.`,
      controlnet.file,
      'in_channels',
    );
  }
}
