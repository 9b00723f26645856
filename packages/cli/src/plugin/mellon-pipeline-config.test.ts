import { ComponentSpec, InputParam, ModularPipelineBlocks, OutputParam } from '@modular-diffusers/core';
import { describe, expect, it } from 'vitest';
import { buildMellonPipelineConfig, customNodeLabel } from './mellon-pipeline-config.js';
import { nameToLabel } from './mellon-params.js';

class GeminiPromptExpander extends ModularPipelineBlocks {
  override get expectedComponents() {
    return [new ComponentSpec('gemini', 'GeminiClient')];
  }
  override get inputs() {
    return [
      new InputParam('prompt', { default: 'a cat', metadata: { mellon: 'textbox' } }),
      new InputParam('temperature', { default: 0.7, metadata: { mellon: 'slider' } }),
      new InputParam('seed', { metadata: { mellon: 'seed' } }),
      new InputParam('keep_original', { default: true, metadata: { mellon: 'checkbox' } }),
      new InputParam('extra_context'),
    ];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('prompt', { metadata: { mellon: 'text' } }), new OutputParam('old_prompt')];
  }
}

describe('mellon_pipeline_config.json for blocks that match no SDXL node', () => {
  it('is one "custom" node from the inputs, outputs and components, as from_custom_block writes it', () => {
    const config = buildMellonPipelineConfig(new GeminiPromptExpander());
    expect(config).toEqual({
      label: 'Gemini Prompt Expander',
      default_repo: '',
      default_dtype: '',
      node_params: {
        custom: {
          params: {
            prompt: { label: 'Prompt', type: 'string', display: 'textarea', default: 'a cat' },
            // A float default makes a float slider whose range is just the default until edited.
            temperature: { label: 'Temperature', type: 'float', display: 'slider', default: 0.7, min: 0.7, max: 0.7, step: 0.01 },
            seed: { label: 'Seed', type: 'int', display: 'random', default: 0, min: 0, max: 4294967295 },
            keep_original: { label: 'Keep Original', type: 'boolean', value: true },
            extra_context: { label: 'Extra Context', type: 'custom', display: 'input' },
            gemini: { label: 'Gemini', type: 'diffusers_auto_model', display: 'input' },
            // Outputs named like an input are renamed out_<name>.
            out_prompt: { label: 'Prompt', type: 'string', display: 'output' },
            old_prompt: { label: 'Old Prompt', type: 'custom', display: 'output' },
            doc: { label: 'Doc', type: 'string', display: 'output' },
          },
          input_names: ['prompt', 'temperature', 'seed', 'keep_original', 'extra_context'],
          model_input_names: ['gemini'],
          output_names: ['out_prompt', 'old_prompt', 'doc'],
          block_name: 'custom',
          node_type: 'custom',
        },
      },
    });
  });

  it('labels like Python: str.title() over the words, and class names split at capitals', () => {
    expect(nameToLabel('diffdiff_map')).toBe('Diffdiff Map');
    expect(nameToLabel('ip_adapter_2d')).toBe('Ip Adapter 2D');
    expect(customNodeLabel('SDXLDiffDiffBlocks')).toBe('S D X L Diff Diff Blocks');
  });
});
