import { describe, expect, it } from 'vitest';
import { blocksCodeEntry, buildModularConfig, parseModularConfig } from './modular-config.js';
import { RepoConfigError } from './pretrained-errors.js';

const SHA = 'a'.repeat(64);

describe('modular_config.json', () => {
  it('maps auto_map "<module>.<export>" to the bundle file and export, as diffusers maps block.Class to block.py', () => {
    const config = parseModularConfig({ _class_name: 'DiffDiffBlocks', auto_map: { ModularPipelineBlocks: 'plugins/block.DiffDiffBlocks' }, requirements: { x: '>=1' } }, 'o/r');
    expect(blocksCodeEntry(config, 'o/r')).toEqual({ file: 'plugins/block.js', exportName: 'DiffDiffBlocks', declaredSha256: null });
    expect(config.requirements).toEqual({ x: '>=1' });
  });

  it('a repo without auto_map has no code; one with code for another class is not silently treated as code-free', () => {
    expect(blocksCodeEntry(parseModularConfig({ _class_name: 'X' }, 'o/r'), 'o/r')).toBeNull();
    expect(() => blocksCodeEntry(parseModularConfig({ auto_map: { ModularPipeline: 'p.P' } }, 'o/r'), 'o/r')).toThrow(RepoConfigError);
  });

  it('rejects malformed fields, naming the file', () => {
    expect(() => parseModularConfig([], 'o/r')).toThrow(/modular_config\.json of o\/r is malformed/);
    expect(() => parseModularConfig({ auto_map: { ModularPipelineBlocks: 3 } }, 'o/r')).toThrow(/"auto_map" must be an object of strings/);
    expect(() => parseModularConfig({ bundle: { file: 'b.js', sha256: 'xyz' } }, 'o/r')).toThrow(/64 lowercase hex/);
    expect(() => blocksCodeEntry(parseModularConfig({ auto_map: { ModularPipelineBlocks: 'NoDot' } }, 'o/r'), 'o/r')).toThrow(/<module>\.<export>/);
    const mismatch = parseModularConfig({ auto_map: { ModularPipelineBlocks: 'a.X' }, bundle: { file: 'b.js', sha256: SHA } }, 'o/r');
    expect(() => blocksCodeEntry(mismatch, 'o/r')).toThrow(/must name the same file/);
  });

  it('builds sorted content that parses back to the same entry', () => {
    const built = buildModularConfig({ className: 'B', requirements: { z: '1', a: '2' }, bundle: { file: 'block.js', sha256: SHA, exportName: 'B' } });
    expect(Object.keys(built)).toEqual(['_class_name', '_diffusers_version', 'auto_map', 'bundle', 'requirements']);
    expect(Object.keys(built.requirements as object)).toEqual(['a', 'z']);
    expect(blocksCodeEntry(parseModularConfig(built, 'o/r'), 'o/r')).toEqual({ file: 'block.js', exportName: 'B', declaredSha256: SHA });
  });
});
