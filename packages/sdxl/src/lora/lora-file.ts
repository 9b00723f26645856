/**
 * Reads a LoRA safetensors file and sorts its keys into layers (a down and
 * an up matrix, and an alpha where the file has one) per model, in the
 * three layouts published LoRAs use:
 *
 * - diffusers/PEFT: `unet.<module>.lora_A.weight` (down, [r, in]) and
 *   `.lora_B.weight` (up, [out, r]), `text_encoder.*`, `text_encoder_2.*`;
 *   the LoraConfig (rank, lora_alpha, rank/alpha patterns) in the
 *   safetensors metadata under `lora_adapter_metadata`, as diffusers'
 *   `save_lora_weights` writes it, or a `<module>.alpha` tensor;
 * - older diffusers: `<module>.lora.down.weight` / `.lora.up.weight`,
 *   attention processors' `to_q_lora.down.weight` (UNet, with or without
 *   the `unet.` prefix) and text encoders' `to_q_lora` /
 *   `lora_linear_layer`;
 * - kohya-ss (sd-scripts, A1111, ComfyUI): `lora_unet_<module with
 *   underscores>.lora_down.weight` / `.lora_up.weight` / `.alpha`, and
 *   `lora_te1_*` (`lora_te_*`) / `lora_te2_*` for the text encoders; which
 *   module a flat name means is decided against the model (lora-layers.ts).
 *
 * DoRA (`lora_magnitude_vector`, `dora_scale`), LoRA biases and LyCORIS
 * variants (LoHa, LoKr) are refused by name: they are not a low-rank
 * product and would be fused wrongly. PyTorch pickles (`.bin`, `.pt`,
 * `.ckpt`) are refused without being read.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { bfloat16ToFloat32Into, float16ToFloat32Into, readSafetensorsHeader, ModelBuildError } from '@modular-diffusers/model-builder';
import { LoraLoadError } from './lora-errors.js';

/** The models an SDXL LoRA adapts, by their pipeline component names. */
export type LoraComponentName = 'unet' | 'text_encoder' | 'text_encoder_2';
export const LORA_COMPONENTS: readonly LoraComponentName[] = ['unet', 'text_encoder', 'text_encoder_2'];

export type LoraFormat = 'peft' | 'diffusers-old' | 'kohya';

export interface LoraTensor {
  readonly key: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** One adapted module as the file names it, before it is matched to the model. */
export interface RawLoraLayer {
  readonly component: LoraComponentName;
  /** A dotted module path (diffusers layouts) or kohya's flat name without its `lora_unet_`-style prefix. */
  readonly name: string;
  down?: LoraTensor;
  up?: LoraTensor;
  /** The `alpha` tensor's value, when the file has one for this module. */
  alpha?: { readonly key: string; readonly value: number };
}

export interface LoraFile {
  readonly path: string;
  /** sha256 of the file's bytes (the fused graphs' cache key uses it). */
  readonly sha256: string;
  readonly format: LoraFormat;
  /** Layers by component, in file order. */
  readonly layers: readonly RawLoraLayer[];
  /** The safetensors `__metadata__` strings. */
  readonly metadata: Readonly<Record<string, string>>;
}

const PICKLE_SUFFIXES = ['.bin', '.pt', '.pth', '.ckpt', '.pkl'];

/** Refuses a PyTorch pickle by its name, before opening it. */
export function refusePickle(path: string): void {
  const lower = path.toLowerCase();
  if (PICKLE_SUFFIXES.some((s) => lower.endsWith(s))) {
    throw new LoraLoadError(
      `${path} is a PyTorch pickle; LoRA weights load from safetensors only (a pickle can run code and cannot be read here). ` +
        `Use the repo's .safetensors file (diffusers saves 'pytorch_lora_weights.safetensors'), or convert it once with ` +
        `safetensors.torch.save_file(torch.load(path), 'pytorch_lora_weights.safetensors').`,
      path,
    );
  }
}

export async function readLoraFile(path: string): Promise<LoraFile> {
  refusePickle(path);
  const header = await readSafetensorsHeader(path).catch((error: unknown) => {
    if (error instanceof ModelBuildError) throw new LoraLoadError(`LoRA file ${error.message}`, path, error.key);
    throw error;
  });
  if (header.tensors.size === 0) throw new LoraLoadError(`${path} holds no tensors; it is not a LoRA.`, path);
  const bytes = await readFile(path);
  const tensor = (key: string): LoraTensor => {
    const info = header.tensors.get(key)!;
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset + info.fileOffset, info.byteLength).slice().buffer;
    let data: Float32Array;
    if (info.dtype === 'F32') data = new Float32Array(raw);
    else if (info.dtype === 'F16' || info.dtype === 'BF16') {
      data = new Float32Array(info.byteLength / 2);
      (info.dtype === 'F16' ? float16ToFloat32Into : bfloat16ToFloat32Into)(new Uint16Array(raw), data);
    } else if (info.dtype === 'F64') data = Float32Array.from(new Float64Array(raw));
    else throw new LoraLoadError(`${path}: tensor '${key}' is ${info.dtype}; LoRA weights must be floating point (F32, F16, BF16).`, path, key);
    return { key, shape: info.shape, data };
  };
  const keys = [...header.tensors.keys()];
  const kohya = keys.some((k) => KOHYA_PREFIX.test(k));
  const layers = new Map<string, RawLoraLayer>();
  const layer = (component: LoraComponentName, name: string): RawLoraLayer => {
    const id = `${component}:${name}`;
    let found = layers.get(id);
    if (!found) layers.set(id, (found = { component, name }));
    return found;
  };
  let old = false;
  const unprefixed = !kohya && !keys.some((k) => DIFFUSERS_PREFIX.test(k));
  for (const key of keys) {
    const parsed = kohya ? parseKohyaKey(key, path) : parseDiffusersKey(key, path, unprefixed);
    old ||= parsed.old ?? false;
    const target = layer(parsed.component, parsed.module);
    if (parsed.role === 'alpha') {
      const value = tensor(key);
      if (value.data.length !== 1) throw new LoraLoadError(`${path}: '${key}' should hold one number (the network alpha), has shape [${value.shape.join(', ')}].`, path, key);
      target.alpha = { key, value: value.data[0]! };
    } else {
      if (target[parsed.role]) {
        throw new LoraLoadError(`${path}: '${key}' and '${target[parsed.role]!.key}' are both the ${parsed.role} matrix of '${parsed.module}'.`, path, key);
      }
      target[parsed.role] = tensor(key);
    }
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), format: kohya ? 'kohya' : old ? 'diffusers-old' : 'peft', layers: [...layers.values()], metadata: header.metadata };
}

