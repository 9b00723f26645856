/**
 * kohya's flat LoRA names for the modules of a diffusers model, so a kohya
 * key is looked up exactly rather than guessed back into dots.
 *
 * kohya writes a module path with `_` for `.`. For SDXL it trains on the
 * original (sgm/LDM) UNet, whose modules are named by position:
 * `input_blocks.<i>.<j>`, `middle_block.<j>`, `output_blocks.<i>.<j>`,
 * `time_embed`, `label_emb`, `out`. With `layers_per_block` = L, diffusers'
 * `down_blocks.<b>.resnets.<k>` is `input_blocks.<1 + b(L+1) + k>.0`, its
 * `attentions.<k>` is `.1` of the same input block, its downsampler is
 * `input_blocks.<(b+1)(L+1)>.0.op`; the mid block is `middle_block.0`
 * (resnet), `.1` (attention), `.2` (resnet); `up_blocks.<b>` has L + 1
 * layers: `output_blocks.<b(L+1) + k>.0` (resnet), `.1` (attention) and the
 * upsampler after the last layer's resnet (and attention, if any). Inside a
 * resnet `conv1`, `conv2`, `time_emb_proj`, `conv_shortcut` are
 * `in_layers.2`, `out_layers.3`, `emb_layers.1`, `skip_connection`.
 * Attention internals keep diffusers' names. Both spellings (diffusers'
 * paths and sgm's) are indexed: kohya LoRAs exist in each.
 */

export interface UNetLayout {
  readonly layersPerBlock: number;
  readonly downBlockTypes: readonly string[];
  readonly upBlockTypes: readonly string[];
}

export function unetLayout(config: Readonly<Record<string, unknown>>): UNetLayout | null {
  const layers = config.layers_per_block;
  const down = config.down_block_types;
  const up = config.up_block_types;
  if (typeof layers !== 'number' || !Array.isArray(down) || !Array.isArray(up)) return null;
  return { layersPerBlock: layers, downBlockTypes: down as string[], upBlockTypes: up as string[] };
}

const RESNET_PARTS: Record<string, string> = {
  conv1: 'in_layers.2',
  conv2: 'out_layers.3',
  time_emb_proj: 'emb_layers.1',
  conv_shortcut: 'skip_connection',
  norm1: 'in_layers.0',
  norm2: 'out_layers.0',
};

const FIXED: Record<string, string> = {
  conv_in: 'input_blocks.0.0',
  conv_out: 'out.2',
  conv_norm_out: 'out.0',
  'time_embedding.linear_1': 'time_embed.0',
  'time_embedding.linear_2': 'time_embed.2',
  'add_embedding.linear_1': 'label_emb.0.0',
  'add_embedding.linear_2': 'label_emb.0.2',
};

/** The sgm/LDM path of a diffusers UNet module, or null when it has none (or the layout is unknown). */
export function sgmModulePath(module: string, layout: UNetLayout): string | null {
  if (FIXED[module]) return FIXED[module]!;
  const L = layout.layersPerBlock;
  const resnet = (rest: string): string | null => {
    const [part, ...tail] = rest.split('.');
    const mapped = RESNET_PARTS[part!];
    return mapped ? [mapped, ...tail].join('.') : null;
  };
  let m: RegExpExecArray | null;
  if ((m = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(module))) {
    const index = 1 + Number(m[1]) * (L + 1) + Number(m[3]);
    const inner = m[2] === 'resnets' ? resnet(m[4]!) : m[4]!;
    return inner === null ? null : `input_blocks.${index}.${m[2] === 'resnets' ? 0 : 1}.${inner}`;
  }
  if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv$/.exec(module))) return `input_blocks.${(Number(m[1]) + 1) * (L + 1)}.0.op`;
  if ((m = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(module))) {
    const position = m[1] === 'attentions' ? 1 : Number(m[2]) === 0 ? 0 : 2;
    const inner = m[1] === 'resnets' ? resnet(m[3]!) : m[3]!;
    return inner === null ? null : `middle_block.${position}.${inner}`;
  }
  if ((m = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(module))) {
    const index = Number(m[1]) * (L + 1) + Number(m[3]);
    const inner = m[2] === 'resnets' ? resnet(m[4]!) : m[4]!;
    return inner === null ? null : `output_blocks.${index}.${m[2] === 'resnets' ? 0 : 1}.${inner}`;
  }
  if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv$/.exec(module))) {
    const block = Number(m[1]);
    const hasAttention = /CrossAttn/.test(layout.upBlockTypes[block] ?? '');
    return `output_blocks.${block * (L + 1) + L}.${hasAttention ? 2 : 1}.conv`;
  }
  return null;
}

/** kohya's flat name of a module path: dots become underscores. */
export function kohyaFlatName(path: string): string {
  return path.replace(/\./g, '_');
}

/**
 * kohya flat name -> diffusers module, over the given module paths (the
 * model's weights without `.weight`); a UNet layout adds the sgm spellings.
 */
export function kohyaNameIndex(modules: Iterable<string>, layout: UNetLayout | null): Map<string, string> {
  const index = new Map<string, string>();
  for (const module of modules) {
    index.set(kohyaFlatName(module), module);
    const sgm = layout ? sgmModulePath(module, layout) : null;
    if (sgm) index.set(kohyaFlatName(sgm), module);
  }
  return index;
}
