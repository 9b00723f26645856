import { AutoPipelineBlocks, ComponentSpec, InputParam, ModularPipelineBlocks, OutputParam, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { describe, expect, it } from 'vitest';
import { modelCardContent, renderModelCard } from './model-card.js';

// The content diffusers' generate_modular_model_card_content gives, checked on small generic blocks:
// the card reads only what blocks declare, so no model family is needed.

class EmptyBlocks extends ModularPipelineBlocks {}

class EncodePromptStep extends ModularPipelineBlocks {
  static override modelName = 'toy-family';
  override get description() {
    return 'Encodes the prompt into numbers\nthat guide the steps after it';
  }
  override get expectedComponents() {
    return [new ComponentSpec('text_encoder', 'ToyTextEncoder'), new ComponentSpec('tokenizer', 'ToyTokenizer')];
  }
  override get inputs() {
    return [new InputParam('prompt')];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('prompt_embeds')];
  }
}

class RenderStep extends ModularPipelineBlocks {
  override get description() {
    return 'Renders images from the prompt embeddings';
  }
  override get inputs() {
    return [new InputParam('num_inference_steps', { default: 50 }), new InputParam('prompt_embeds', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('images', { typeHint: 'list' })];
  }
}

class ControlImageStep extends ModularPipelineBlocks {
  override get inputs() {
    return [new InputParam('control_image', { required: true })];
  }
}

class ControlModeStep extends ModularPipelineBlocks {
  override get inputs() {
    return [new InputParam('control_image', { required: true }), new InputParam('control_mode', { required: true })];
  }
}

/** Runs a branch when control_mode (first) or control_image is given, else nothing. */
class AutoControlInput extends AutoPipelineBlocks {
  static override blockClasses = [ControlModeStep, ControlImageStep];
  static override blockNames = ['control_mode', 'control_image'];
  static override blockTriggerInputs = ['control_mode', 'control_image'];
}

describe('model card', () => {
  it('describes sequential blocks: name, N-block architecture, numbered blocks and components, model tag', () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict({ encode_prompt: EncodePromptStep, render: RenderStep });
    const content = modelCardContent(blocks);
    // diffusers' rule, literally: "Blocks" becomes " Pipeline".
    expect(content.pipelineName).toBe('SequentialPipeline Pipeline');
    expect(content.modelDescription).toContain(`${blocks.blocks.length}-block architecture`);
    // Each block's first description line only.
    expect(content.blocksDescription).toBe(
      '1. `encode_prompt` (`EncodePromptStep`): Encodes the prompt into numbers\n2. `render` (`RenderStep`): Renders images from the prompt embeddings',
    );
    expect(content.componentsDescription).toBe('1. `text_encoder` (`ToyTextEncoder`)\n2. `tokenizer` (`ToyTokenizer`)');
    // The model tag is the first block's modelName, which the sequence takes on.
    expect(content.tags).toEqual(['modular-diffusers', 'diffusers', 'toy-family', 'text-to-image']);
    // diffusers' format_params_markdown: one **Inputs:** list, optional ones marked `, *optional*`.
    expect(content.ioSpecificationSection).toMatch(/^## Input\/Output Specification\n\n\*\*Inputs:\*\*\n\n- `prompt` \(`None`, \*optional\*\): No description provided\n/);
    expect(content.ioSpecificationSection).toContain('- `num_inference_steps` (`None`, *optional*, defaults to `50`): No description provided');
    expect(content.ioSpecificationSection).toContain('**Outputs:**\n\n- `');
    expect(content.ioSpecificationSection).toContain('\n- `images` (`list`): No description provided');
    // An input an earlier block produces is not the pipeline's to give: it is listed among the outputs only.
    const [inputsPart, outputsPart] = content.ioSpecificationSection.split('**Outputs:**');
    expect(inputsPart).not.toContain('prompt_embeds');
    expect(outputsPart).toContain('- `prompt_embeds` (`None`): No description provided');
    expect(content.triggerInputsSection).toBe('');
  });

  it('lists an input the blocks need unless others stand in (metadata.requiredUnless) as not optional, saying what stands in', () => {
    class NeedsPrompt extends ModularPipelineBlocks {
      override get inputs() {
        return [new InputParam('prompt', { metadata: { requiredUnless: ['prompt_embeds', 'pooled_prompt_embeds'] } }), new InputParam('eta', { default: 0 })];
      }
    }
    const content = modelCardContent(new NeedsPrompt());
    expect(content.ioSpecificationSection).toContain(
      '**Inputs:**\n\n- `prompt` (`None`): No description provided (required unless `prompt_embeds` and `pooled_prompt_embeds` are given)\n- `eta` (`None`, *optional*, defaults to `0`): No description provided',
    );
  });

  it('derives task tags and the conditional-execution section from trigger inputs', () => {
    const content = modelCardContent(new AutoControlInput());
    expect(content.triggerInputsSection).toContain('### Conditional Execution');
    expect(content.triggerInputsSection).toContain('- **Trigger Inputs**: `control_image`, `control_mode`');
    expect(content.tags).toContain('controlnet');
    // diffusers' rule: text-to-image unless an image or mask input is among the triggers.
    expect(content.tags).toContain('text-to-image');
  });

  it('says so when there are no components, configs, inputs or outputs', () => {
    const content = modelCardContent(new EmptyBlocks());
    expect(content.pipelineName).toBe('Empty Pipeline');
    expect(content.componentsDescription).toContain('No specific components required');
    expect(content.configsSection).toBe('');
    expect(content.ioSpecificationSection).toContain('No specific inputs defined.');
    expect(content.ioSpecificationSection).toContain('Standard pipeline outputs.');
    expect(content.modelDescription).toContain('1-block architecture');
    const card = renderModelCard(new EmptyBlocks(), { repoId: 'me/empty' });
    // No code: a repo diffusers can load, listed as diffusers (as a diffusers push writes); a JS bundle is not.
    expect(card.startsWith('---\nlibrary_name: diffusers\n')).toBe(true);
    expect(renderModelCard(new EmptyBlocks(), { hasCode: true }).startsWith('---\nlibrary_name: modular-diffusers\n')).toBe(true);
    expect(card).toContain("ModularPipeline.fromPretrained('me/empty')");
  });
});
