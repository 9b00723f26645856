// The repo files this project writes for the built-in SDXL blocks, asserted against what diffusers (commit 58eb52c)
// writes for the same pipeline: tools/reference/diffusers-repo-files/make_sdxl_repo_files.py made the reference
// files with diffusers itself. A repo whose files match these loads in diffusers' ModularPipeline.from_pretrained
// (checked by hand with tools/reference/diffusers-repo-files/check_loads_in_diffusers.py).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIFFUSERS_FORMAT_VERSION, ModularPipeline } from '@modular-diffusers/core';
import { StableDiffusionXLAutoBlocks } from '@modular-diffusers/sdxl';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const REF = new URL('../../tools/reference/diffusers-repo-files/', import.meta.url);
const reference = async (path: string) => readFile(new URL(path, REF), 'utf8');

/** The standard SDXL model_index.json the reference pipeline was loaded from (make_sdxl_repo_files.py). */
const STANDARD_INDEX = {
  _class_name: 'StableDiffusionXLPipeline',
  _diffusers_version: '0.19.0.dev0',
  force_zeros_for_empty_prompt: true,
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  tokenizer_2: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

let root: string;
beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  root = await mkdtemp(join(tmpdir(), 'diffusers-files-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pipeline.savePretrained of the SDXL auto blocks writes what diffusers writes', () => {
  it('modular_model_index.json is, byte for byte, the one diffusers saves for the same pipeline', async () => {
    const pipe = new StableDiffusionXLAutoBlocks().initPipeline('org/sdxl', { modelIndex: STANDARD_INDEX });
    const dir = join(root, 'pipeline');
    await pipe.savePretrained(dir, { modelCard: false });
    expect(await readFile(join(dir, 'modular_model_index.json'), 'utf8')).toBe(`${(await reference('sdxl-pipeline/modular_model_index.json')).trimEnd()}\n`);
    // diffusers' pipeline save writes no modular_config.json: its ModularPipeline.from_pretrained would read one as
    // the blocks' code (KeyError: 'auto_map' without one).
    expect((await readdir(dir)).sort()).toEqual(JSON.parse(await reference('sdxl-pipeline/files.json')));
  });

  it('type_hint names the library of every component class (diffusers drops the class when it is null)', async () => {
    const index = new StableDiffusionXLAutoBlocks().initPipeline('org/sdxl', { modelIndex: STANDARD_INDEX }).toModelIndex();
    const entries = Object.entries(index).filter(([, entry]) => Array.isArray(entry)) as Array<[string, [unknown, unknown, { type_hint: unknown[] }]]>;
    expect(entries.length).toBeGreaterThan(5);
    for (const [name, entry] of entries) expect(entry[2].type_hint[0], name).toMatch(/^(diffusers|transformers)$/);
  });

  it('_diffusers_version is the version whose formats are written; a read modular index keeps its own on re-save', async () => {
    expect(JSON.parse(await reference('sdxl-pipeline/modular_model_index.json'))._diffusers_version).toBe(DIFFUSERS_FORMAT_VERSION);
    const saved = JSON.parse(await reference('sdxl-pipeline/modular_model_index.json')) as Record<string, unknown>;
    const pipe = new StableDiffusionXLAutoBlocks().initPipeline('org/sdxl', { modelIndex: { ...saved, _diffusers_version: '0.35.1' } });
    expect(pipe.toModelIndex()._diffusers_version).toBe('0.35.1');
  });
});

describe('blocks.savePretrained of the SDXL auto blocks', () => {
  it('writes an index diffusers reads and no modular_config.json (diffusers would take that as Python code to run)', async () => {
    const dir = join(root, 'blocks');
    await new StableDiffusionXLAutoBlocks().savePretrained(dir, { modelCard: false });
    expect((await readdir(dir)).sort()).toEqual(['modular_model_index.json']);
    const index = JSON.parse(await readFile(join(dir, 'modular_model_index.json'), 'utf8'));
    const ref = JSON.parse(await reference('sdxl-pipeline/modular_model_index.json'));
    expect(index._blocks_class_name).toBe(ref._blocks_class_name);
    expect(index._class_name).toBe(ref._class_name);
    // Without a source repo every entry is a spec with no location, typed as diffusers types it.
    for (const name of Object.keys(ref).filter((k) => Array.isArray(ref[k]))) {
      expect(index[name][2].type_hint, name).toEqual(ref[name][2].type_hint);
    }
  });
});

describe('repo files diffusers wrote load here', () => {
  it("a blocks save of diffusers' own SDXL blocks (auto_map naming diffusers' module, no such file) loads as the installed class, no trust needed", async () => {
    const dir = join(root, 'diffusers-saved');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'modular_config.json'), await reference('sdxl-blocks/modular_config.json'));
    await writeFile(join(dir, 'modular_model_index.json'), await reference('sdxl-pipeline/modular_model_index.json'));
    const pipe = await ModularPipeline.fromPretrained(dir);
    expect(pipe.blocks.className).toBe('StableDiffusionXLAutoBlocks');
    expect(pipe.getComponentSpec('unet')).toMatchObject({ pretrainedModelNameOrPath: 'org/sdxl', subfolder: 'unet', library: 'diffusers' });
    await expect(ModularPipeline.fromPretrained(dir, { trustRemoteCode: true })).rejects.toThrow(/no code|does not contain/i);
  });
});

describe("the model card has diffusers' shape (sdxl-card/README.md, diffusers' push card)", () => {
  const workflows = (card: string) =>
    [...card.matchAll(/<summary><strong>([^<]+)<\/strong><\/summary>\n\n([\s\S]*?)<\/details>/g)].map(([, name, body]) => [
      name,
      [...body!.matchAll(/^- `([^`]+)` \(/gm)].map((m) => m[1]),
    ]);

  it('the same front matter (library_name diffusers, the same tags), sections and per-workflow inputs', async () => {
    const { renderModelCard } = await import('@modular-diffusers/hub');
    const ours = renderModelCard(new StableDiffusionXLAutoBlocks(), { repoId: 'org/sdxl' });
    const theirs = await reference('sdxl-card/README.md');
    const frontMatter = (card: string) => card.slice(0, card.indexOf('\n---', 4) + 4);
    expect(frontMatter(ours)).toBe(frontMatter(theirs));
    for (const header of ['## Workflow Input Specification', '## Input/Output Specification', '**Inputs:**', '**Outputs:**', '## Configuration Parameters']) {
      expect(ours, header).toContain(header);
    }
    expect(workflows(ours)).toEqual(workflows(theirs));
    // a line diffusers writes, the same here
    expect(ours).toContain('- `num_images_per_prompt` (`None`, *optional*, defaults to `1`): No description provided');
    expect(theirs).toContain('- `num_images_per_prompt` (`None`, *optional*, defaults to `1`): No description provided');
  });
});
