import { describe, expect, it } from 'vitest';
import { DEFAULT_GITATTRIBUTES, isLfsTracked, parseLfsRules } from './gitattributes.js';
import { uploadModeFor } from './lfs-policy.js';

describe('.gitattributes LFS rules', () => {
  const defaults = parseLfsRules(DEFAULT_GITATTRIBUTES);

  it('tracks weights, ONNX external data and images at any depth, not configs or code', () => {
    for (const path of ['unet/model.onnx', 'unet/model.onnx_data', 'w.safetensors', 'a/b/pytorch_model.bin', 'examples/cat.png', 'saved_model/x/y.pb', 'data.tar.gz', 'run/events.out.tfevents.1']) {
      expect(isLfsTracked(path, defaults), path).toBe(true);
    }
    for (const path of ['model_index.json', 'unet/config.json', 'blocks/bundle.js', 'README.md', 'onnx/readme.txt', 'x.onnx.json']) {
      expect(isLfsTracked(path, defaults), path).toBe(false);
    }
  });

  it('anchors patterns with a slash, and lets a later line untrack', () => {
    const rules = parseLfsRules('data/*.json filter=lfs\n*.bin filter=lfs\nkeep.bin -filter\n');
    expect(isLfsTracked('data/a.json', rules)).toBe(true);
    expect(isLfsTracked('x/data/a.json', rules)).toBe(false);
    expect(isLfsTracked('data/sub/a.json', rules)).toBe(false);
    expect(isLfsTracked('sub/keep.bin', rules)).toBe(false);
    expect(isLfsTracked('sub/other.bin', rules)).toBe(true);
  });

  it('decides the upload mode from rules, size threshold and binary content', () => {
    const policy = { rules: defaults, thresholdBytes: 1000 };
    const text = Buffer.from('{"a":1}');
    expect(uploadModeFor({ path: 'a.json', size: 7, sample: text }, policy)).toBe('regular');
    expect(uploadModeFor({ path: 'a.json', size: 1000, sample: text }, policy)).toBe('lfs');
    expect(uploadModeFor({ path: 'blob.dat', size: 3, sample: Buffer.from([1, 0, 2]) }, policy)).toBe('lfs');
    expect(uploadModeFor({ path: 'm.onnx', size: 3, sample: text }, policy)).toBe('lfs');
  });
});
