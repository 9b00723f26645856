/**
 * A ControlNet published on its own, as diffusers/controlnet-canny-sdxl-1.0 is (config.json +
 * diffusion_pytorch_model.safetensors at the repo root, no ONNX), served by the local Hub next to
 * an SDXL repo in stabilityai's layout (an ONNX UNet export without residual inputs beside the
 * diffusers weights), both downloaded by the real @huggingface/hub client:
 * `loadComponents('controlnet', { repo })` reads the ControlNet from the root and builds it, the
 * UNet is rebuilt from its cached weights with residual inputs, and text2img at
 * controlnet_conditioning_scale 0.5 ends on the latents diffusers' StableDiffusionXLControlNetPipeline
 * computed (packages/sdxl/fixtures/adapters/controlnet), within 1e-4 of their magnitude.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { HubRepoResolver } from '@modular-diffusers/hub';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { readSafetensorsHeader } from '@modular-diffusers/model-builder';
import { Tensor } from '@modular-diffusers/runtime';
import { AUTO_BLOCKS } from '@modular-diffusers/sdxl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, workDir } from './e2e-kit.js';

const FIXTURES = join(REPO_ROOT, 'packages', 'sdxl', 'fixtures');
const REFERENCES = join(FIXTURES, 'adapters', 'controlnet', 'references', 'references.safetensors');
const SDXL = 'someone/tiny-sdxl';
const CONTROLNET = 'someone/controlnet-tiny-sdxl';
let work: string;
let hub: HubServer;
const previousHfHome = process.env.HF_HOME;

beforeAll(async () => {
  work = await workDir();
  hub = await startHubServer({ root: join(work, 'hub') });
  await hub.importFolder(SDXL, join(FIXTURES, 'real-arch', 'repo'));
  await hub.importFolder(CONTROLNET, join(FIXTURES, 'adapters', 'controlnet', 'controlnet-tiny-sdxl'));
  process.env.HF_HOME = join(work, 'hf-home');
});

afterAll(async () => {
  await hub?.close();
  if (previousHfHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = previousHfHome;
  if (work) await rm(work, { recursive: true, force: true });
});

async function reference(name: string): Promise<Tensor<'float32'>> {
  const info = (await readSafetensorsHeader(REFERENCES)).tensors.get(name)!;
  const bytes = await readFile(REFERENCES);
  return new Tensor('float32', new Float32Array(new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer), info.shape);
}

describe('a ControlNet repo from the Hub next to an SDXL repo', () => {
  it("loads with loadComponents('controlnet', { repo }), builds, and matches diffusers at scale 0.5", async () => {
    const lines: string[] = [];
    const resolver = new HubRepoResolver({ hubUrl: hub.url, cacheDir: join(work, 'hf-home', 'hub') });
    const pipe = (SequentialPipelineBlocks.fromBlocksDict(AUTO_BLOCKS) as any).initPipeline(SDXL, {
      repoResolver: resolver,
      logger: { debug() {}, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) },
    });
    await pipe.loadComponents();
    await pipe.loadComponents('controlnet', { repo: CONTROLNET });
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
    expect(lines.some((l) => l.startsWith('controlnet: no ONNX export, built an ONNX graph') && l.includes('models--someone--controlnet-tiny-sdxl'))).toBe(true);

    const control = (await readSafetensorsHeader(REFERENCES)).tensors.get('text2img.control_image_uint8')!;
    const bytes = await readFile(REFERENCES);
    const latents = (await pipe({
      prompt_embeds: await reference('text2img.prompt_embeds'),
      negative_prompt_embeds: await reference('text2img.negative_prompt_embeds'),
      pooled_prompt_embeds: await reference('text2img.pooled_prompt_embeds'),
      negative_pooled_prompt_embeds: await reference('text2img.negative_pooled_prompt_embeds'),
      height: 64,
      width: 96,
      num_inference_steps: 4,
      latents: await reference('text2img.latents'),
      control_image: { height: control.shape[0]!, width: control.shape[1]!, channels: 3, data: new Uint8Array(bytes.subarray(control.fileOffset, control.fileOffset + control.byteLength)) },
      controlnet_conditioning_scale: 0.5,
      output: 'latents',
    })) as Tensor<'float32'>;
    expect(lines.some((l) => l.startsWith('unet: rebuilt with ControlNet residual inputs'))).toBe(true);
    const expected = await reference('text2img.final_latents');
    let diff = 0;
    let magnitude = 0;
    for (let i = 0; i < expected.size; i++) {
      diff = Math.max(diff, Math.abs(latents.data[i]! - expected.data[i]!));
      magnitude = Math.max(magnitude, Math.abs(expected.data[i]!));
    }
    expect(diff / magnitude).toBeLessThan(1e-4);
    for (const component of Object.values(pipe.components)) await (component as { release?: () => Promise<void> })?.release?.();
  });
});
