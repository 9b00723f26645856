import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxModel, generateTinySdxlRepo, loadImage, probeProvider, saveImage } from '@modular-diffusers/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildPlugin } from './build.js';
import { createPlugin } from './create.js';
import { InputParam, ModularPipeline } from '@modular-diffusers/core';
import { parseSetValue } from './run-inputs.js';
import { typePipelineInputs } from './run-set-values.js';

let repo: string;
let out: string;

beforeAll(async () => {
  process.env.MODULAR_SANDBOX_CACHE ??= join(await tempDir('modular-sandbox-cache-'), 'libs');
  const tiny = join(await tempDir(), 'tiny-sdxl');
  await generateTinySdxlRepo(tiny, {});
  const plugin = (await createPlugin('shiny', { dir: await tempDir() })).dir;
  // The built plugin folder is itself a loadable repo; its models come from the local tiny SDXL folder.
  repo = (await buildPlugin(plugin, { componentsRepo: tiny })).outDir;
  out = await tempDir();
});
afterAll(removeTempDirs);

// The built plugin's index names the tiny SDXL folder on this machine, so the run allows local components.
const runArgs = (file: string, ...extra: string[]) => [
  'run', repo, '--trust-remote-code', '--allow-local-components', '--prompt', 'a green pear', '--out', file, '--steps', '4', '--seed', '7', '--set', 'height=64', '--set', 'width=64', ...extra,
];