interface ParsedKey {
  component: LoraComponentName;
  module: string;
  role: 'down' | 'up' | 'alpha';
  old?: boolean;
}

const KOHYA_PREFIX = /^lora_(unet|te|te1|te2)_/;
const DIFFUSERS_PREFIX = /^(unet|text_encoder|text_encoder_2)\./;

function parseKohyaKey(key: string, path: string): ParsedKey {
  const prefix = KOHYA_PREFIX.exec(key);
  const dot = key.indexOf('.');
  if (!prefix || dot < 0) {
    throw new LoraLoadError(
      `${path}: key '${key}' is not a kohya LoRA key (lora_unet_* / lora_te1_* / lora_te2_* with .lora_down.weight, .lora_up.weight, .alpha), ` +
        `though others in the file are; the file mixes layouts or is not an SDXL LoRA.`,
      path,
      key,
    );
  }
  const component: LoraComponentName = prefix[1] === 'unet' ? 'unet' : prefix[1] === 'te2' ? 'text_encoder_2' : 'text_encoder';
  const module = key.slice(prefix[0].length, dot);
  const suffix = key.slice(dot + 1);
  if (suffix === 'lora_down.weight') return { component, module, role: 'down' };
  if (suffix === 'lora_up.weight') return { component, module, role: 'up' };
  if (suffix === 'alpha') return { component, module, role: 'alpha' };
  throw unsupportedSuffix(key, suffix, path);
}

/** Old attention-processor names: `<attn>.processor.to_q_lora` (UNet) and `self_attn.to_q_lora` (CLIP). */
const UNET_PROCESSOR = /^(.*)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;
const CLIP_OLD_ATTENTION = /^(.*\.self_attn)\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;
const CLIP_PROJECTIONS: Record<string, string> = { to_q: 'q_proj', to_k: 'k_proj', to_v: 'v_proj', to_out: 'out_proj' };

function parseDiffusersKey(key: string, path: string, unprefixed: boolean): ParsedKey {
  const prefix = DIFFUSERS_PREFIX.exec(key);
  if (!prefix && !unprefixed) {
    throw new LoraLoadError(
      `${path}: key '${key}' names no model (unet., text_encoder., text_encoder_2.) while others in the file do; the file mixes layouts.`,
      path,
      key,
    );
  }
  const component = (prefix ? prefix[1] : 'unet') as LoraComponentName;
  const rest = prefix ? key.slice(prefix[0].length) : key;
  let m: RegExpExecArray | null;
  if ((m = /^(.*)\.lora_([AB])\.weight$/.exec(rest))) return { component, module: m[1]!, role: m[2] === 'A' ? 'down' : 'up' };
  if ((m = /^(.*)\.alpha$/.exec(rest))) return { component, module: m[1]!, role: 'alpha' };
  if ((m = UNET_PROCESSOR.exec(rest))) {
    const module = `${m[1]}.${m[2] === 'to_out' ? 'to_out.0' : m[2]}`;
    return { component, module, role: m[3] as 'down' | 'up', old: true };
  }
  if ((m = CLIP_OLD_ATTENTION.exec(rest))) return { component, module: `${m[1]}.${CLIP_PROJECTIONS[m[2]!]}`, role: m[3] as 'down' | 'up', old: true };
  if ((m = /^(.*)\.(?:lora|lora_linear_layer)\.(down|up)\.weight$/.exec(rest))) return { component, module: m[1]!, role: m[2] as 'down' | 'up', old: true };
  const dot = rest.lastIndexOf('.lora');
  throw unsupportedSuffix(key, dot >= 0 ? rest.slice(dot + 1) : rest, path);
}

function unsupportedSuffix(key: string, suffix: string, path: string): LoraLoadError {
  const name = basename(path);
  if (/lora_magnitude_vector|dora_scale/.test(suffix)) {
    return new LoraLoadError(
      `${path}: '${key}' is a DoRA magnitude; DoRA adapters are not supported (their update is not W + up @ down). Use a plain LoRA of ${name}'s model.`,
      path,
      key,
    );
  }
  if (/bias/.test(suffix)) return new LoraLoadError(`${path}: '${key}' is a LoRA bias (lora_bias); only weight LoRAs are supported.`, path, key);
  if (/^(hada_|lokr_|lora_mid|w1|w2|t1|t2)/.test(suffix)) {
    return new LoraLoadError(`${path}: '${key}' belongs to a LyCORIS adapter (LoHa, LoKr or LoCon with a mid matrix); only plain LoRAs are supported.`, path, key);
  }
  return new LoraLoadError(
    `${path}: key '${key}' is not part of a LoRA layer this loader knows (diffusers/PEFT: <module>.lora_A.weight / lora_B.weight; ` +
      `kohya: lora_unet_<module>.lora_down.weight / lora_up.weight / alpha).`,
    path,
    key,
  );
}
