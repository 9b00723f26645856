import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerFamily } from '@modular-diffusers/core';
import { installHub } from '@modular-diffusers/hub';
import { sdxl, StableDiffusionXLAutoBlocks } from '@modular-diffusers/sdxl';
import { afterAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildMellonPipelineConfig, MELLON_PIPELINE_CONFIG_FILE } from '../plugin/mellon-pipeline-config.js';

installHub();
registerFamily(sdxl);

afterAll(removeTempDirs);

describe('modular inspect of a saved SDXL pipeline folder (diffusers-format files)', () => {
  it("reads the card's **Inputs:** list and the Mellon config's nodes", async () => {
    const dir = join(await tempDir(), 'saved');
    await new StableDiffusionXLAutoBlocks().savePretrained(dir);
    await writeFile(join(dir, MELLON_PIPELINE_CONFIG_FILE), JSON.stringify(buildMellonPipelineConfig(new StableDiffusionXLAutoBlocks())));
    const result = await modular(['inspect', dir]);
    expect(result.err).toBe('');
    expect(result.out).toContain('Inputs (from the model card):\n  - `prompt` (`None`): No description provided (required unless `prompt_embeds` and `pooled_prompt_embeds` are given)\n');
    expect(result.out).not.toMatch(/Inputs \(from the model card\):[\s\S]*\*\*Outputs:\*\*/);
    expect(result.out).toContain('Mellon: mellon_pipeline_config.json (stable-diffusion-xl, bfloat16): denoise, vae_encoder, text_encoder, decoder');
  });

  it('a malformed Mellon config is an error naming the file', async () => {
    const dir = join(await tempDir(), 'bad');
    await new StableDiffusionXLAutoBlocks().savePretrained(dir, { modelCard: false });
    await writeFile(join(dir, MELLON_PIPELINE_CONFIG_FILE), JSON.stringify({ node_params: [] }));
    const result = await modular(['inspect', dir]);
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/mellon_pipeline_config\.json of .* is malformed: "node_params" must be an object/);
  });
});
