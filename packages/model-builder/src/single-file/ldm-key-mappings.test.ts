/**
 * The LDM/SGM key mappings and CheckpointWeights on the single-file fixture
 * (packages/sdxl/fixtures/adapters/single-file, which diffusers' own
 * conversion functions read back tensor for tensor; see its script):
 *
 * - every tensor the builder needs for each component's config is found,
 *   and every checkpoint tensor under the component's prefix is used;
 * - the UNet, VAE and CLIP-L tensors are byte for byte the real-arch
 *   fixtures' fp16 weights (the mapping picks the right tensor, not only
 *   one of the right shape);
 * - full-size SDXL names map where Stability AI's checkpoint has them;
 * - fp16 kept in place (the cuda/webgpu path): the fused q/k/v rows are
 *   referenced inside `in_proj_weight`, the transposed projection is
 *   embedded, and the graph computes exactly what the float32-copy build does.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelProto, Tensor, loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import { listModelWeights } from '../list-model-weights.js';
import { readSafetensorsHeader, type SafetensorsHeader } from '../safetensors/safetensors-file.js';
import { fixture } from '../testing/reference.js';
import { CheckpointWeights, type CheckpointKeyMapping } from './checkpoint-weights.js';
import { inferCheckpointModelType } from './checkpoint-model-type.js';
import { ldmUnetMapping, ldmVaeMapping, sgmClipLMapping, sgmOpenClipMapping } from './ldm-key-mappings.js';

const SDXL_FIXTURES = fileURLToPath(new URL('../../../sdxl/fixtures/', import.meta.url));
const CHECKPOINT = join(SDXL_FIXTURES, 'adapters', 'single-file', 'tiny-sdxl-base.safetensors');
const CONFIGS = join(SDXL_FIXTURES, 'adapters', 'single-file', 'config-repo');
const REAL_ARCH = join(SDXL_FIXTURES, 'real-arch', 'repo');
const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-single-file-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

interface ComponentCase {
  readonly name: string;
  readonly className: string;
  readonly mapping: (config: Record<string, unknown>, file: string) => CheckpointKeyMapping;
  /** The real-arch fp16 file with the same weights (text_encoder_2 has 10 new layers, so none). */
  readonly sameWeights: string | null;
}

const COMPONENTS: ComponentCase[] = [
  { name: 'unet', className: 'UNet2DConditionModel', mapping: ldmUnetMapping, sameWeights: 'unet/diffusion_pytorch_model.fp16.safetensors' },
  { name: 'vae', className: 'AutoencoderKL', mapping: ldmVaeMapping, sameWeights: 'vae/diffusion_pytorch_model.fp16.safetensors' },
  { name: 'text_encoder', className: 'CLIPTextModel', mapping: () => sgmClipLMapping(), sameWeights: 'text_encoder/model.fp16.safetensors' },
  { name: 'text_encoder_2', className: 'CLIPTextModelWithProjection', mapping: (c, f) => sgmOpenClipMapping(c, f), sameWeights: null },
];

async function tensorBytes(header: SafetensorsHeader, info: { fileOffset: number; byteLength: number }): Promise<Buffer> {
  const raw = await readFile(header.path);
  return raw.subarray(info.fileOffset, info.fileOffset + info.byteLength);
}

describe.each(COMPONENTS)('$name from the single-file fixture', ({ name, className, mapping }) => {
  it('finds every tensor the config needs and uses every tensor under its prefix', async () => {
    const config = await readJson(join(CONFIGS, name, 'config.json'));
    const weights = new CheckpointWeights(await readSafetensorsHeader(CHECKPOINT), mapping(config, 'config.json'));
    const needed = listModelWeights(className, config);
    for (const [key, shape] of needed) expect(weights.take(key, shape).info.shape, key).toEqual(shape);
    expect(weights.unusedKeys()).toEqual([]);
  });
});

describe.each(COMPONENTS.filter((c) => c.sameWeights !== null))('$name', ({ name, className, mapping, sameWeights }) => {
  it("maps each name onto the real-arch component's own tensor, byte for byte", async () => {
    const config = await readJson(join(CONFIGS, name, 'config.json'));
    const weights = new CheckpointWeights(await readSafetensorsHeader(CHECKPOINT), mapping(config, 'config.json'));
    const original = await readSafetensorsHeader(join(REAL_ARCH, sameWeights!));
    let compared = 0;
    for (const [key, info] of original.tensors) {
      if (info.dtype !== 'F16') continue; // position_ids
      const ref = weights.take(key, null);
      expect((await tensorBytes(weights.header, ref.info)).equals(await tensorBytes(original, info)), key).toBe(true);
      compared++;
    }
    expect(compared).toBe(listModelWeights(className, config).size);
  });
});

