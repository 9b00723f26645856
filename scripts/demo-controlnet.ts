/**
 * A demo step for `npm run demo` (scripts/demo.ts calls it once its local Hub is up and
 * HF_ENDPOINT points there): a ControlNet as people publish it, run from safetensors.
 *
 * The tiny ControlNet fixture (packages/sdxl/fixtures/adapters/controlnet/controlnet-tiny-sdxl:
 * config.json + diffusion_pytorch_model.safetensors, the layout of
 * diffusers/controlnet-canny-sdxl-1.0, made by diffusers' ControlNetModel) is served as its own
 * Hub repo; the real-architecture SDXL repo (stabilityai's layout: an ONNX UNet export beside the
 * diffusers weights) is loaded with `fromPretrained`, the ControlNet with
 * `loadComponents('controlnet', { repo })`. The model builder builds the ControlNet's graph, and
 * the UNet is rebuilt from its weights with ControlNet residual inputs at the first step; no
 * export and no option. The run is checked against the latents diffusers'
 * StableDiffusionXLControlNetPipeline computed (controlnet_conditioning_scale 0.5), compared with
 * the same run without the ControlNet, and its image written to `controlnet_out.png`.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModularPipeline, type ComponentsManager, type Logger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Tensor, saveImage, type RgbImage } from '@modular-diffusers/runtime';

export interface ControlNetDemoOptions {
  /** The local Hub the demo serves (its `importFolder`). */
  readonly hub: { importFolder(repo: string, folder: string): Promise<{ commitOid: string }> };
  /** Where `controlnet_out.png` and `controlnet_control.png` are written. */
  readonly work: string;
  /** The SDXL repo on that Hub, when the demo imported packages/sdxl/fixtures/real-arch/repo already; else it is imported. */
  readonly sdxlRepo?: string;
  readonly componentsManager?: ComponentsManager;
  /** Prints a line (default console.log). */
  readonly log?: (line: string) => void;
}

export interface ControlNetDemoResult {
  /** max |ours - diffusers'| / max |diffusers'| on the final latents. */
  readonly relativeError: number;
  /** The same measure between the runs with and without the ControlNet: how far it moves the result. */
  readonly movedBy: number;
  readonly imagePath: string;
}

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'packages', 'sdxl', 'fixtures', 'adapters', 'controlnet');

export async function demoControlNetFromSafetensors(options: ControlNetDemoOptions): Promise<ControlNetDemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const sdxlRepo = options.sdxlRepo ?? 'demo/real-arch-sdxl';
  if (!options.sdxlRepo) await options.hub.importFolder(sdxlRepo, join(ROOT, 'packages', 'sdxl', 'fixtures', 'real-arch', 'repo'));
  const controlnetRepo = 'demo/controlnet-tiny-sdxl';
  const imported = await options.hub.importFolder(controlnetRepo, join(FIXTURES, 'controlnet-tiny-sdxl'));
  log(`Serving ${controlnetRepo}@${imported.commitOid.slice(0, 8)}: config.json + diffusion_pytorch_model.safetensors, no ONNX`);

  const refs = await readReferences(join(FIXTURES, 'references', 'references.safetensors'));
  const params = JSON.parse(await readFile(join(FIXTURES, 'references', 'references.json'), 'utf8')).params as Record<string, number>;

  // What the loaders say about building: the ControlNet's graph, the UNet's rebuild.
  const builderLines: Logger = {
    debug() {},
    info: (m) => {
      if (/^(controlnet|unet): (no ONNX|chose|built|loaded the graph|rebuilt)/.test(m)) log(`  ${m}`);
    },
    warn: (m) => log(`  warn: ${m}`),
    error: (m) => log(`  error: ${m}`),
  };
  const pipe = await ModularPipeline.fromPretrained(sdxlRepo, {
    ...(options.componentsManager ? { componentsManager: options.componentsManager } : {}),
    collection: 'controlnet-demo',
    logger: builderLines,
  });
  await pipe.loadComponents();
  await pipe.loadComponents('controlnet', { repo: controlnetRepo });
  // diffusers' pipelines take guidance_scale per call; a modular pipeline keeps it on its guider.
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: params.guidance_scale! }) });

  const control = refs.uint8('text2img.control_image_uint8');
  const controlImage: RgbImage = { height: control.shape[0]!, width: control.shape[1]!, channels: 3, data: control.data };
  const inputs = {
    prompt_embeds: refs.float('text2img.prompt_embeds'),
    negative_prompt_embeds: refs.float('text2img.negative_prompt_embeds'),
    pooled_prompt_embeds: refs.float('text2img.pooled_prompt_embeds'),
    negative_pooled_prompt_embeds: refs.float('text2img.negative_pooled_prompt_embeds'),
    height: params.height,
    width: params.width,
    num_inference_steps: params.num_inference_steps,
    latents: refs.float('text2img.latents'),
  };
  const withControl = (await pipe.run({ ...inputs, control_image: controlImage, controlnet_conditioning_scale: params.controlnet_conditioning_scale, output: 'latents' })) as Tensor<'float32'>;
  const expected = refs.float('text2img.final_latents');
  const relativeError = relative(withControl, expected);
  const without = (await pipe.run({ ...inputs, output: 'latents' })) as Tensor<'float32'>;
  const movedBy = relative(without, withControl);
  log(
    `ControlNet text2img (scale ${params.controlnet_conditioning_scale}, ${params.num_inference_steps} steps, CFG ${params.guidance_scale}): ` +
      `latents within ${relativeError.toExponential(1)} of diffusers' StableDiffusionXLControlNetPipeline; without the ControlNet they move by ${(100 * movedBy).toFixed(0)}%`,
  );
  const [image] = (await pipe.run({ ...inputs, control_image: controlImage, controlnet_conditioning_scale: params.controlnet_conditioning_scale, output: 'images' })) as Array<{ save(path: string): Promise<void> }>;
  const imagePath = join(options.work, 'controlnet_out.png');
  await image!.save(imagePath);
  await saveImage(controlImage, join(options.work, 'controlnet_control.png'));
  log(`Wrote ${imagePath} (random weights: noise-like by design) and the control image controlnet_control.png`);
  await (pipe as { dispose?: () => Promise<void> }).dispose?.();
  return { relativeError, movedBy, imagePath };
}

function relative(actual: Tensor<'float32'>, expected: Tensor<'float32'>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) {
    diff = Math.max(diff, Math.abs(actual.data[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  return diff / scale;
}

/** The fixture's references.safetensors, read by the format's rules (8-byte length, JSON header, raw LE bytes). */
async function readReferences(path: string) {
  const raw = await readFile(path);
  const length = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + length).toString('utf8')) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
  const bytes = (name: string) => {
    const entry = header[name];
    if (!entry) throw new Error(`No reference '${name}' in ${path}`);
    const [start, end] = entry.data_offsets.map((o) => raw.byteOffset + 8 + length + o) as [number, number];
    return { buffer: raw.buffer.slice(start, end), shape: entry.shape };
  };
  return {
    float: (name: string) => {
      const { buffer, shape } = bytes(name);
      return new Tensor('float32', new Float32Array(buffer), shape);
    },
    uint8: (name: string) => {
      const { buffer, shape } = bytes(name);
      return { data: new Uint8Array(buffer), shape };
    },
  };
}
