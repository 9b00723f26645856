import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { getLogger, type Logger } from '../logger.js';
import { formatBytes, formatTable } from '../util/format-table.js';
import { inspectSymbol } from '../util/inspect.js';
import { AutoOffloader, type ManagedEntry, type ResidencyEvent } from './auto-offload.js';
import { isBarePattern, matchesComponentPattern } from './component-pattern.js';
import { getLoadId } from './load-id.js';
import { parseMemoryBudget } from './memory-budget.js';
import { isOffloadable } from './offloadable-component.js';

export interface ComponentInfo {
  id: string;
  name: string;
  className: string;
  /** `component.device` or `component.provider` when it has one (e.g. an ONNX session's execution provider). */
  device: string | null;
  /** `component.sizeBytes` when it has one: what a memory budget would count. */
  sizeBytes: number | null;
  /** For an offloadable component, whether its sessions exist now; null for others. */
  resident: boolean | null;
  /** The device a pipeline pinned it to (`perComponent: { vae: { device: 'cpu' } }`), if any. */
  pinnedDevice: string | null;
  loadId: string | null;
  collections: string[];
  addedAt: number;
}

export type ComponentsManagerEvent =
  | { type: 'add'; id: string; name: string; component: unknown; collection: string | null }
  | { type: 'remove'; id: string; name: string; component: unknown }
  | { type: 'beforeUse'; id: string; name: string; component: unknown }
  | ResidencyEvent;

export type ComponentsManagerListener = (event: ComponentsManagerEvent) => void;

export interface AddComponentOptions {
  collection?: string | null;
  /** Overrides the load id the engine recorded for the object. */
  loadId?: string | null;
  /** Pins the component to a device: auto offload then keeps it there and outside the budget (unless it is the budget's device). */
  device?: string | null;
}

/** The devices auto offload can target (the runtime's execution-provider choices). */
export const OFFLOAD_DEVICES = ['cpu', 'cuda', 'webgpu', 'auto'] as const;

export interface AutoOffloadOptions {
  /** Where used components live: 'cuda', 'webgpu', 'cpu' or 'auto' (default 'auto'). */
  device?: string;
  /** Most bytes of counted components resident at once: bytes, or a size such as '6GB' / '512MiB'. */
  memoryBudget: number | string;
  /**
   * What to do when a component is larger than the whole budget, so no set of evictions makes room:
   * 'throw' (default) raises a MemoryBudgetError before anything moves or runs, naming the component
   * and the smallest budget that works; 'offloadAll' does what diffusers' auto offload does: warns,
   * offloads every other counted component and runs that one anyway, over the budget.
   */
  overBudget?: OverBudgetPolicy;
}

export type OverBudgetPolicy = 'throw' | 'offloadAll';

export interface AutoOffloadSettings {
  device: string;
  memoryBudgetBytes: number;
  overBudget: OverBudgetPolicy;
}

export interface ComponentQuery {
  id?: string;
  name?: string;
  collection?: string;
  loadId?: string;
}

interface Entry extends ManagedEntry {
  id: string;
  name: string;
  component: unknown;
  pin: string | null;
  loadId: string | null;
  collections: Set<string>;
  addedAt: number;
}

/**
 * A registry of loaded components shared by pipelines: ids are
 * `<name>_<counter>`, components are grouped in collections (at most one per
 * name in a collection), and pipelines with the same manager reuse a
 * component whose load id matches instead of loading it twice. With
 * `enableAutoOffload` it keeps the resident components within a memory
 * budget (see auto-offload.ts for the rule).
 */
export class ComponentsManager {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<ComponentsManagerListener>();
  private counter = 0;
  private offloader: AutoOffloader | null = null;

  constructor(private readonly logger: Logger = getLogger()) {}