describe('modular run', () => {
  it('loads the repo, runs it with step progress and writes the image', async () => {
    const file = join(out, 'pear.png');
    const result = await modular(runArgs(file));
    expect(result.err).toMatch(/StableDiffusionXLDenoiseLoop: step 4\/4/);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Wrote .*pear\.png \(StableDiffusionXLModularPipeline/);
    const image = await loadImage(file);
    expect([image.width, image.height]).toEqual([64, 64]);
  });

  it('cancels on Ctrl-C: exit code 130 and no image written', async () => {
    const file = join(out, 'cancelled.png');
    let interrupt: (() => void) | null = null;
    const result = await modular(runArgs(file), {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => (interrupt = null);
      },
      // Press Ctrl-C as soon as the first denoise step is reported.
      err: (text) => {
        if (/step 1\//.test(text)) interrupt?.();
      },
    });
    expect(result.code).toBe(130);
    expect(existsSync(file)).toBe(false);
    expect(interrupt).toBeNull();
  });

  it('refuses code it was not told to trust, naming the flag', async () => {
    const result = await modular(['run', repo, '--prompt', 'x', '--out', join(out, 'x.png')]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/add --trust-remote-code/);
  });

  it("refuses an index naming local folders unless --allow-local-components is given", async () => {
    const result = await modular(['run', repo, '--trust-remote-code', '--prompt', 'x', '--out', join(out, 'local.png'), '--steps', '1']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/names ".*tiny-sdxl", an absolute path on this machine/);
    expect(result.err).toMatch(/--allow-local-components/);
    expect(existsSync(join(out, 'local.png'))).toBe(false);
  });

  it.each([
    [['--out', 'x.png'], /required option '--prompt <text>'/],
    [['--prompt', 'x', '--out', 'x.png', '--update-trust'], /--update-trust accepts changed code of a repo you trust: give --trust-remote-code with it/],
    [['--prompt', 'x', '--out', 'x.gif'], /end the file name with \.png, \.jpg or \.webp/],
    [['--prompt', 'x', '--out', 'x.png', '--steps', '0'], /--steps must be a whole number above 0/],
    [['--prompt', 'x', '--out', 'x.png', '--device', 'tpu'], /the device must be one of auto, cpu, cuda, webgpu/],
    [['--prompt', 'x', '--out', 'x.png', '--seed', '-1'], /the seed must be a whole number/],
    [['--prompt', 'x', '--out', 'x.png', '--set', 'novalue'], /expected key=value/],
    [['--prompt', 'x', '--out', 'x.png', '--memory-budget', 'lots'], /Cannot read the memory budget 'lots'/],
  ])('answers bad usage %j with exit code 2 and what to do', async (args, message) => {
    const result = await modular(['run', repo, ...args], { cwd: out });
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });

  it('collects --set values as written, refusing a repeated or malformed name', () => {
    let set = parseSetValue('strength=0.5');
    set = parseSetValue('guider.guidance_scale=7.5', set);
    set = parseSetValue('style=oil on canvas', set);
    set = parseSetValue('empty=', set);
    expect(set).toEqual({ strength: '0.5', 'guider.guidance_scale': '7.5', style: 'oil on canvas', empty: '' });
    expect(() => parseSetValue('strength=1', set)).toThrow('--set strength is given twice');
    expect(() => parseSetValue('unet.x=1')).toThrow("'unet.x' is not an input name");
  });

  it('types --set values from the declarations: whole numbers, numbers, booleans, strings stay strings', () => {
    const params = [
      new InputParam('num_inference_steps', { default: 50 }),
      new InputParam('eta', { default: 0.0 }),
      new InputParam('prompt'),
      new InputParam('output_type', { default: 'pil' }),
      new InputParam('clip_skip'),
      new InputParam('flag', { typeHint: 'bool' }),
      new InputParam('latents', { typeHint: 'Tensor' }),
      new InputParam('sizes'),
    ];
    const type = (entries: Record<string, string>) =>
      typePipelineInputs(new Map(Object.entries(entries).map(([k, raw]) => [k, { raw, from: 'set' as const }])), params);
    expect(type({ num_inference_steps: '4', eta: '0.5', output_type: '123', flag: 'true', sizes: '[1,2]', prompt: 'a pear' })).toEqual({
      num_inference_steps: 4,
      eta: 0.5,
      output_type: '123',
      flag: true,
      sizes: [1, 2],
      prompt: 'a pear',
    });
    expect(() => type({ num_inference_steps: '4.5' })).toThrow("--set num_inference_steps=4.5: 'num_inference_steps' takes a whole number, got '4.5'.");
    expect(() => type({ eta: 'abc' })).toThrow("'eta' takes a number, got 'abc'.");
    expect(() => type({ flag: 'yes' })).toThrow("'flag' takes true or false, got 'yes'.");
    expect(() => type({ latents: '[1]' })).toThrow("'latents' takes a Tensor, which cannot be given on the command line");
    expect(() => type({ guidance_scale: '7.5', strength: '2', num_inference_step: '3' })).toThrow(
      "--set guidance_scale: the guidance scale is a setting of the guider, not a pipeline input; use --set guider.guidance_scale=7.5 (or --guidance-scale 7.5).\n" +
        "--set strength: this pipeline has no input 'strength'.\n" +
        "--set num_inference_step: this pipeline has no input 'num_inference_step' (did you mean 'num_inference_steps'?).\n" +
        'The inputs of this pipeline: num_inference_steps, eta, prompt, output_type, clip_skip, flag, latents, sizes.',
    );
  });
});

