/**
 * What a plugin author does, end to end: `modular create` -> edit nothing -> typecheck -> `modular build`
 * -> `modular publish` to the local Hub server (the plugin's own tests run first) -> load the published
 * repo with `ModularPipeline.fromPretrained(repo, { trustRemoteCode: true })` in a FRESH process -> run on
 * the tiny SDXL repo -> a PNG. Then the same for plugins/diffdiff, run with `modular run` and its change map.
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles } from '@huggingface/hub';
import { ComponentsManager, ModularPipeline } from '@modular-diffusers/core';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { Generator, generateTinySdxlRepo, loadImage } from '@modular-diffusers/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionXLModularPipeline } from '@modular-diffusers/sdxl';
import { SDXLDiffDiffBlocks } from '../../plugins/diffdiff/src/index.js';
import { binary, drawApple, drawHalfMap, meanDifference, modular, node, REPO_ROOT, tsxArgs, workDir } from './e2e-kit.js';

const COMPONENTS_REPO = 'modular-diffusers/tiny-sdxl';
let work: string;
let tiny: string;
let hub: HubServer;
let env: Record<string, string>;

beforeAll(async () => {
  work = await workDir();
  tiny = join(work, 'tiny-sdxl');
  // unetPriorStd: the tiny UNet keeps nearly clean latents, so a diff-diff result shows the kept region.
  await generateTinySdxlRepo(tiny, { unetPriorStd: 0.5 });
  hub = await startHubServer({ root: join(work, 'hub'), tokens: { hf_e2e_author: 'alice' } });
  await hub.importFolder(COMPONENTS_REPO, tiny);
  env = {
    HF_ENDPOINT: hub.url,
    HF_TOKEN: 'hf_e2e_author',
    HF_HUB_CACHE: join(work, 'hf-cache'),
    // The remote-code lock and listings live in $HF_HOME/modular-diffusers: kept inside the test's folder.
    HF_HOME: join(work, 'hf-home'),
    MODULAR_SANDBOX_CACHE: join(work, 'sandbox-libraries'),
  };
});

afterAll(async () => {
  await hub?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function hubFiles(repo: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const f of listFiles({ repo, hubUrl: hub.url, accessToken: 'hf_e2e_author' })) if (f.type === 'file') paths.push(f.path);
  return paths.sort();
}

describe('a new plugin author', () => {
  it('creates, builds, publishes and loads a plugin in a fresh process, which writes a PNG', async () => {
    const created = await modular(['create', 'my-style', '--dir', 'plugins'], env, work);
    expect(created.code).toBe(0);
    const plugin = join(work, 'plugins', 'my-style');

    // Right after scaffolding it typechecks (its test runs below, inside publish).
    const tsc = await node([binary('typescript', 'bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: plugin, env });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);

    const built = await modular(['build'], env, plugin);
    expect(built.err).toBe('');
    expect(built.code).toBe(0);
    expect(built.out).toMatch(/models\s+text_encoder, text_encoder_2, tokenizer, tokenizer_2, scheduler, vae, unet/);

    const published = await modular(['publish', '--repo', 'alice/my-style'], env, plugin);
    expect(published.err).toMatch(/Running the plugin tests[\s\S]*Tests passed\./);
    expect(published.code).toBe(0);
    expect(published.out).toMatch(/commit\s+[0-9a-f]{40}/);
    expect(await hubFiles('alice/my-style')).toEqual([
      '.gitattributes',
      'README.md',
      'mellon_pipeline_config.json',
      'modular_config.json',
      'modular_model_index.json',
      'my-style.js',
    ]);

    const out = join(work, 'my-style.png');
    const run = await node(tsxArgs(join(REPO_ROOT, 'tests', 'src', 'fixtures', 'load-and-run.ts'), 'alice/my-style', out), { cwd: join(REPO_ROOT, 'tests'), env });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary).toEqual({ pipelineClass: 'StableDiffusionXLModularPipeline', blocksClass: 'MyStyleBlocks', steps: [1, 2, 3, 4], width: 64, height: 64 });
    const image = await loadImage(out);
    expect([image.width, image.height, image.channels]).toEqual([64, 64, 3]);
  });

  it('builds and publishes plugins/diffdiff; `modular run` with its change map in a fresh process matches the plugin blocks run locally', async () => {
    // A copy, so the build output never lands in the plugin's own folder.
    const plugin = join(work, 'plugins', 'diffdiff');
    await cp(join(REPO_ROOT, 'plugins', 'diffdiff', 'src'), join(plugin, 'src'), { recursive: true });
    await cp(join(REPO_ROOT, 'plugins', 'diffdiff', 'package.json'), join(plugin, 'package.json'));

    const built = await modular(['build', '--components-repo', COMPONENTS_REPO], env, plugin);
    expect(built.err).toBe('');
    expect(built.code).toBe(0);
    expect(built.out).toMatch(/auto_map -> SDXLDiffDiffBlocks/);
    // Its own suite runs in its package (npm test); here the publish flow itself is under test.
    const published = await modular(['publish', '--repo', 'alice/diffdiff', '--skip-tests'], env, plugin);
    expect(published.code).toBe(0);

    const size = 64;
    const apple = drawApple(size);
    await apple.save(join(work, 'apple.png'));
    await drawHalfMap(size).save(join(work, 'change-map.png'));
    const out = join(work, 'diffdiff.png');
    const cli = join(REPO_ROOT, 'tests', 'src', 'fixtures', 'modular.ts');
    const run = await node(
      tsxArgs(cli, 'run', 'alice/diffdiff', '--trust-remote-code', '--prompt', 'a green pear', '--negative-prompt', 'blurry', '--image', 'apple.png', '--set', 'diffdiff_map=change-map.png', '--steps', '25', '--seed', '7', '--out', 'diffdiff.png'),
      { cwd: work, env },
    );
    expect(run.stderr).toMatch(/step 25\/25/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Wrote .*diffdiff\.png/);
    const image = await loadImage(out);
    expect([image.width, image.height]).toEqual([size, size]);
    // The sandboxed bundle computes what the plugin's own blocks compute in this process (same seed).
    const local = new SDXLDiffDiffBlocks().initPipeline(tiny, { pipelineClass: StableDiffusionXLModularPipeline });
    await local.loadComponents(['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae', 'scheduler']);
    const [expected] = await local.run({
      prompt: 'a green pear',
      negative_prompt: 'blurry',
      image: await loadImage(join(work, 'apple.png')),
      diffdiff_map: await loadImage(join(work, 'change-map.png')),
      num_inference_steps: 25,
      generator: new Generator(7),
      output: 'images',
    });
    expect(meanDifference(image, expected, 0, size)).toBeLessThanOrEqual(1);
    // The change map holds the right half (white) to the end, so the apple stays there; the left
    // half (black) is denoised from the first step and repainted. Columns near the edge are blurred
    // by the map's resize to latent size, so they are left out. The tiny VAE keeps 8x8 block means
    // only, so even the kept half differs from the drawing at the apple's outline.
    const repainted = meanDifference(image, apple, 0, size / 2 - 8);
    const kept = meanDifference(image, apple, size / 2 + 8, size);
    expect(kept).toBeLessThan(20);
    expect(repainted).toBeGreaterThan(3 * kept);
  });

  it("runs the guide's 'Creating a Modular Repo' snippet as written, in TypeScript casing, on the published diffdiff repo", async () => {
    // After the test above published alice/diffdiff. The guide's Python, line for line:
    //   components = ComponentsManager()
    //   diffdiff_pipeline = ModularPipeline.from_pretrained(repo_id, trust_remote_code=True, component_manager=components, collection="diffdiff")
    //   diffdiff_pipeline.loader.load(torch_dtype=torch.float16)
    //   components.enable_auto_cpu_offload()
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const components = new ComponentsManager();
      const diffdiffPipeline = await ModularPipeline.fromPretrained('alice/diffdiff', { trustRemoteCode: true, componentManager: components, collection: 'diffdiff' });
      await diffdiffPipeline.loader.load({ dtype: 'float16' });
      await components.enableAutoCpuOffload();
      expect(components.autoOffload).not.toBeNull();
      const [image] = (await diffdiffPipeline({
        prompt: 'a green pear',
        negative_prompt: 'blurry',
        num_inference_steps: 4,
        image: drawApple(64),
        diffdiff_map: drawHalfMap(64),
        generator: new Generator(42),
        output: 'images',
      })) as { width: number; save(path: string): Promise<void> }[];
      expect(image!.width).toBe(64);
      await image!.save(join(work, 'guide-snippet.png'));
      await (diffdiffPipeline as { dispose?: () => Promise<void> }).dispose?.();
    } finally {
      process.env = saved;
    }
  });
});