  /** Adds a component (or re-adds the same object under the same name) and returns its id. */
  add(name: string, component: unknown, options: AddComponentOptions = {}): string {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('ComponentsManager.add needs a component name.');
    if (component === null || component === undefined) {
      throw new InvalidArgumentError(`ComponentsManager.add('${name}'): the component is ${component}; load it first.`);
    }
    const collection = options.collection ?? null;
    let entry = [...this.entries.values()].find((e) => e.component === component && e.name === name);
    const isNew = !entry;
    const pin = options.device == null ? options.device : checkDevice(options.device, `ComponentsManager.add('${name}')`);
    if (!entry && this.offloader) {
      // Fail before the component joins, so a budget too small for it is an error at load time, not mid-run.
      this.offloader.checkFits([{ id: `${name}_${this.counter + 1}`, name, component, pin: pin ?? null }]);
    }
    if (!entry) {
      for (const other of this.entries.values()) {
        if (other.component === component) {
          this.logger.warn(`ComponentsManager: '${name}' is the same object as '${other.id}'; remove one with manager.remove(id) if that is not intended.`);
        }
      }
      entry = {
        id: `${name}_${++this.counter}`,
        name,
        component,
        pin: pin ?? null,
        loadId: options.loadId ?? getLoadId(component),
        collections: new Set(),
        addedAt: Date.now(),
      };
      this.entries.set(entry.id, entry);
    } else {
      if (options.loadId) entry.loadId = options.loadId;
      if (pin !== undefined) this.setDevicePin(entry.id, pin);
    }
    if (collection && !entry.collections.has(collection)) {
      for (const other of [...this.entries.values()]) {
        if (other !== entry && other.name === name && other.collections.has(collection)) {
          this.logger.info(`ComponentsManager: replacing '${other.id}' with '${entry.id}' in collection '${collection}'.`);
          this.removeFromCollection(other.id, collection);
        }
      }
      entry.collections.add(collection);
    }
    if (isNew) {
      this.emit({ type: 'add', id: entry.id, name, component, collection });
      this.offloader?.added(entry).catch((error: unknown) => this.reportOffloadError(error));
    }
    return entry.id;
  }

  /** Drops a component entirely. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.offloader?.removed(entry);
    this.emit({ type: 'remove', id, name: entry.name, component: entry.component });
    return true;
  }

  /** Takes a component out of one collection; it is dropped when no collection holds it any more. */
  removeFromCollection(id: string, collection: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.collections.delete(collection);
    if (entry.collections.size === 0) this.remove(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): unknown {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`No component with id '${id}'. Known ids: ${this.ids().join(', ') || '(none)'}.`);
    return entry.component;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** The id under which `component` is registered, if any. */
  idOf(component: unknown, name?: string): string | null {
    for (const e of this.entries.values()) if (e.component === component && (name === undefined || e.name === name)) return e.id;
    return null;
  }

  /** Ids whose base name matches `pattern` (see matchesComponentPattern), optionally in a collection / with a load id. */
  searchIds(pattern?: string | null, filter: { collection?: string | null; loadId?: string | null } = {}): string[] {
    const pool = [...this.entries.values()].filter(
      (e) => (!filter.collection || e.collections.has(filter.collection)) && (!filter.loadId || e.loadId === filter.loadId),
    );
    if (pattern === undefined || pattern === null) return pool.map((e) => e.id);
    if (typeof pattern !== 'string') throw new InvalidArgumentError('Component name patterns must be strings.');
    let hits = pool.filter((e) => matchesComponentPattern(e.name, pattern));
    // A bare word that is no component's exact name also matches as a substring, as in diffusers.
    if (hits.length === 0 && isBarePattern(pattern)) hits = pool.filter((e) => e.name.includes(pattern));
    return hits.map((e) => e.id);
  }

  /** Components by base name; two matches with one name make it ambiguous, so use `searchIds` then. */
  search(pattern?: string | null, filter: { collection?: string | null; loadId?: string | null } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const id of this.searchIds(pattern, filter)) {
      const entry = this.entries.get(id)!;
      if (entry.name in out) {
        throw new InvalidArgumentError(
          `Several components are named '${entry.name}' (${this.searchIds(entry.name, filter).join(', ')}); narrow the search with a collection or use searchIds().`,
        );
      }
      out[entry.name] = entry.component;
    }
    return out;
  }

  /** Exactly one component matching the query, or a NotFoundError saying what matched. */
  getOne(query: string | ComponentQuery): unknown {
    const q: ComponentQuery = typeof query === 'string' ? { name: query } : query;
    if (q.id) {
      const component = this.get(q.id);
      return component;
    }
    const ids = this.searchIds(q.name ?? null, { collection: q.collection, loadId: q.loadId });
    if (ids.length !== 1) {
      throw new NotFoundError(
        `Expected one component matching ${JSON.stringify(q)}, found ${ids.length}${ids.length ? ` (${ids.join(', ')})` : ''}.`,
      );
    }
    return this.entries.get(ids[0]!)!.component;
  }