describe('modular run: bad input is refused before any model runs (issue 15)', () => {
  afterEach(() => vi.restoreAllMocks());

  const expectRefused = async (extra: string[], message: RegExp | string, { beforeLoad = false } = {}) => {
    const run = vi.spyOn(OnnxModel.prototype, 'run').mockClear();
    const load = vi.spyOn(ModularPipeline, 'fromPretrained').mockClear();
    const file = join(out, `refused-${Math.random().toString(36).slice(2)}.png`);
    // The extra flags replace the default 64x64 size when they give one.
    const sized = extra.some((a) => /^(height|width)=/.test(a));
    const args = runArgs(file, ...extra).filter((a, i, all) => !(sized && (/^(height|width)=64$/.test(a) || (a === '--set' && /^(height|width)=64$/.test(all[i + 1] ?? '')))));
    const result = await modular(args, { cwd: out });
    expect(result.code).toBe(2);
    if (typeof message === 'string') expect(result.err).toContain(message);
    else expect(result.err).toMatch(message);
    expect(run).not.toHaveBeenCalled();
    if (beforeLoad) expect(load).not.toHaveBeenCalled();
    expect(existsSync(file)).toBe(false);
    return result;
  };

  it("--set guidance_scale (the old usage example) names the guider flags instead of ignoring it", async () => {
    await expectRefused(['--set', 'guidance_scale=7.5'], 'use --set guider.guidance_scale=7.5 (or --guidance-scale 7.5)');
  });

  it('--set of an input the pipeline does not have exits non-zero with the nearest name', async () => {
    await expectRefused(['--set', 'strength=2'], "--set strength: this pipeline has no input 'strength'.");
    await expectRefused(['--set', 'num_images_per_promt=2'], "(did you mean 'num_images_per_prompt'?)");
  });

  it('an image file that does not exist is found before the repo is even opened', async () => {
    await expectRefused(['--image', 'apple.png'], /--image apple\.png: there is no file at .*apple\.png; give the path of a PNG, JPEG or WebP image/, { beforeLoad: true });
    await expectRefused(['--set', 'diffdiff_map=gradient_mask.png'], /--set diffdiff_map gradient_mask\.png: there is no file at/, { beforeLoad: true });
    await writeFile(join(out, 'not-an-image.png'), 'hello');
    await expectRefused(['--image', 'not-an-image.png'], /could not be read as an image/, { beforeLoad: true });
  });

  it('an image the pipeline does not take is refused, not ignored', async () => {
    await saveImage({ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3).fill(200) }, join(out, 'apple.png'));
    await expectRefused(['--image', 'apple.png'], "--image: this pipeline has no input 'image'.");
  });

  it('a run too large for memory is refused with the override, before any model is downloaded or run', async () => {
    await expectRefused(['--set', 'height=100000', '--set', 'width=100000'], /This run needs about [\d.]+ TiB of memory .* --max-memory \d+GB/);
    await expectRefused(['--max-memory', '1000'], /over the 1000 B limit/);
    await expectRefused(['--max-memory', 'lots'], "--max-memory lots: Cannot read the size 'lots'", { beforeLoad: true });
  });

  it('bad guider settings and values of the wrong type', async () => {
    await expectRefused(['--guidance-scale', 'abc'], "the guidance scale must be a number (e.g. 7.5), got 'abc'", { beforeLoad: true });
    await expectRefused(['--set', 'guider.guidance_scale=NaN'], '`guidance_scale` is NaN: must be a number');
    await expectRefused(['--set', 'guider.guidance_scael=3'], 'guidance_scael');
    await expectRefused(['--set', 'num_images_per_prompt=two'], "'num_images_per_prompt' takes a whole number, got 'two'.");
  });

  it.runIf(!probeProvider('cuda').available)('--device cuda without the CUDA provider says so once, with the remedy, before anything loads', async () => {
    const result = await expectRefused(['--device', 'cuda'], /--device cuda: the cuda provider is unavailable: .*\nTo use CUDA:/, { beforeLoad: true });
    expect(result.err.match(/To use CUDA/g)).toHaveLength(1);
  });

  it('--guidance-scale reaches the guider: guidance off (1) gives another image than the default', async () => {
    const plain = join(out, 'pear.png');
    if (!existsSync(plain)) expect((await modular(runArgs(plain))).code).toBe(0);
    const off = join(out, 'pear-no-guidance.png');
    const result = await modular(runArgs(off, '--guidance-scale', '1'));
    expect(result.code).toBe(0);
    expect(Buffer.compare(await readFile(off), await readFile(plain))).not.toBe(0);
    const viaSet = join(out, 'pear-no-guidance-set.png');
    expect((await modular(runArgs(viaSet, '--set', 'guider.guidance_scale=1'))).code).toBe(0);
    expect(Buffer.compare(await readFile(viaSet), await readFile(off))).toBe(0);
  });
});
