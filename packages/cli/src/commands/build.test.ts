import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modular, removeTempDirs, tempDir } from '../cli-test-kit.test-helpers.js';
import { createPlugin } from './create.js';

let plugin: string;
let componentsRepo: string;

beforeAll(async () => {
  process.env.MODULAR_SANDBOX_CACHE ??= join(await tempDir('modular-sandbox-cache-'), 'libs');
  plugin = (await createPlugin('shiny', { dir: await tempDir() })).dir;
  // A components repo that has a UNet and a VAE only: the other models get no source.
  componentsRepo = join(await tempDir(), 'components');
  await mkdir(componentsRepo, { recursive: true });
  await writeFile(
    join(componentsRepo, 'model_index.json'),
    JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', force_zeros_for_empty_prompt: false, unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'] }),
  );
});
afterAll(removeTempDirs);

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('modular build', () => {
  it('writes the bundle, modular_config.json, the model index, a model card and the Mellon config into dist-hub/', async () => {
    const result = await modular(['build', plugin, '--components-repo', componentsRepo]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Built @modular-diffusers\/plugin-shiny@0\.1\.0/);
    const out = join(plugin, 'dist-hub');
    const bundle = await readFile(join(out, 'shiny.js'));
    const sha256 = createHash('sha256').update(bundle).digest('hex');

    expect(await readJson(join(out, 'modular_config.json'))).toEqual({
      _class_name: 'ShinyBlocks',
      _diffusers_version: '0.40.0.dev0',
      auto_map: { ModularPipelineBlocks: 'shiny.ShinyBlocks' },
      bundle: { file: 'shiny.js', sha256 },
      plugin: { name: '@modular-diffusers/plugin-shiny', version: '0.1.0' },
      npm_requirements: { '@modular-diffusers/core': '^0.1.0', '@modular-diffusers/sdxl': '^0.1.0' },
    });
    // Host packages are the sandbox's libraries, never bundled copies.
    expect(bundle.toString()).toContain('modularLibraries["@modular-diffusers/core"]');
    expect(bundle.toString()).not.toContain('class SequentialPipelineBlocks');

    const index = await readJson(join(out, 'modular_model_index.json'));
    expect(index._class_name).toBe('StableDiffusionXLModularPipeline');
    expect(index._blocks_class_name).toBe('ShinyBlocks');
    expect(index.force_zeros_for_empty_prompt).toBe(false);
    expect(index.unet[2]).toEqual({ pretrained_model_name_or_path: componentsRepo, revision: null, subfolder: 'unet', type_hint: ['diffusers', 'UNet2DConditionModel'], variant: null });
    expect(index.text_encoder[2].pretrained_model_name_or_path).toBeNull();
    expect(result.out).toMatch(/no source\s+text_encoder, text_encoder_2, tokenizer, tokenizer_2, scheduler \(users set these/);

    const card = await readFile(join(out, 'README.md'), 'utf8');
    expect(card).toContain('# Shiny Pipeline');
    expect(card).toContain('- `style` (`str`, *optional*, defaults to `watercolor painting`): A phrase appended to the prompt');
    expect(card).toContain(`sha256 \`${sha256}\``);

    const mellon = await readJson(join(out, 'mellon_pipeline_config.json'));
    expect(Object.keys(mellon)).toEqual(['label', 'default_repo', 'default_dtype', 'node_params']);
    expect(mellon.label).toBe('stable-diffusion-xl');
    expect(Object.keys(mellon.node_params)).toEqual(['controlnet', 'denoise', 'vae_encoder', 'text_encoder', 'decoder']);
    expect(mellon.node_params.controlnet).toBeNull();
    // The preset has no 'vae_encoder' step, so Mellon gets no such node.
    expect(mellon.node_params.vae_encoder).toBeNull();
    expect(mellon.node_params.text_encoder.input_names).toEqual(['prompt', 'negative_prompt']);
    expect(mellon.node_params.text_encoder.params.prompt).toEqual({ label: 'Prompt *', type: 'string', display: 'textarea', default: '' });
    expect(mellon.node_params.decoder.block_name).toBe('decode');
    expect(mellon.node_params.decoder.output_names).toEqual(['images', 'doc']);

    const info = await readJson(join(out, '.build-info.json'));
    expect(info.bundle).toEqual({ file: 'shiny.js', sha256, exportName: 'ShinyBlocks' });
    expect(info.sourcesSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is a build error, naming the import and its importer, when a plugin reaches for Node or the models directly', async () => {
    const bad = (await createPlugin('leaky', { dir: await tempDir() })).dir;
    await writeFile(join(bad, 'src', 'reads-files.ts'), "import { readFileSync } from 'node:fs';\nexport const secret = () => readFileSync('/etc/passwd', 'utf8');\n");
    await writeFile(join(bad, 'src', 'plugin.ts'), `${await readFile(join(bad, 'src', 'plugin.ts'), 'utf8')}export { secret } from './reads-files.js';\n`);
    const result = await modular(['build', bad, '--no-components']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/the Node built-in 'node:fs' \(imported by src\/reads-files\.ts\) cannot run in the sandbox/);

    await writeFile(join(bad, 'src', 'reads-files.ts'), "import sharp from 'sharp';\nexport const secret = () => sharp;\n");
    const sharp = await modular(['build', bad, '--no-components']);
    expect(sharp.code).toBe(1);
    expect(sharp.err).toMatch(/'sharp' \(imported by src\/reads-files\.ts\) must stay on the host/);

    await writeFile(join(bad, 'src', 'reads-files.ts'), "export { pushToHub as secret } from '@modular-diffusers/hub';\n");
    const hub = await modular(['build', bad, '--no-components']);
    expect(hub.code).toBe(1);
    expect(hub.err).toMatch(/'@modular-diffusers\/hub' \(imported by src\/reads-files\.ts\) is not provided by the sandbox/);
  });

  it('says what to fix for a folder that is not a plugin, an undeclared dependency and an unknown export', async () => {
    const empty = await tempDir();
    const notPlugin = await modular(['build', empty]);
    expect(notPlugin.code).toBe(2);
    expect(notPlugin.err).toMatch(/has no package\.json; run this in a plugin folder/);

    const undeclared = (await createPlugin('undeclared', { dir: await tempDir() })).dir;
    const pkg = await readJson(join(undeclared, 'package.json'));
    delete pkg.dependencies['@modular-diffusers/sdxl'];
    await writeFile(join(undeclared, 'package.json'), JSON.stringify(pkg));
    const missing = await modular(['build', undeclared, '--no-components']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/imports @modular-diffusers\/sdxl but package\.json does not list @modular-diffusers\/sdxl/);

    const unknown = await modular(['build', undeclared, '--no-components', '--blocks', 'NoSuchBlocks']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/exports no "NoSuchBlocks"/);
  });
});