  /** Ids of components loaded from `loadId` ('null' never matches: from-config objects are not shared). */
  findByLoadId(loadId: string): string[] {
    if (!loadId || loadId === 'null') return [];
    return [...this.entries.values()].filter((e) => e.loadId === loadId).map((e) => e.id);
  }

  info(id: string): ComponentInfo {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`No component with id '${id}'.`);
    const c = entry.component as { sizeBytes?: unknown; device?: unknown; provider?: unknown; constructor?: { name?: string } };
    const device = typeof c.device === 'string' ? c.device : typeof c.provider === 'string' ? c.provider : null;
    return {
      id,
      name: entry.name,
      className: c?.constructor?.name ?? typeof entry.component,
      device,
      sizeBytes: typeof c.sizeBytes === 'number' ? c.sizeBytes : null,
      resident: isOffloadable(entry.component) ? entry.component.isResident : null,
      pinnedDevice: entry.pin,
      loadId: entry.loadId,
      collections: [...entry.collections],
      addedAt: entry.addedAt,
    };
  }

  /** Total `sizeBytes` of the components that report one. */
  totalSizeBytes(): number {
    return this.ids().reduce((sum, id) => sum + (this.info(id).sizeBytes ?? 0), 0);
  }

  /** Subscribes to add/remove/beforeUse; returns the unsubscribe function. */
  on(listener: ComponentsManagerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Pipelines call this when a block reaches for a component, so a memory budget can make room first. */
  notifyBeforeUse(component: unknown): void {
    if (this.listeners.size === 0) return;
    for (const e of this.entries.values()) {
      if (e.component === component) this.emit({ type: 'beforeUse', id: e.id, name: e.name, component });
    }
  }

  // ---- memory budget -----------------------------------------------------------------------

  /**
   * Keeps the resident offloadable components within `memoryBudget` bytes
   * on `device`: right before a component runs it is made resident there,
   * evicting others by the rule in offload-strategy.ts (fewest evictions,
   * then smallest total, then least recently used; the components the
   * current block needs are evicted last). Components pinned to another
   * device stay there and are not counted. Rejects with a MemoryBudgetError,
   * before anything moves, when a registered component is larger than the
   * whole budget; components added later are checked when added. Resolves
   * once what is resident fits.
   */
  async enableAutoOffload(options: AutoOffloadOptions): Promise<void> {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError("enableAutoOffload needs options: { memoryBudget: '6GB', device: 'cuda' }.");
    }
    const device = checkDevice(options.device ?? 'auto', 'enableAutoOffload');
    const budget = parseMemoryBudget(options.memoryBudget);
    const overBudget = options.overBudget ?? 'throw';
    if (overBudget !== 'throw' && overBudget !== 'offloadAll') {
      throw new InvalidArgumentError(`enableAutoOffload: overBudget must be 'throw' or 'offloadAll', got ${JSON.stringify(overBudget)}.`);
    }
    const offloader = new AutoOffloader(device, budget, {
      entries: () => this.entries.values(),
      emit: (event) => this.emit(event),
      logger: this.logger,
    }, overBudget);
    offloader.checkFits(this.entries.values());
    this.offloader?.stop();
    this.offloader = offloader;
    await offloader.start();
  }

  /**
   * diffusers' `components.enable_auto_cpu_offload()`: auto offload where, without a budget, the
   * budget is the largest registered model, so about one model is resident on the device at a
   * time and the rest wait offloaded (ONNX Runtime cannot report free device memory, which is
   * what diffusers sizes its budget from). Call it after the components are loaded.
   */
  async enableAutoCpuOffload(options: { device?: string; memoryBudget?: number | string; overBudget?: OverBudgetPolicy } = {}): Promise<void> {
    if (options.memoryBudget !== undefined) {
      return this.enableAutoOffload({ device: options.device, memoryBudget: options.memoryBudget, overBudget: options.overBudget });
    }
    let largest = 0;
    for (const entry of this.entries.values()) {
      if (isOffloadable(entry.component)) largest = Math.max(largest, entry.component.sizeBytes);
    }
    if (largest === 0) {
      throw new InvalidArgumentError(
        'enableAutoCpuOffload: no model component is registered yet, so there is nothing to size the budget from; load the components first (pipeline.loadComponents()) or pass { memoryBudget }.',
      );
    }
    return this.enableAutoOffload({ device: options.device, memoryBudget: largest, overBudget: options.overBudget });
  }

  /** Stops budgeting: hooks are removed and components stay where they are (offloaded ones come back on their next run). */
  disableAutoOffload(): void {
    this.offloader?.stop();
    this.offloader = null;
  }

  /** The auto offload settings, or null when it is off. */
  get autoOffload(): AutoOffloadSettings | null {
    return this.offloader ? { device: this.offloader.device, memoryBudgetBytes: this.offloader.budgetBytes, overBudget: this.offloader.overBudget } : null;
  }

  /**
   * Pipelines call this before each block with the components the block
   * declares: with auto offload on they are kept while others make room, and
   * made resident right before they run (through their residency hook), or
   * here at once when they have no hook. Objects the manager does not hold are ignored.
   */
  async prepareForBlock(components: readonly unknown[], blockName?: string): Promise<void> {
    if (!this.offloader) return;
    const entries: Entry[] = [];
    for (const component of components) {
      const entry = component == null ? undefined : [...this.entries.values()].find((e) => e.component === component);
      if (entry && !entries.includes(entry)) entries.push(entry);
    }
    await this.offloader.prepare(entries, blockName);
  }

  /**
   * Throws a MemoryBudgetError when one of `components` (default: all) is
   * larger than the auto offload budget; pipelines call it before a run so
   * nothing runs that cannot finish.
   */
  checkMemoryBudget(components?: readonly unknown[]): void {
    if (!this.offloader) return;
    const entries = components ? [...this.entries.values()].filter((e) => components.includes(e.component)) : [...this.entries.values()];
    this.offloader.checkFits(entries);
  }

  /** Pins a component to a device (null unpins); auto offload keeps a pinned component on its device and outside the budget. */
  setDevicePin(id: string, device: string | null): void {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`No component with id '${id}'. Known ids: ${this.ids().join(', ') || '(none)'}.`);
    entry.pin = device === null ? null : checkDevice(device, 'setDevicePin');
    if (this.offloader) {
      this.offloader.checkFits([entry]);
      this.offloader.added(entry).catch((error: unknown) => this.reportOffloadError(error));
    }
  }

  /**
   * diffusers' components table: id, class, device (the provider its session
   * lives or last lived on; "pinned" when a pipeline pinned it), size,
   * state (loaded, offloaded, or '-' for components without sessions), load id, collections.
   */
  summary(): string {
    const rows = this.ids().map((id) => {
      const i = this.info(id);
      const device = i.pinnedDevice ? `${i.device ?? i.pinnedDevice} (pinned ${i.pinnedDevice})` : (i.device ?? '-');
      const state = i.resident === null ? '-' : i.resident ? 'loaded' : 'offloaded';
      return [i.id, i.className, device, formatBytes(i.sizeBytes), state, i.loadId ?? 'N/A', i.collections.join(', ') || 'N/A'];
    });
    const table = formatTable(['Name_ID', 'Class', 'Device', 'Size', 'State', 'Load ID', 'Collection'], rows);
    const offload = this.offloader
      ? `\nAuto offload: device ${this.offloader.device}, budget ${formatBytes(this.offloader.budgetBytes)}, resident ${formatBytes(this.offloader.residentBytes())}`
      : '';
    return `ComponentsManager (${rows.length} component${rows.length === 1 ? '' : 's'})${offload}\n${table}`;
  }

  toString(): string {
    return this.summary();
  }

  [inspectSymbol](): string {
    return this.summary();
  }

  private emit(event: ComponentsManagerEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private reportOffloadError(error: unknown): void {
    this.logger.warn(`ComponentsManager auto offload: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function checkDevice(device: unknown, where: string): string {
  if (typeof device !== 'string' || !(OFFLOAD_DEVICES as readonly string[]).includes(device)) {
    throw new InvalidArgumentError(`${where}: device must be one of ${OFFLOAD_DEVICES.join(', ')}; got ${JSON.stringify(device)}.`);
  }
  return device;
}
