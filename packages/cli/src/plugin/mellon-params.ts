/**
 * The parameter vocabulary of Mellon (the node-graph UI diffusers exports
 * to), as diffusers' `mellon_node_utils.py` defines it: the standard params by
 * name, and the generic input/output kinds for custom blocks. A param lists
 * the block params it needs (`requiredBlockParams`) so a node only shows
 * what its block actually takes.
 */

/** One Mellon param, in the key order diffusers' `MellonParam.to_dict()` writes. */
export interface MellonParam {
  name: string;
  label: string;
  type: string;
  display?: string;
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  options?: unknown;
  value?: unknown;
  fieldOptions?: Record<string, unknown>;
  onChange?: unknown;
  onSignal?: unknown;
  requiredBlockParams?: readonly string[];
}

const KEY_ORDER = ['label', 'type', 'display', 'default', 'min', 'max', 'step', 'options', 'value', 'fieldOptions', 'onChange', 'onSignal'] as const;

/** The JSON Mellon reads: unset fields, `name` and `requiredBlockParams` left out. */
export function mellonParamToDict(param: MellonParam): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) if (param[key] !== undefined && param[key] !== null) out[key] = param[key];
  return out;
}

type Template = Omit<MellonParam, 'name'> & { name?: string };

const TEMPLATES: Record<string, Template> = {
  image: { label: 'Image', type: 'image', display: 'input', requiredBlockParams: ['image'] },
  images: { label: 'Images', type: 'image', display: 'output', requiredBlockParams: ['images'] },
  control_image: { label: 'Control Image', type: 'image', display: 'input', requiredBlockParams: ['control_image'] },
  latents: { label: 'Latents', type: 'latents', display: 'input', requiredBlockParams: ['latents'] },
  image_latents: { label: 'Image Latents', type: 'latents', display: 'input', requiredBlockParams: ['image_latents'] },
  first_frame_latents: { label: 'First Frame Latents', type: 'latents', display: 'input', requiredBlockParams: ['first_frame_latents'] },
  latents_preview: { label: 'Latents Preview', type: 'latent', display: 'output' },
  image_latents_with_strength: {
    name: 'image_latents',
    label: 'Image Latents',
    type: 'latents',
    display: 'input',
    onChange: { false: ['height', 'width'], true: ['strength'] },
    requiredBlockParams: ['image_latents', 'strength'],
  },
  embeddings: { label: 'Text Embeddings', type: 'embeddings', display: 'output' },
  image_embeds: { label: 'Image Embeddings', type: 'image_embeds', display: 'output', requiredBlockParams: ['image_embeds'] },
  prompt: { label: 'Prompt', type: 'string', display: 'textarea', default: '', requiredBlockParams: ['prompt'] },
  negative_prompt: { label: 'Negative Prompt', type: 'string', display: 'textarea', default: '', requiredBlockParams: ['negative_prompt'] },
  guidance_scale: { label: 'Guidance Scale', type: 'float', display: 'slider', default: 5.0, min: 1.0, max: 30.0, step: 0.1 },
  strength: { label: 'Strength', type: 'float', default: 0.5, min: 0.0, max: 1.0, step: 0.01, requiredBlockParams: ['strength'] },
  height: { label: 'Height', type: 'int', default: 1024, min: 64, step: 8, requiredBlockParams: ['height'] },
  width: { label: 'Width', type: 'int', default: 1024, min: 64, step: 8, requiredBlockParams: ['width'] },
  seed: { label: 'Seed', type: 'int', default: 0, min: 0, max: 4294967295, display: 'random', requiredBlockParams: ['generator'] },
  num_inference_steps: { label: 'Steps', type: 'int', default: 25, min: 1, max: 100, display: 'slider', requiredBlockParams: ['num_inference_steps'] },
  num_frames: { label: 'Frames', type: 'int', default: 81, min: 1, max: 480, display: 'slider', requiredBlockParams: ['num_frames'] },
  videos: { label: 'Videos', type: 'video', display: 'output', requiredBlockParams: ['videos'] },
  vae: { label: 'VAE', type: 'diffusers_auto_model', display: 'input', requiredBlockParams: ['vae'] },
  unet: { label: 'Denoise Model', type: 'diffusers_auto_model', display: 'input' },
  scheduler: { label: 'Scheduler', type: 'diffusers_auto_model', display: 'input' },
  text_encoders: { label: 'Text Encoders', type: 'diffusers_auto_models', display: 'input', requiredBlockParams: ['text_encoder'] },
  controlnet_bundle: { label: 'ControlNet', type: 'custom_controlnet', display: 'input', requiredBlockParams: ['controlnet_image'] },
  guider: { label: 'Guider', type: 'custom_guider', display: 'input', onChange: { false: ['guidance_scale'], true: [] } },
  doc: { label: 'Doc', type: 'string', display: 'output' },
};

/** A standard param by template name, with overrides (diffusers' `MellonParam.<template>(**overrides)`). */
export function mellonParam(template: string, overrides: Partial<MellonParam> = {}): MellonParam {
  const t = TEMPLATES[template];
  if (!t) throw new Error(`No Mellon param template '${template}'.`);
  return { ...t, name: t.name ?? template, ...overrides };
}

/** `diffdiff_map` -> `Diffdiff Map` (Python's str.title over the words). */
export function nameToLabel(name: string): string {
  return name.replace(/_/g, ' ').toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase());
}

const isFloat = (value: unknown) => typeof value === 'number' && !Number.isInteger(value);

/** Generic inputs for custom blocks, by the kind named in an input's `metadata.mellon`. */
export function mellonInput(kind: string | null, name: string, defaultValue: unknown): MellonParam {
  const label = nameToLabel(name);
  switch (kind) {
    case 'image':
      return { name, label, type: 'image', display: 'input' };
    case 'textbox':
      return { name, label, type: 'string', display: 'textarea', default: defaultValue || '' };
    case 'dropdown': {
      const value = defaultValue || '';
      return { name, label, type: 'string', options: [value], value };
    }
    case 'slider': {
      const value = (defaultValue as number) || 0;
      return { name, label, type: isFloat(value) ? 'float' : 'int', display: 'slider', default: value, min: value, max: value, step: isFloat(value) ? 0.01 : 1 };
    }
    case 'number': {
      const value = (defaultValue as number) || 0;
      return { name, label, type: isFloat(value) ? 'float' : 'int', default: value };
    }
    case 'seed':
      return { name, label, type: 'int', display: 'random', default: defaultValue || 0, min: 0, max: 4294967295 };
    case 'checkbox':
      return { name, label, type: 'boolean', value: defaultValue || false };
    case 'model':
      return { name, label, type: 'diffusers_auto_model', display: 'input' };
    default:
      // Anything else is a connection dot in Mellon.
      return { name, label, type: 'custom', display: 'input' };
  }
}

/** Generic outputs for custom blocks, by `metadata.mellon` (image, video, text, model; else a connection). */
export function mellonOutput(kind: string | null, name: string): MellonParam {
  const label = nameToLabel(name);
  const types: Record<string, string> = { image: 'image', video: 'video', text: 'string', model: 'diffusers_auto_model' };
  return { name, label, type: (kind && types[kind]) || 'custom', display: 'output' };
}
