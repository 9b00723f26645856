import { afterEach, describe, expect, it } from 'vitest';
import { ComponentLoadError } from '../errors.js';
import { ComponentSpec } from './component-spec.js';
import { ComponentLoaderRegistry, defaultLoaderRegistry } from './loader-registry.js';
import { setDefaultRepoResolver, type RepoResolver } from './repo-resolver.js';

describe('ComponentLoaderRegistry', () => {
  afterEach(() => setDefaultRepoResolver(null));

  it('prefers a library-specific loader, then an any-library one, then the parent', () => {
    const parent = new ComponentLoaderRegistry().register({ type: 'Tok', fromConfig: () => 'parent' });
    const child = new ComponentLoaderRegistry(parent)
      .register({ type: 'Tok', library: 'transformers', fromConfig: () => 'transformers' })
      .register({ type: 'Sched', fromConfig: () => 'any' });
    expect(child.get('Tok', 'transformers')?.fromConfig?.({}, null as never, null as never)).toBe('transformers');
    expect(child.get('Tok', 'diffusers')?.fromConfig?.({}, null as never, null as never)).toBe('parent');
    expect(child.get('Sched', 'diffusers')?.fromConfig?.({}, null as never, null as never)).toBe('any');
    expect(child.has('Nope')).toBe(false);
    expect(child.list().map((l) => `${l.library ?? '*'}:${l.type}`).sort()).toEqual(['*:Sched', '*:Tok', 'transformers:Tok']);
    expect(child.unregister('Sched')).toBe(true);
    expect(child.has('Sched')).toBe(false);
  });

  it('rejects loaders without a type or a factory', () => {
    const registry = new ComponentLoaderRegistry();
    expect(() => registry.register({ type: '' } as never)).toThrow(TypeError);
    expect(() => registry.register({ type: 'X' })).toThrow(/needs fromConfig\(\) and\/or fromPretrained\(\)/);
  });

  it('gives loaders a resolve() that uses the installed repo resolver, or explains how to get one', async () => {
    const registry = new ComponentLoaderRegistry().register({
      type: 'Vae',
      fromPretrained: async (_spec, context) => context.resolve(),
    });
    const spec = new ComponentSpec('vae', 'Vae', { repo: 'org/sdxl', subfolder: 'vae_decoder', revision: 'abc' });
    await expect(registry.fromPretrained(spec)).rejects.toThrow(ComponentLoadError);
    await expect(registry.fromPretrained(spec)).rejects.toThrow(/call installHub\(\) from '@modular-diffusers\/hub'/i);
    const resolver: RepoResolver = {
      resolve: async (location) => ({ ...location, path: `/cache/${location.repo}/${location.subfolder}`, commit: 'c0ffee' }),
    };
    setDefaultRepoResolver(resolver);
    expect(await registry.fromPretrained(spec)).toEqual({
      repo: 'org/sdxl',
      subfolder: 'vae_decoder',
      revision: 'abc',
      variant: null,
      path: '/cache/org/sdxl/vae_decoder',
      commit: 'c0ffee',
    });
  });

  it('exposes one global default registry', () => {
    expect(defaultLoaderRegistry).toBeInstanceOf(ComponentLoaderRegistry);
  });
});
