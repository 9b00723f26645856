import { describe, expect, it } from 'vitest';
import { VaeImageProcessor } from '../src/index.js';
import { loadPilFixtures } from './pil-fixtures.js';

const fixtures = loadPilFixtures();

describe("VaeImageProcessor.preprocess against diffusers' own preprocess (fixtures/pil-resize)", () => {
  it('the references come from diffusers at the pinned commit and cover the modes this port supports', () => {
    expect(fixtures.diffusersCommit).toBe('58eb52c080');
    const modes = new Set(fixtures.preprocess.map((p) => p.options.resize_mode ?? 'default'));
    expect([...modes].sort()).toEqual(['crop', 'default', 'fill']);
    expect(fixtures.preprocess.some((p) => p.config.do_binarize === true)).toBe(true);
    expect(fixtures.preprocess.some((p) => p.options.crops_coords !== undefined)).toBe(true);
  });

  for (const entry of fixtures.preprocess) {
    it(`${entry.name}: the same float32 tensor, bit for bit`, async () => {
      const processor = VaeImageProcessor.fromConfig(entry.config);
      const { height, width, resize_mode: resizeMode, crops_coords: cropsCoords } = entry.options;
      const out = await processor.preprocess(fixtures.inputs.get(entry.input)!, {
        ...(height !== undefined ? { height } : {}),
        ...(width !== undefined ? { width } : {}),
        ...(resizeMode !== undefined ? { resizeMode } : {}),
        ...(cropsCoords !== undefined ? { cropsCoords } : {}),
      });
      expect(out.shape).toEqual(entry.shape);
      const expected = fixtures.floats(entry);
      const actual = out.data as Float32Array;
      // Compare the bit patterns, so -0 vs 0 or any last-bit difference fails too.
      const expectedBits = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
      const differ = new Uint32Array(actual.buffer, actual.byteOffset, actual.length).filter((bits, i) => bits !== expectedBits[i]).length;
      expect(differ).toBe(0);
    });
  }
});
