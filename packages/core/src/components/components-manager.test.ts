import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import { matchesComponentPattern } from './component-pattern.js';
import { ComponentsManager, type ComponentsManagerEvent } from './components-manager.js';
import { tagLoadId } from './load-id.js';

class Model {
  constructor(
    readonly sizeBytes: number,
    readonly device = 'cpu',
  ) {}
}

describe('matchesComponentPattern', () => {
  it('supports exact, negation, prefix, suffix, contains and alternatives', () => {
    expect(matchesComponentPattern('unet', 'unet')).toBe(true);
    expect(matchesComponentPattern('unet_2', 'unet')).toBe(false);
    expect(matchesComponentPattern('vae', '!unet')).toBe(true);
    expect(matchesComponentPattern('unet', '!unet')).toBe(false);
    expect(matchesComponentPattern('text_encoder_2', 'text*')).toBe(true);
    expect(matchesComponentPattern('text_encoder_2', '*_2')).toBe(true);
    expect(matchesComponentPattern('text_encoder_2', '*encoder*')).toBe(true);
    expect(matchesComponentPattern('vae', 'refiner|vae|unet')).toBe(true);
    expect(matchesComponentPattern('vae', '!refiner|vae|unet')).toBe(false);
    expect(matchesComponentPattern('vae_decoder', 'unet*|vae*')).toBe(true);
  });
});

describe('ComponentsManager', () => {
  it('adds with name_<counter> ids, reuses the id for the same object and name, gets and removes', () => {
    const manager = new ComponentsManager(new MemoryLogger());
    const unet = new Model(10);
    const id = manager.add('unet', unet);
    expect(id).toBe('unet_1');
    expect(manager.add('unet', unet)).toBe('unet_1');
    expect(manager.size).toBe(1);
    expect(manager.get(id)).toBe(unet);
    expect(manager.getOne('unet')).toBe(unet);
    expect(manager.getOne({ id })).toBe(unet);
    expect(manager.remove(id)).toBe(true);
    expect(() => manager.get(id)).toThrow(NotFoundError);
    expect(() => manager.add('x', null)).toThrow(InvalidArgumentError);
  });

  it('keeps one component per name in a collection, dropping components no collection holds', () => {
    const manager = new ComponentsManager(new MemoryLogger());
    const first = manager.add('unet', new Model(1), { collection: 'base' });
    const second = manager.add('unet', new Model(2), { collection: 'base' });
    expect(manager.has(first)).toBe(false);
    expect(manager.searchIds('unet', { collection: 'base' })).toEqual([second]);
    const shared = manager.add('vae', new Model(3), { collection: 'base' });
    manager.add('vae', manager.get(shared), { collection: 'refiner' });
    manager.removeFromCollection(shared, 'base');
    expect(manager.has(shared)).toBe(true);
    expect(manager.info(shared).collections).toEqual(['refiner']);
  });

  it('searches by pattern, collection and load id; getOne insists on exactly one', () => {
    const manager = new ComponentsManager(new MemoryLogger());
    const te = new Model(1);
    tagLoadId(te, 'org/sdxl|text_encoder|null|null');
    manager.add('text_encoder', te, { collection: 'a' });
    manager.add('text_encoder_2', new Model(2), { collection: 'a' });
    manager.add('unet', new Model(3), { collection: 'b' });
    expect(Object.keys(manager.search('text*'))).toEqual(['text_encoder', 'text_encoder_2']);
    expect(Object.keys(manager.search('!text*'))).toEqual(['unet']);
    expect(Object.keys(manager.search(null, { collection: 'a' }))).toEqual(['text_encoder', 'text_encoder_2']);
    expect(manager.findByLoadId('org/sdxl|text_encoder|null|null')).toEqual(['text_encoder_1']);
    expect(manager.findByLoadId('null')).toEqual([]);
    expect(Object.keys(manager.search('encoder'))).toEqual(['text_encoder', 'text_encoder_2']); // bare substring fallback
    expect(() => manager.getOne('text*')).toThrow(/Expected one component/);
    manager.add('unet', new Model(4), { collection: 'c' });
    expect(() => manager.search('unet')).toThrow(/Several components are named 'unet'/);
  });

  it('reports size/device, renders a summary table and emits add/remove/beforeUse events', () => {
    const manager = new ComponentsManager(new MemoryLogger());
    const events: ComponentsManagerEvent['type'][] = [];
    const off = manager.on((e) => events.push(e.type));
    const unet = new Model(3 * 1024 * 1024, 'cuda');
    tagLoadId(unet, 'org/sdxl|unet|null|null');
    const id = manager.add('unet', unet, { collection: 'sdxl' });
    manager.notifyBeforeUse(unet);
    expect(manager.info(id)).toMatchObject({ className: 'Model', device: 'cuda', sizeBytes: 3 * 1024 * 1024, loadId: 'org/sdxl|unet|null|null' });
    expect(manager.totalSizeBytes()).toBe(3 * 1024 * 1024);
    const summary = manager.summary();
    expect(summary.split('\n')[1]).toBe('Name_ID | Class | Device | Size     | State | Load ID                 | Collection');
    expect(summary).toContain('unet_1  | Model | cuda   | 3.00 MiB | -     | org/sdxl|unet|null|null | sdxl');
    manager.remove(id);
    off();
    manager.add('vae', new Model(1));
    expect(events).toEqual(['add', 'beforeUse', 'remove']);
  });
});
