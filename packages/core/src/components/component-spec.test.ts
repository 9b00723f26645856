import { describe, expect, it } from 'vitest';
import { ComponentLoadError, InvalidArgumentError, LoaderNotFoundError } from '../errors.js';
import { ComponentSpec } from './component-spec.js';
import { getLoadId, tagLoadId } from './load-id.js';
import { ComponentLoaderRegistry } from './loader-registry.js';

describe('ComponentSpec', () => {
  it('constructs the guide way, defaults to fromPretrained, and aliases repo', () => {
    const spec = new ComponentSpec('mask_processor', 'VaeImageProcessor', {
      config: { do_normalize: false },
      defaultCreationMethod: 'fromConfig',
    });
    expect(spec.typeName).toBe('VaeImageProcessor');
    expect(spec.defaultCreationMethod).toBe('fromConfig');
    const unet = new ComponentSpec({ name: 'unet', type: 'UNet2DConditionModel', repo: 'org/sdxl', subfolder: 'unet' });
    expect(unet.defaultCreationMethod).toBe('fromPretrained');
    expect(unet.pretrainedModelNameOrPath).toBe('org/sdxl');
    unet.repo = 'org/other';
    expect(unet.pretrainedModelNameOrPath).toBe('org/other');
    expect(() => new ComponentSpec({ name: 'x', repo: 'a', pretrainedModelNameOrPath: 'b' })).toThrow(InvalidArgumentError);
    expect(() => new ComponentSpec({ name: 'x', defaultCreationMethod: 'from_config' as never })).toThrow(/must be 'fromConfig' or 'fromPretrained'/);
  });

  it('writes load ids as repo|subfolder|variant|revision with null, and "null" for fromConfig', () => {
    expect(new ComponentSpec({ name: 'unet', repo: 'org/sdxl', subfolder: 'unet' }).loadId).toBe('org/sdxl|unet|null|null');
    expect(new ComponentSpec({ name: 'unet', repo: 'r', subfolder: 's', variant: 'fp16', revision: 'main' }).loadId).toBe('r|s|fp16|main');
    expect(new ComponentSpec({ name: 'unet' }).loadId).toBe('null|null|null|null');
    expect(new ComponentSpec({ name: 'g', repo: 'r', defaultCreationMethod: 'fromConfig' }).loadId).toBe('null');
    expect(ComponentSpec.decodeLoadId('r|unet|null|main')).toEqual({
      pretrainedModelNameOrPath: 'r',
      subfolder: 'unet',
      variant: null,
      revision: 'main',
    });
    expect(ComponentSpec.decodeLoadId('null').pretrainedModelNameOrPath).toBeNull();
  });

  it('is equal by name, load id and creation method, not by type', () => {
    const a = new ComponentSpec('controlnet', 'ControlNetUnionModel');
    expect(a.equals(new ComponentSpec('controlnet', 'ControlNetModel'))).toBe(true);
    expect(a.equals(new ComponentSpec('controlnet', 'ControlNetModel', { repo: 'x' }))).toBe(false);
    expect(a.equals(new ComponentSpec('controlnet', 'ControlNetModel', { defaultCreationMethod: 'fromConfig' }))).toBe(false);
    expect(a.equals(new ComponentSpec('other', 'ControlNetUnionModel'))).toBe(false);
  });

  it('creates from config through the registry, merging overrides over the spec config', () => {
    const registry = new ComponentLoaderRegistry().register({ type: 'Guider', fromConfig: (config) => ({ config }) });
    const spec = new ComponentSpec('guider', 'Guider', { config: { guidance_scale: 7.5, rescale: 0 }, defaultCreationMethod: 'fromConfig' });
    const guider = spec.create({ guidance_scale: 5 }, { registry }) as { config: object };
    expect(guider.config).toEqual({ guidance_scale: 5, rescale: 0 });
    expect(getLoadId(guider)).toBe('null');
    expect(() => new ComponentSpec('x', 'Unknown', { defaultCreationMethod: 'fromConfig' }).create(null, { registry })).toThrow(LoaderNotFoundError);
  });

  it('uses a class type directly: static fromConfig, or the constructor with the config', () => {
    class WithFactory {
      constructor(readonly config: Record<string, unknown>) {}
      static fromConfig(config: Record<string, unknown>) {
        return new WithFactory({ ...config, viaFactory: true });
      }
    }
    class Plain {
      constructor(readonly config: Record<string, unknown>) {}
    }
    const registry = new ComponentLoaderRegistry();
    expect((new ComponentSpec('a', WithFactory, { config: { x: 1 } }).create(null, { registry }) as WithFactory).config).toEqual({ x: 1, viaFactory: true });
    expect((new ComponentSpec('b', Plain, { config: { y: 2 } }).create(null, { registry }) as Plain).config).toEqual({ y: 2 });
  });

  it('loads through the registry, writing overriding loading fields back and tagging the load id', async () => {
    const seen: unknown[] = [];
    const registry = new ComponentLoaderRegistry().register({
      type: 'UNet2DConditionModel',
      fromPretrained: async (spec, context) => {
        seen.push([spec.loadId, context.options]);
        return { kind: 'unet' };
      },
    });
    const spec = new ComponentSpec('unet', 'UNet2DConditionModel', { repo: 'org/sdxl', subfolder: 'unet' });
    const unet = await spec.load({ registry, variant: 'fp16', dtype: 'float16' });
    expect(seen).toEqual([['org/sdxl|unet|fp16|null', { dtype: 'float16' }]]);
    expect(spec.variant).toBe('fp16');
    expect(getLoadId(unet)).toBe('org/sdxl|unet|fp16|null');
    await expect(new ComponentSpec('unet', 'UNet2DConditionModel').load({ registry })).rejects.toThrow(ComponentLoadError);
    await expect(new ComponentSpec('vae', 'AutoencoderKL', { repo: 'r' }).load({ registry })).rejects.toThrow(LoaderNotFoundError);
    // Closed options: a typo is refused with the meant name; a custom loader's settings go in loaderOptions.
    // @ts-expect-error
    await expect(spec.load({ registry, torch_dtype: 'float16' })).rejects.toThrow("ComponentSpec.load: unknown option 'torch_dtype'. Did you mean 'torchDtype'?");
    seen.length = 0;
    await spec.load({ registry, loaderOptions: { quantize: 'int8' }, dtype: 'float16' });
    expect(seen).toEqual([['org/sdxl|unet|fp16|null', { quantize: 'int8', dtype: 'float16' }]]);
  });

  it('derives a spec from a component object (fromComponent)', () => {
    class Unet {}
    const loaded = new Unet();
    tagLoadId(loaded, 'org/sdxl|unet|null|null');
    const fromLoaded = ComponentSpec.fromComponent('unet', loaded);
    expect(fromLoaded.defaultCreationMethod).toBe('fromPretrained');
    expect(fromLoaded.loadId).toBe('org/sdxl|unet|null|null');
    expect(fromLoaded.type).toBe(Unet);
    const configured = ComponentSpec.fromComponent('guider', { config: { guidance_scale: 3 } });
    expect(configured.defaultCreationMethod).toBe('fromConfig');
    expect(configured.config).toEqual({ guidance_scale: 3 });
    expect(() => ComponentSpec.fromComponent('x', new Unet())).toThrow(/Cannot derive a ComponentSpec for 'x'/);
  });
});
