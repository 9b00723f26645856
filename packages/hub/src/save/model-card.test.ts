import { InputParam, ModularPipelineBlocks, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { StableDiffusionXLControlNetAutoInput, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/core/testing';
import { describe, expect, it } from 'vitest';
import { modelCardContent, renderModelCard } from './model-card.js';

// The content diffusers' generate_modular_model_card_content gives, checked on core's toy SDXL blocks.

class EmptyBlocks extends ModularPipelineBlocks {}

describe('model card', () => {
  it('describes sequential blocks: name, N-block architecture, numbered blocks and components, model tag', () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS);
    const content = modelCardContent(blocks);
    // diffusers' rule, literally: "Blocks" becomes " Pipeline".
    expect(content.pipelineName).toBe('SequentialPipeline Pipeline');
    expect(content.modelDescription).toContain(`${blocks.blocks.length}-block architecture`);
    expect(content.blocksDescription.split('\n')[0]).toBe('1. `text_encoder` (`StableDiffusionXLTextEncoderStep`): Text Encoder step that generate text_embeddings to guide the image generation');
    expect(content.componentsDescription).toMatch(/^1\. `text_encoder` \(`CLIPTextModel`\)/);
    expect(content.tags).toEqual(['modular-diffusers', 'diffusers', 'stable-diffusion-xl', 'text-to-image']);
    // diffusers' format_params_markdown: one **Inputs:** list, optional ones marked `, *optional*`.
    expect(content.ioSpecificationSection).toMatch(/^## Input\/Output Specification\n\n\*\*Inputs:\*\*\n\n- `prompt` \(`None`, \*optional\*\): No description provided\n/);
    expect(content.ioSpecificationSection).toContain('- `num_inference_steps` (`None`, *optional*, defaults to `50`): No description provided');
    expect(content.ioSpecificationSection).toContain('**Outputs:**\n\n- `');
    expect(content.ioSpecificationSection).toContain('\n- `images` (`');
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
    const content = modelCardContent(new StableDiffusionXLControlNetAutoInput());
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
