/**
 * Reading LoRA files in the three layouts and matching them to a model, on small synthetic files:
 * the same weights spelled as diffusers/PEFT (with diffusers' lora_adapter_metadata), as the older
 * diffusers attention-processor names, and as kohya (sgm names, alpha tensors) resolve to the same
 * modules and scales; the fused weight is W + coefficient * alpha / rank * up @ down (expected
 * values worked out by hand below); bad files are refused naming the file and the key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoraLoadError } from './lora-errors.js';
import { readLoraFile, refusePickle } from './lora-file.js';
import { fuseLoraLayers } from './lora-fusion.js';
import { resolveLoraLayers, type LoraTarget } from './lora-layers.js';
import { ramp, writeSafetensors, type TestTensor } from './lora-test-files.test-helpers.js';

const TO_Q = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
const CONV = 'down_blocks.0.resnets.0.conv1';
const TE_Q = 'text_model.encoder.layers.0.self_attn.q_proj';

const targets: Record<'unet' | 'text_encoder', LoraTarget> = {
  unet: {
    description: 'the test UNet',
    weightShapes: new Map<string, readonly number[]>([[`${TO_Q}.weight`, [3, 2]], [`${CONV}.weight`, [2, 2, 3, 3]], [`${CONV}.bias`, [2]]]),
    config: { layers_per_block: 1, down_block_types: ['CrossAttnDownBlock2D'], up_block_types: ['CrossAttnUpBlock2D'] },
  },
  text_encoder: { description: 'the test text encoder', weightShapes: new Map([[`${TE_Q}.weight`, [2, 2]]]), config: {} },
};

const qDown: TestTensor = { shape: [1, 2], data: [0.5, -1] };
const qUp: TestTensor = { shape: [3, 1], data: [1, 2, 3] };
const convDown = ramp([2, 2, 3, 3], -0.2, 0.01);
const convUp = ramp([2, 2, 1, 1], 0.3, 0.1);
const teDown = ramp([2, 2]);
const teUp = ramp([2, 2], -0.1);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lora-layers-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, tensors: Record<string, TestTensor>, metadata?: Record<string, string>): Promise<string> {
  const path = join(dir, name);
  await writeSafetensors(path, tensors, metadata);
  return path;
}

const PEFT_METADATA = {
  format: 'pt',
  lora_adapter_metadata: JSON.stringify({ 'unet.r': 2, 'unet.lora_alpha': 4, 'unet.rank_pattern': { [`^${TO_Q}`]: 1 }, 'unet.alpha_pattern': {} }),
};

async function peftFile(): Promise<string> {
  return file('peft.safetensors', {
    [`unet.${TO_Q}.lora_A.weight`]: qDown,
    [`unet.${TO_Q}.lora_B.weight`]: qUp,
    [`unet.${CONV}.lora_A.weight`]: convDown,
    [`unet.${CONV}.lora_B.weight`]: convUp,
    [`text_encoder.${TE_Q}.lora_A.weight`]: teDown,
    [`text_encoder.${TE_Q}.lora_B.weight`]: teUp,
  }, PEFT_METADATA);
}

async function kohyaFile(extra: Record<string, TestTensor> = {}): Promise<string> {
  const alpha = (value: number): TestTensor => ({ shape: [], data: [value] });
  return file('kohya.safetensors', {
    'lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q.lora_down.weight': qDown,
    'lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q.lora_up.weight': qUp,
    'lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q.alpha': alpha(4),
    'lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight': convDown,
    'lora_unet_input_blocks_1_0_in_layers_2.lora_up.weight': convUp,
    'lora_unet_input_blocks_1_0_in_layers_2.alpha': alpha(4),
    'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight': teDown,
    'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight': teUp,
    ...extra,
  });
}

function summary(path: Promise<string>) {
  return path.then(async (p) => {
    const lora = await readLoraFile(p);
    const resolved = resolveLoraLayers(lora, targets);
    return { format: lora.format, layers: resolved.layers.map((l) => ({ component: l.component, module: l.module, rank: l.rank, scaling: l.scaling })).sort((a, b) => a.module.localeCompare(b.module)), resolved };
  });
}

const EXPECTED = [
  { component: 'unet', module: TO_Q, rank: 1, scaling: 4 },
  { component: 'unet', module: CONV, rank: 2, scaling: 2 },
  { component: 'text_encoder', module: TE_Q, rank: 2, scaling: 1 },
].sort((a, b) => a.module.localeCompare(b.module));

describe('LoRA layouts', () => {
  it('reads diffusers/PEFT keys with the LoraConfig from lora_adapter_metadata (rank_pattern, lora_alpha; no metadata: scale 1)', async () => {
    const { format, layers } = await summary(peftFile());
    expect(format).toBe('peft');
    expect(layers).toEqual(EXPECTED);
  });

  it('reads kohya keys (sgm UNet names, lora_te1_, alpha tensors; no alpha: scale 1) to the same modules and scales', async () => {
    const { format, layers } = await summary(kohyaFile());
    expect(format).toBe('kohya');
    expect(layers).toEqual(EXPECTED);
  });

  it('reads the older diffusers names (attention processors, to_q_lora, .lora.down)', async () => {
    const path = file('old.safetensors', {
      [`unet.${TO_Q.replace('.to_q', '.processor.to_q_lora')}.down.weight`]: qDown,
      [`unet.${TO_Q.replace('.to_q', '.processor.to_q_lora')}.up.weight`]: qUp,
      [`unet.${CONV}.lora.down.weight`]: convDown,
      [`unet.${CONV}.lora.up.weight`]: convUp,
      'text_encoder.text_model.encoder.layers.0.self_attn.to_q_lora.down.weight': teDown,
      'text_encoder.text_model.encoder.layers.0.self_attn.to_q_lora.up.weight': teUp,
    });
    const { format, layers } = await summary(path);
    expect(format).toBe('diffusers-old');
    expect(layers.map((l) => [l.module, l.scaling])).toEqual([[CONV, 1], [TE_Q, 1], [TO_Q, 1]].sort((a, b) => (a[0] as string).localeCompare(b[0] as string)));
  });

  it('fuses W + coefficient * alpha / rank * up @ down (hand-computed)', async () => {
    const { resolved } = await summary(kohyaFile());
    const q = resolved.layers.find((l) => l.module === TO_Q)!;
    const base = Float32Array.of(1, 0, 0, 1, 1, 1);
    // up @ down = [[0.5, -1], [1, -2], [1.5, -3]]; 0.8 * 4 / 1 = 3.2 times that, added to W.
    const fused = fuseLoraLayers(base, [3, 2], [{ layer: q, coefficient: 0.8, adapterName: 'a', fileSha256: '', filePath: '' }]);
    expect(Array.from(fused)).toEqual(Array.from(Float32Array.of(2.6, -3.2, 3.2, -5.4, 5.8, -8.6)));
    // A conv LoRA: [out, r, 1, 1] @ [r, in, 3, 3] reshaped; one entry checked by hand.
    const conv = resolved.layers.find((l) => l.module === CONV)!;
    const zeros = new Float32Array(2 * 2 * 3 * 3);
    const delta = fuseLoraLayers(zeros, [2, 2, 3, 3], [{ layer: conv, coefficient: 1, adapterName: 'a', fileSha256: '', filePath: '' }]);
    // out 1, column 5: scaling 2 * (up[1,0] * down[0,5] + up[1,1] * down[1,5]) = 2 * (0.5 * -0.15 + 0.6 * 0.03)
    expect(delta[1 * 18 + 5]).toBeCloseTo(2 * (0.5 * -0.15 + 0.6 * 0.03), 6);
  });

  it('leaves out layers for a model that is not a target, and says which', async () => {
    const lora = await readLoraFile(await kohyaFile());
    const resolved = resolveLoraLayers(lora, { unet: targets.unet });
    expect(resolved.skipped).toEqual(['text_encoder']);
    expect(resolved.layers).toHaveLength(2);
  });
});

describe('bad LoRA files are refused naming the file and the key', () => {
  async function refusal(path: Promise<string> | string): Promise<LoraLoadError> {
    const p = await path;
    const error = await readLoraFile(p).then((lora) => resolveLoraLayers(lora, targets)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(LoraLoadError);
    expect((error as LoraLoadError).file).toBe(p);
    return error as LoraLoadError;
  }

  it('a kohya module the UNet does not have (a LoRA for another architecture)', async () => {
    const error = await refusal(kohyaFile({ 'lora_unet_input_blocks_7_1_proj_in.lora_down.weight': qDown, 'lora_unet_input_blocks_7_1_proj_in.lora_up.weight': qUp }));
    expect(error.key).toBe('lora_unet_input_blocks_7_1_proj_in.lora_down.weight');
    expect(error.message).toMatch(/names kohya module 'input_blocks_7_1_proj_in', which the test UNet does not have; the LoRA was made for another model architecture/);
  });

  it('a diffusers module the UNet does not have', async () => {
    const error = await refusal(file('other-arch.safetensors', { 'unet.up_blocks.3.attentions.0.proj_in.lora_A.weight': qDown, 'unet.up_blocks.3.attentions.0.proj_in.lora_B.weight': qUp }));
    expect(error.key).toBe('unet.up_blocks.3.attentions.0.proj_in.lora_A.weight');
  });

  it('shapes that do not fit the module', async () => {
    const error = await refusal(file('shapes.safetensors', { [`unet.${TO_Q}.lora_A.weight`]: ramp([1, 5]), [`unet.${TO_Q}.lora_B.weight`]: qUp }));
    expect(error.key).toBe(`unet.${TO_Q}.lora_A.weight`);
    expect(error.message).toMatch(/has shape \[1, 5\], which does not fit .*weight \[3, 2\].*the down matrix must be \[1, 2\]/);
  });

  it('a down matrix without its up matrix', async () => {
    const error = await refusal(file('half.safetensors', { [`unet.${TO_Q}.lora_A.weight`]: qDown }));
    expect(error.key).toBe(`unet.${TO_Q}.lora_A.weight`);
    expect(error.message).toMatch(/has no matching up \(lora_B \/ lora_up\) matrix/);
  });

  it('DoRA magnitudes', async () => {
    const error = await refusal(file('dora.safetensors', { [`unet.${TO_Q}.lora_A.weight`]: qDown, [`unet.${TO_Q}.lora_B.weight`]: qUp, [`unet.${TO_Q}.lora_magnitude_vector`]: ramp([3]) }));
    expect(error.key).toBe(`unet.${TO_Q}.lora_magnitude_vector`);
    expect(error.message).toMatch(/DoRA/);
  });

  it('metadata whose rank contradicts the weights', async () => {
    const meta = { lora_adapter_metadata: JSON.stringify({ 'unet.r': 8, 'unet.lora_alpha': 8 }) };
    const error = await refusal(file('meta.safetensors', { [`unet.${TO_Q}.lora_A.weight`]: qDown, [`unet.${TO_Q}.lora_B.weight`]: qUp }, meta));
    expect(error.message).toMatch(/metadata gives unet module .* rank 8 but .* has rank 1/);
  });

  it('a key of another layout in a kohya file', async () => {
    const error = await refusal(kohyaFile({ [`unet.${TO_Q}.lora_A.weight`]: qDown }));
    expect(error.key).toBe(`unet.${TO_Q}.lora_A.weight`);
  });

  it('a PyTorch pickle, by its name, without opening it', () => {
    expect(() => refusePickle('/x/pytorch_lora_weights.bin')).toThrow(/is a PyTorch pickle; LoRA weights load from safetensors only.*pytorch_lora_weights\.safetensors/);
  });

  it('a file that is not safetensors', async () => {
    const path = join(dir, 'junk.safetensors');
    await (await import('node:fs/promises')).writeFile(path, 'not a safetensors file at all');
    const error = await refusal(path);
    expect(error.message).toMatch(/^LoRA file .*junk\.safetensors/);
  });
});
