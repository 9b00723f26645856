/**
 * diffusers' per-block IP-Adapter scales (`set_ip_adapter_scale({"up": {"block_0": [0.0, 1.0, 0.0]}})`,
 * InstantStyle's "style only"), expanded to one scale per cross-attention layer as diffusers'
 * `_maybe_expand_lora_scales` does with default 0: a part left out (down, mid, up, or a block
 * of one) gets 0; a number stands for every transformer of its block; a block's list has one
 * entry per attention (`layers_per_block` down, one more up). A name the UNet does not have is an
 * error naming it (diffusers ignores a block it has no attention in; here that is refused too).
 */
import { InvalidArgumentError } from '@modular-diffusers/core';

/** One block's scale: a number, or one per attention of the block. */
export type IpAdapterBlockScale = number | readonly number[];

export interface IpAdapterBlockScales {
  readonly down?: number | Readonly<Record<string, IpAdapterBlockScale>>;
  readonly mid?: number | readonly number[];
  readonly up?: number | Readonly<Record<string, IpAdapterBlockScale>>;
}

const PARTS = ['down', 'mid', 'up'];

/**
 * One scale per entry of `layers` (attn2 prefixes such as 'up_blocks.0.attentions.1.transformer_blocks.0.attn2').
 * `layersPerBlock` is the UNet config's `layers_per_block`.
 */
export function expandIpAdapterBlockScales(scales: IpAdapterBlockScales, layers: readonly string[], layersPerBlock: number): number[] {
  for (const key of Object.keys(scales)) {
    if (!PARTS.includes(key)) throw new InvalidArgumentError(`setIpAdapterScale: unknown part '${key}'; per-block scales have 'down', 'mid' and 'up'.`);
  }
  const byPrefix = new Map<string, number>();
  byPrefix.set('mid_block.attentions.0', midScale(scales.mid));
  for (const updown of ['up', 'down'] as const) {
    const blocks = [...new Set(layers.map((l) => new RegExp(`^${updown}_blocks\\.(\\d+)\\.attentions\\.`).exec(l)?.[1]).filter((b) => b !== undefined))].map(Number);
    const perBlock = updown === 'down' ? layersPerBlock : layersPerBlock + 1;
    const given = scales[updown] ?? 0;
    const byBlock: Readonly<Record<string, IpAdapterBlockScale>> = typeof given === 'number' ? Object.fromEntries(blocks.map((i) => [`block_${i}`, given])) : given;
    for (const name of Object.keys(byBlock)) {
      const index = /^block_(\d+)$/.exec(name);
      if (!index || !blocks.includes(Number(index[1]))) {
        throw new InvalidArgumentError(
          `setIpAdapterScale: '${updown}.${name}' is not a block with attentions in this UNet (${updown}: ${blocks.map((i) => `block_${i}`).join(', ') || 'none'}).`,
        );
      }
    }
    for (const i of blocks) {
      const value = byBlock[`block_${i}`] ?? 0;
      const list = typeof value === 'number' ? new Array<number>(perBlock).fill(value) : value.length === 1 ? new Array<number>(perBlock).fill(value[0]!) : value;
      if (list.length !== perBlock) {
        throw new InvalidArgumentError(`setIpAdapterScale: expected ${perBlock} scales for ${updown}.block_${i} (one per attention), got ${list.length}.`);
      }
      list.forEach((s, a) => byPrefix.set(`${updown}_blocks.${i}.attentions.${a}`, finite(s, `${updown}.block_${i}[${a}]`)));
    }
  }
  return layers.map((layer) => {
    const prefix = [...byPrefix.keys()].find((p) => layer.startsWith(`${p}.`));
    return prefix === undefined ? 0 : byPrefix.get(prefix)!;
  });
}

function midScale(mid: number | readonly number[] | undefined): number {
  if (mid === undefined) return 0;
  if (typeof mid === 'number') return finite(mid, 'mid');
  if (mid.length !== 1) throw new InvalidArgumentError(`setIpAdapterScale: expected 1 scale for mid, got ${mid.length}.`);
  return finite(mid[0]!, 'mid');
}

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(`setIpAdapterScale: the scale for ${where} must be a finite number, got ${JSON.stringify(value)}.`);
  return value;
}
