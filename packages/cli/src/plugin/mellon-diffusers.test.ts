// mellon_pipeline_config.json against what diffusers 58eb52c writes (tools/reference/diffusers-repo-files/
// make_sdxl_repo_files.py: MellonPipelineConfig.from_blocks(StableDiffusionXLAutoBlocks(), default_repo='org/sdxl')),
// and diffusers' tests/modular_pipelines/test_modular_pipelines_custom_blocks.py::
// test_custom_block_mellon_config_preserves_required_inputs.
import { readFileSync } from 'node:fs';
import { InputParam, ModularPipelineBlocks, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { StableDiffusionXLAutoBlocks } from '@modular-diffusers/sdxl';
import { describe, expect, it } from 'vitest';
import { buildMellonPipelineConfig, parseMellonPipelineConfig } from './mellon-pipeline-config.js';

const referenceText = readFileSync(new URL('../../../../tools/reference/diffusers-repo-files/sdxl-mellon/mellon_pipeline_config.json', import.meta.url), 'utf8');

class DummyCustomBlockSimple extends ModularPipelineBlocks {
  override get inputs() {
    return [new InputParam('prompt', { required: true, typeHint: 'str' }), new InputParam('seed', { default: 3 })];
  }
}

describe('mellon_pipeline_config.json as diffusers writes it', () => {
  it('the SDXL auto blocks give the same config as diffusers from_blocks (default_dtype bfloat16)', () => {
    // JSON numbers: diffusers writes 5.0 where JavaScript writes 5; parsed, they are the same value.
    expect(buildMellonPipelineConfig(new StableDiffusionXLAutoBlocks(), { defaultRepo: 'org/sdxl' })).toEqual(JSON.parse(referenceText));
  });

  it('test_custom_block_mellon_config_preserves_required_inputs: a required input is marked " *"', () => {
    const custom = buildMellonPipelineConfig(new DummyCustomBlockSimple()).node_params.custom!;
    expect(custom.params.prompt!.label).toBe('Prompt *');
    expect(custom.params.seed!.label).toBe('Seed');
  });

  it("gives diff-diff's VAE step (named image_encoder) the VAE-encoder node diffusers' name match would miss", () => {
    const steps = new StableDiffusionXLAutoBlocks().blocks.entries().map(([name, block]) => [name === 'vae_encoder' ? 'image_encoder' : name, block] as const);
    const config = buildMellonPipelineConfig(SequentialPipelineBlocks.fromBlocksDict(steps));
    const node = config.node_params.vae_encoder;
    expect(node?.block_name).toBe('image_encoder');
    expect(node?.params.image!.label).toBe('Image *');
    expect(node?.model_input_names).toEqual(['vae']);
    // the other nodes stay on their own steps
    expect(config.node_params.denoise?.block_name).toBe('denoise');
    expect(config.node_params.decoder?.block_name).toBe('decode');
  });
});

describe('reading mellon_pipeline_config.json', () => {
  it("reads diffusers' own file and this project's, the same nodes", () => {
    const theirs = parseMellonPipelineConfig(JSON.parse(referenceText), 'org/sdxl');
    expect(theirs.default_dtype).toBe('bfloat16');
    expect(Object.keys(theirs.node_params)).toEqual(['controlnet', 'denoise', 'vae_encoder', 'text_encoder', 'decoder']);
    const ours = parseMellonPipelineConfig(JSON.parse(JSON.stringify(buildMellonPipelineConfig(new StableDiffusionXLAutoBlocks()))), 'local');
    expect(Object.entries(ours.node_params).map(([k, v]) => [k, v?.block_name ?? null])).toEqual(Object.entries(theirs.node_params).map(([k, v]) => [k, v?.block_name ?? null]));
  });

  it('says what is wrong with a malformed file', () => {
    expect(() => parseMellonPipelineConfig([], 'o/r')).toThrow(/mellon_pipeline_config\.json of o\/r is malformed: it must be a JSON object/);
    expect(() => parseMellonPipelineConfig({ node_params: { x: { params: {}, input_names: ['a'] } } }, 'o/r')).toThrow(/node "x" lists "a" but has no params entry/);
    expect(() => parseMellonPipelineConfig({ label: 3, node_params: {} }, 'o/r')).toThrow(/"label" must be a string/);
  });
});