describe('full-size SDXL names', () => {
  it("land where Stability AI's sd_xl_base_1.0 checkpoint keeps them", async () => {
    const unet = ldmUnetMapping(await readJson(fixture('sdxl-base-configs', 'unet.json')), 'unet.json');
    const expected: Record<string, string> = {
      'conv_in.weight': 'input_blocks.0.0.weight',
      'add_embedding.linear_2.bias': 'label_emb.0.2.bias',
      'down_blocks.0.resnets.1.time_emb_proj.weight': 'input_blocks.2.0.emb_layers.1.weight',
      'down_blocks.0.downsamplers.0.conv.weight': 'input_blocks.3.0.op.weight',
      'down_blocks.1.resnets.0.conv_shortcut.weight': 'input_blocks.4.0.skip_connection.weight',
      'down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_k.weight': 'input_blocks.8.1.transformer_blocks.9.attn2.to_k.weight',
      'mid_block.resnets.1.conv2.weight': 'middle_block.2.out_layers.3.weight',
      'mid_block.attentions.0.proj_out.bias': 'middle_block.1.proj_out.bias',
      'up_blocks.0.resnets.2.norm1.weight': 'output_blocks.2.0.in_layers.0.weight',
      'up_blocks.0.upsamplers.0.conv.weight': 'output_blocks.2.2.conv.weight',
      'up_blocks.1.upsamplers.0.conv.bias': 'output_blocks.5.2.conv.bias',
      'up_blocks.2.resnets.0.conv1.weight': 'output_blocks.6.0.in_layers.2.weight',
      'conv_norm_out.weight': 'out.0.weight',
    };
    for (const [ours, theirs] of Object.entries(expected)) expect(unet.locate(ours)?.key, ours).toBe(`model.diffusion_model.${theirs}`);
    const vae = ldmVaeMapping(await readJson(fixture('sdxl-base-configs', 'vae.json')), 'vae.json');
    expect(vae.locate('decoder.up_blocks.0.resnets.0.conv1.weight')?.key).toBe('first_stage_model.decoder.up.3.block.0.conv1.weight');
    expect(vae.locate('decoder.up_blocks.2.upsamplers.0.conv.weight')?.key).toBe('first_stage_model.decoder.up.1.upsample.conv.weight');
    expect(vae.locate('encoder.down_blocks.1.resnets.0.conv_shortcut.weight')?.key).toBe('first_stage_model.encoder.down.1.block.0.nin_shortcut.weight');
    expect(vae.locate('encoder.mid_block.attentions.0.to_out.0.weight')?.key).toBe('first_stage_model.encoder.mid.attn_1.proj_out.weight');
    const openClip = sgmOpenClipMapping(await readJson(fixture('sdxl-base-configs', 'text_encoder_2.json')), 'text_encoder_2.json');
    expect(openClip.locate('text_model.encoder.layers.31.self_attn.v_proj.bias')).toEqual({
      key: 'conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_bias',
      rows: [2560, 3840],
    });
    expect(openClip.locate('text_projection.weight')).toEqual({ key: 'conditioner.embedders.1.model.text_projection', transposed: true });
  });

  it('the fixture reads as SDXL base, by the same marker key as diffusers', async () => {
    const kind = inferCheckpointModelType(await readSafetensorsHeader(CHECKPOINT));
    expect(kind).toEqual({
      type: 'xl_base',
      evidence: 'conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias',
      defaultConfigRepo: 'stabilityai/stable-diffusion-xl-base-1.0',
    });
  });
});

describe('text encoder 2 with its fp16 weights kept in place', () => {
  it('references q/k/v inside in_proj_weight, embeds the transposed projection, and matches the float32 copy exactly', async () => {
    const values = await readJson(join(CONFIGS, 'text_encoder_2', 'config.json'));
    const header = await readSafetensorsHeader(CHECKPOINT);
    const build = (keepHalfPrecision: boolean) =>
      buildModel({ config: { values, file: 'config.json' }, checkpoint: { file: CHECKPOINT, mapping: sgmOpenClipMapping(values, 'config.json') }, keepHalfPrecision, cacheDir });
    const inPlace = await build(true);
    const copied = await build(false);
    expect(inPlace.placement).toBe('in-place');
    expect(copied.placement).toBe('float32-copy');

    const graph = ModelProto.decode(await readFile(inPlace.graphs.model!)) as unknown as {
      graph: { initializer: Array<{ name: string; externalData: Array<{ key: string; value: string }>; rawData?: Uint8Array; dims: unknown[] }> };
    };
    const init = new Map(graph.graph.initializer.map((i) => [i.name, i]));
    const offset = (name: string) => Number(init.get(name)!.externalData.find((e) => e.key === 'offset')!.value);
    const fused = header.tensors.get('conditioner.embedders.1.model.transformer.resblocks.4.attn.in_proj_weight')!;
    const hidden = values.hidden_size as number;
    ['q', 'k', 'v'].forEach((part, i) => {
      expect(offset(`text_model.encoder.layers.4.self_attn.${part}_proj.weight`), part).toBe(fused.fileOffset + i * hidden * hidden * 2);
    });
    const projection = init.get('text_projection.weight')!;
    expect(projection.externalData ?? []).toEqual([]);
    expect(projection.rawData!.byteLength).toBe(hidden * (values.projection_dim as number) * 4);

    const ids = new Int32Array(77).fill(572);
    [571, 5, 9, 12, 3, 572].forEach((id, i) => (ids[i] = id));
    const run = async (built: typeof inPlace) => {
      const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
      const out = await model.run({ input_ids: new Tensor('int32', ids, [1, 77]) });
      await model.release();
      return out;
    };
    const [a, b] = [await run(inPlace), await run(copied)];
    for (const name of ['text_embeds', 'last_hidden_state', 'hidden_states.9']) {
      expect(Array.from(a[name]!.data as Float32Array), name).toEqual(Array.from(b[name]!.data as Float32Array));
    }
  });
});
