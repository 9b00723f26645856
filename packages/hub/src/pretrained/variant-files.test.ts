import { describe, expect, it } from 'vitest';
import { selectVariantFiles } from './variant-files.js';

const UNET = ['unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data', 'unet/model.fp16.onnx', 'unet/model.fp16.onnx_data'];

describe('selectVariantFiles (diffusers variant rule)', () => {
  it('leaves variant files out when no variant is asked for', () => {
    expect(selectVariantFiles(UNET, null)).toEqual(['unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data']);
  });

  it('takes <name>.<variant>.<ext> instead of the plain file when a variant is asked for', () => {
    expect(selectVariantFiles(UNET, 'fp16')).toEqual(['unet/config.json', 'unet/model.fp16.onnx', 'unet/model.fp16.onnx_data']);
  });

  it('keeps plain files of stems that have no file of the variant, and drops other variants', () => {
    const files = ['vae/config.json', 'vae/model.onnx', 'vae/model.bf16.onnx'];
    expect(selectVariantFiles(files, 'fp16')).toEqual(['vae/config.json', 'vae/model.onnx']);
  });

  it('keeps names whose middle part is not a variant (model.onnx.data) and dotted configs', () => {
    const files = ['text_encoder/model.onnx', 'text_encoder/model.onnx.data', 'text_encoder/tokenizer_config.json', 'text_encoder/special_tokens_map.json'];
    expect(selectVariantFiles(files, null)).toEqual(files);
  });

  it('treats a variant-only file as the only file there is', () => {
    expect(selectVariantFiles(['unet/model.fp16.onnx', 'unet/config.json'], null)).toEqual(['unet/model.fp16.onnx', 'unet/config.json']);
  });

  it('recognises sharded variant names', () => {
    const files = ['unet/m.safetensors', 'unet/m.fp16-00001-of-00002.safetensors', 'unet/m.fp16-00002-of-00002.safetensors'];
    expect(selectVariantFiles(files, null)).toEqual(['unet/m.safetensors']);
    expect(selectVariantFiles(files, 'fp16')).toEqual(files.slice(1));
  });
});
