import { join } from 'node:path';
import { generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildPlugin } from './build.js';
import { createPlugin } from './create.js';

let tiny: string;
let pluginRepo: string;
let sha256: string;

beforeAll(async () => {
  process.env.MODULAR_SANDBOX_CACHE ??= join(await tempDir('modular-sandbox-cache-'), 'libs');
  tiny = join(await tempDir(), 'tiny-sdxl');
  await generateTinySdxlRepo(tiny, {});
  const built = await buildPlugin((await createPlugin('shiny', { dir: await tempDir() })).dir, { componentsRepo: tiny });
  pluginRepo = built.outDir;
  sha256 = built.bundleSha256;
});
afterAll(removeTempDirs);

describe('modular inspect', () => {
  it('shows what a repo with code declares, runs none of it, and says how to trust it', async () => {
    const result = await modular(['inspect', pluginRepo]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Code: shiny.js, export ShinyBlocks, sha256 ${sha256}`);
    expect(result.out).toContain('Plugin: @modular-diffusers/plugin-shiny@0.1.0');
    expect(result.out).toMatch(/unet\s+UNet2DConditionModel\s+.*tiny-sdxl\/unet/);
    expect(result.out).toMatch(/Inputs \(from the model card\):[\s\S]*`prompt`/);
    // The template's style step requires the prompt; the card lists it so (SDXL's own blocks: readme-by-hand e2e).
    expect(result.out).toMatch(/- `prompt` \(`[^`]*`\): /);
    expect(result.out).toContain('Nothing from this repo was run');
    expect(result.out).toContain(`modular inspect ${pluginRepo} --trust-remote-code`);
    // The structure printout only comes from running the blocks.
    expect(result.out).not.toContain('ShinyPromptStyleStep');
  });

  it('prints the structure and doc of trusted code, computed in the sandbox', async () => {
    const result = await modular(['inspect', pluginRepo, '--trust-remote-code']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/ShinyBlocks\(\n\s+Class: SequentialPipelineBlocks/);
    expect(result.out).toMatch(/\[0\] style \(ShinyPromptStyleStep\)/);
    expect(result.out).toMatch(/Inputs:[\s\S]*style \(`str`, \*optional\*/);
  });

  it('prints a repo without code in full: its blocks are installed classes', async () => {
    const result = await modular(['inspect', tiny]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Pipeline class: StableDiffusionXLPipeline \(model_index\.json\)/);
    expect(result.out).toMatch(/StableDiffusionXLAutoBlocks\(/);
    expect(result.out).not.toContain('Nothing from this repo was run');
  });

  it('fails with exit code 1 and the Hub error for a repo that does not exist', async () => {
    const result = await modular(['inspect', join(tiny, 'missing')], { env: { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: tiny, HF_HOME: await tempDir('modular-hf-home-') } });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/modular: /);
  });
});
