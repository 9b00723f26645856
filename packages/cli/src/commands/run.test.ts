import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateTinySdxlRepo, loadImage } from '@modular-diffusers/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { buildPlugin } from './build.js';
import { createPlugin } from './create.js';
import { parseSetValue } from './run-inputs.js';

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

  it('parses --set values as JSON when they are JSON, else keeps the string', () => {
    let set = parseSetValue('guidance_scale=7.5');
    set = parseSetValue('use_karras=true', set);
    set = parseSetValue('style=oil on canvas', set);
    set = parseSetValue('sizes=[1,2]', set);
    set = parseSetValue('empty=', set);
    expect(set).toEqual({ guidance_scale: 7.5, use_karras: true, style: 'oil on canvas', sizes: [1, 2], empty: '' });
  });
});
