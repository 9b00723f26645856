import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { ComponentSpec } from './component-spec.js';
import { buildModelIndex, parseModelIndex } from './model-index.js';

describe('parseModelIndex', () => {
  it('reads a modular index: [library, class, spec] entries, configs and meta keys', () => {
    // Shape of diffusers' Flux2 modular index (inventory §1.6), trimmed.
    const info = parseModelIndex({
      _blocks_class_name: 'SequentialPipelineBlocks',
      _class_name: 'Flux2ModularPipeline',
      _diffusers_version: '0.36.0.dev0',
      force_zeros_for_empty_prompt: true,
      transformer: [
        null,
        null,
        { pretrained_model_name_or_path: 'diffusers/FLUX.2-dev-bnb-4bit', revision: null, subfolder: 'transformer', type_hint: ['diffusers', 'Flux2Transformer2DModel'], variant: null },
      ],
      vae: ['diffusers', 'AutoencoderKLFlux2', { repo: 'black-forest-labs/FLUX.2-dev', subfolder: 'vae' }],
      text_encoder: [null, null, { revision: null, subfolder: 'text_encoder', type_hint: ['transformers', 'Mistral3ForConditionalGeneration'], variant: null }],
    });
    expect(info.className).toBe('Flux2ModularPipeline');
    expect(info.blocksClassName).toBe('SequentialPipelineBlocks');
    expect(info.diffusersVersion).toBe('0.36.0.dev0');
    expect(info.configs).toEqual({ force_zeros_for_empty_prompt: true });
    const byName = Object.fromEntries(info.components.map((s) => [s.name, s]));
    expect(byName.transformer!.loadId).toBe('diffusers/FLUX.2-dev-bnb-4bit|transformer|null|null');
    expect(byName.transformer!.typeName).toBe('Flux2Transformer2DModel');
    expect(byName.transformer!.library).toBe('diffusers');
    expect(byName.vae!.pretrainedModelNameOrPath).toBe('black-forest-labs/FLUX.2-dev'); // legacy `repo` key
    expect(byName.vae!.typeName).toBe('AutoencoderKLFlux2');
    expect(byName.text_encoder!.pretrainedModelNameOrPath).toBeNull();
    expect(byName.text_encoder!.library).toBe('transformers');
  });

  it('reads a standard model_index.json: [library, class] lives in <repo>/<name>', () => {
    const info = parseModelIndex(
      { _class_name: 'StableDiffusionXLPipeline', unet: ['diffusers', 'UNet2DConditionModel'], image_encoder: [null, null], force_zeros_for_empty_prompt: true },
      { repo: 'stabilityai/stable-diffusion-xl-base-1.0' },
    );
    expect(info.components.map((s) => s.loadId)).toEqual(['stabilityai/stable-diffusion-xl-base-1.0|unet|null|null']);
    expect(info.configs.force_zeros_for_empty_prompt).toBe(true);
    expect(() => parseModelIndex([] as never)).toThrow(InvalidArgumentError);
  });

  it('builds a sorted index with entries for from-pretrained components only, and parses back', () => {
    class ToyUnet {}
    const specs = [
      new ComponentSpec({ name: 'unet', type: 'UNet2DConditionModel', library: 'diffusers', repo: 'org/sdxl', subfolder: 'unet' }),
      new ComponentSpec('guider', 'ClassifierFreeGuidance', { defaultCreationMethod: 'fromConfig' }),
    ];
    const index = buildModelIndex({ className: 'ModularPipeline', blocksClassName: 'SequentialPipelineBlocks', specs, configs: { a: 1 }, loaded: { unet: new ToyUnet() } });
    expect(Object.keys(index)).toEqual(['_blocks_class_name', '_class_name', '_diffusers_version', 'a', 'unet']);
    expect(index.unet).toEqual([
      'diffusers',
      'ToyUnet',
      { pretrained_model_name_or_path: 'org/sdxl', revision: null, subfolder: 'unet', type_hint: ['diffusers', 'UNet2DConditionModel'], variant: null },
    ]);
    expect(parseModelIndex(index).components[0]!.loadId).toBe('org/sdxl|unet|null|null');
  });
});
