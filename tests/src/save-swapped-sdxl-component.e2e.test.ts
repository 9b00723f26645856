// diffusers tests/modular_pipelines/test_modular_pipeline_loading.py::TestCustomModelSavePretrained::
// test_save_pretrained_roundtrip_with_local_model (commit 58eb52c), on the tiny SDXL repo with real ONNX sessions:
// a UNet of unknown origin is written into the saved folder, the index points there, and the pipeline loaded
// back from that folder makes the same image.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, tagLoadId } from '@modular-diffusers/core';
import { Generator } from '@modular-diffusers/runtime';
import { StableDiffusionXLAutoBlocks, StableDiffusionXLModularPipeline } from '@modular-diffusers/sdxl';
import { createTinyRepo, releaseComponents, type TinyRepoFixture } from '@modular-diffusers/sdxl/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let repo: TinyRepoFixture;
beforeAll(async () => {
  repo = await createTinyRepo({});
});
afterAll(async () => {
  await repo?.dispose();
});

const inputs = { prompt: 'a green pear', num_inference_steps: 2, height: 64, width: 64 };

describe('diffusers TestCustomModelSavePretrained on SDXL', () => {
  it('test_save_pretrained_roundtrip_with_local_model: the UNet is saved beside the index and loads back the same', async () => {
    // The tiny repo has no ControlNet or image encoder: load what the text2image workflow uses.
    const pipe = new StableDiffusionXLAutoBlocks().initPipeline(repo.dir, { pipelineClass: StableDiffusionXLModularPipeline, repoResolver: repo.resolver, loaderRegistry: repo.registry, logger: silentLogger });
    await pipe.loadComponents({ workflow: 'text2image' });
    tagLoadId(pipe.components.unet, 'null'); // diffusers' `pipe.unet._diffusers_load_id = "null"`
    const dir = join(repo.outDir, 'saved-with-unet');
    const result = await pipe.savePretrained(dir, { modelCard: false });

    const index = JSON.parse(await readFile(join(dir, 'modular_model_index.json'), 'utf8'));
    expect(index.unet[2]).toMatchObject({ pretrained_model_name_or_path: result.dir, subfolder: 'unet' });
    expect(index.vae[2].pretrained_model_name_or_path).toBe(repo.dir);
    expect((await readdir(join(dir, 'unet'))).sort()).toEqual((await readdir(join(repo.dir, 'unet'))).sort());

    const loaded = new StableDiffusionXLAutoBlocks().initPipeline(dir, { pipelineClass: StableDiffusionXLModularPipeline, repoResolver: repo.resolver, loaderRegistry: repo.registry, logger: silentLogger });
    await loaded.loadComponents({ workflow: 'text2image' });
    try {
      expect(loaded.getComponentSpec('unet')).toMatchObject({ pretrainedModelNameOrPath: result.dir, subfolder: 'unet' });
      const [before] = await pipe({ ...inputs, generator: new Generator(5), output: 'images' });
      const [after] = await loaded({ ...inputs, generator: new Generator(5), output: 'images' });
      expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
    } finally {
      await releaseComponents(loaded);
      await releaseComponents(pipe);
    }
  });
});
