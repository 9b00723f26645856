import { describe, expect, it } from 'vitest';
import { filterRepoPaths, fnmatchToRegExp } from './path-patterns.js';

// Expected values follow Python's fnmatch.fnmatch (the matcher huggingface_hub's allow/ignore patterns use).

const PATHS = ['model_index.json', 'unet/config.json', 'unet/model.onnx', 'unet/model.fp16.onnx', 'unet/sub/deep.bin', 'vae/model.onnx', 'README.md'];

describe('fnmatch patterns', () => {
  it('"*" crosses "/" as in fnmatch (unlike shell globs)', () => {
    expect(filterRepoPaths(PATHS, ['unet/*'])).toEqual(['unet/config.json', 'unet/model.onnx', 'unet/model.fp16.onnx', 'unet/sub/deep.bin']);
    expect(filterRepoPaths(PATHS, ['*.onnx'])).toEqual(['unet/model.onnx', 'unet/model.fp16.onnx', 'vae/model.onnx']);
  });

  it('a trailing "/" selects a folder; ignore patterns remove what allow patterns selected', () => {
    expect(filterRepoPaths(PATHS, ['unet/'], ['*fp16*', 'unet/sub/'])).toEqual(['unet/config.json', 'unet/model.onnx']);
    expect(filterRepoPaths(PATHS, undefined, ['*.onnx', '*.bin'])).toEqual(['model_index.json', 'unet/config.json', 'README.md']);
    expect(filterRepoPaths(PATHS, [])).toEqual([]);
  });

  it('"?", sets, negated sets, and regex characters taken literally', () => {
    expect(fnmatchToRegExp('model.onnx?').test('model.onnx_')).toBe(true);
    expect(fnmatchToRegExp('[uv]*/model.onnx').test('vae/model.onnx')).toBe(true);
    expect(fnmatchToRegExp('[!uv]*').test('unet/x')).toBe(false);
    expect(fnmatchToRegExp('[!uv]*').test('model_index.json')).toBe(true);
    expect(fnmatchToRegExp('[]]x').test(']x')).toBe(true);
    expect(fnmatchToRegExp('a[^b]').test('a^')).toBe(true);
    expect(fnmatchToRegExp('a[').test('a[')).toBe(true);
    expect(fnmatchToRegExp('model.json').test('model_json')).toBe(false);
    expect(fnmatchToRegExp('(a)+').test('(a)+')).toBe(true);
    expect(fnmatchToRegExp('*.md').test('README.md\nx')).toBe(false);
  });
});
