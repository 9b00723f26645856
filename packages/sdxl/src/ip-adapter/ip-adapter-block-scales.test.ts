/**
 * Per-block IP-Adapter scales on SDXL base's layout (70 cross-attention layers in diffusers'
 * attn_processors order), as diffusers' `set_ip_adapter_scale` expands them with default 0:
 * InstantStyle's "style only" `{ up: { block_0: [0, 1, 0] } }` is up_blocks.0.attentions.1 alone.
 */
import { describe, expect, it } from 'vitest';
import { expandIpAdapterBlockScales } from './ip-adapter-block-scales.js';

const layer = (block: string, attention: number, transformer: number) => `${block}.attentions.${attention}.transformer_blocks.${transformer}.attn2`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SDXL_LAYERS = [
  ...range(2).flatMap((a) => range(2).map((t) => layer('down_blocks.1', a, t))),
  ...range(2).flatMap((a) => range(10).map((t) => layer('down_blocks.2', a, t))),
  ...range(3).flatMap((a) => range(10).map((t) => layer('up_blocks.0', a, t))),
  ...range(3).flatMap((a) => range(2).map((t) => layer('up_blocks.1', a, t))),
  ...range(10).map((t) => layer('mid_block', 0, t)),
];

describe('expandIpAdapterBlockScales on SDXL base', () => {
  it("InstantStyle's style-only scales reach up_blocks.0.attentions.1 and nothing else", () => {
    const scales = expandIpAdapterBlockScales({ up: { block_0: [0, 1, 0] } }, SDXL_LAYERS, 2);
    expect(SDXL_LAYERS.length).toBe(70);
    expect(SDXL_LAYERS.filter((_, i) => scales[i] === 1)).toEqual(range(10).map((t) => layer('up_blocks.0', 1, t)));
    expect(scales.filter((s) => s !== 0 && s !== 1)).toEqual([]);
  });

  it('style and layout: down.block_2 [0, 1] with up.block_0 [0, 1, 0]; a number fills a part, a list of one a block, mid a number', () => {
    const scales = expandIpAdapterBlockScales({ down: { block_2: [0, 1] }, up: { block_0: [0, 1, 0] } }, SDXL_LAYERS, 2);
    expect(scales.filter((s) => s === 1)).toHaveLength(20);
    expect(scales[SDXL_LAYERS.indexOf(layer('down_blocks.2', 1, 9))]).toBe(1);
    const filled = expandIpAdapterBlockScales({ down: 0.5, mid: [0.25], up: { block_1: [0.75] } }, SDXL_LAYERS, 2);
    expect(filled.slice(0, 24).every((s) => s === 0.5)).toBe(true);
    expect(filled.slice(24, 54).every((s) => s === 0)).toBe(true);
    expect(filled.slice(54, 60).every((s) => s === 0.75)).toBe(true);
    expect(filled.slice(60).every((s) => s === 0.25)).toBe(true);
  });

  it('names what it cannot place', () => {
    expect(() => expandIpAdapterBlockScales({ down: { block_0: 1 } }, SDXL_LAYERS, 2)).toThrow(/'down.block_0' is not a block with attentions .*block_1, block_2/);
    expect(() => expandIpAdapterBlockScales({ up: { block_0: [1, 1] } }, SDXL_LAYERS, 2)).toThrow(/expected 3 scales for up.block_0/);
    expect(() => expandIpAdapterBlockScales({ mid: [1, 2] }, SDXL_LAYERS, 2)).toThrow(/expected 1 scale for mid/);
    expect(() => expandIpAdapterBlockScales({ middle: 1 } as never, SDXL_LAYERS, 2)).toThrow(/unknown part 'middle'/);
    expect(() => expandIpAdapterBlockScales({ up: { block_0: [0, Number.NaN, 0] } }, SDXL_LAYERS, 2)).toThrow(/up.block_0\[1\] must be a finite number/);
  });
});
