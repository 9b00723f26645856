/**
 * The Python library a component class belongs to, for the `type_hint: [library, class]` of a
 * saved `modular_model_index.json`. diffusers resolves the class from that pair and drops it when
 * the library is null (then depends on AutoModel guessing), so the writer fills in the library of
 * the classes SDXL pipelines use when a spec does not name one.
 */
const TRANSFORMERS = new Set([
  'CLIPTextModel',
  'CLIPTextModelWithProjection',
  'CLIPTokenizer',
  'CLIPTokenizerFast',
  'CLIPVisionModel',
  'CLIPVisionModelWithProjection',
  'CLIPImageProcessor',
  'T5EncoderModel',
  'T5TokenizerFast',
]);

const DIFFUSERS = new Set([
  'UNet2DConditionModel',
  'AutoencoderKL',
  'AutoencoderTiny',
  'ControlNetModel',
  'ControlNetUnionModel',
  'MultiControlNetModel',
  'VaeImageProcessor',
  'AutoModel',
]);

export function libraryOfType(typeName: string | null | undefined): string | null {
  if (!typeName) return null;
  if (TRANSFORMERS.has(typeName)) return 'transformers';
  if (DIFFUSERS.has(typeName) || /Scheduler$/.test(typeName) || /Guidance$/.test(typeName)) return 'diffusers';
  return null;
}
