/**
 * The memory budget of a ComponentsManager (`enableAutoOffload`). A counted
 * component is an offloadable one not pinned to another device. Residency
 * changes only happen here, one at a time (a queue):
 *  - `prepare(block components)`: the pipeline calls it before each leaf
 *    block; those components become the "keep" set. Components with a
 *    residency hook are left for the hook; others are made resident now;
 *  - a component's residency hook, awaited right before each of its model
 *    runs, makes it resident. So a block that only reads a component's
 *    config (prepare_latents reads the VAE's scale factor) loads nothing,
 *    and a component comes back exactly when it runs, inside or outside a block.
 * Making one resident first evicts others until resident sizes plus its own
 * fit the budget, choosing by `chooseEvictions` among the resident counted
 * components outside the keep set; only when those cannot free enough (a
 * block needs more than the budget at once) are the other keep members
 * evicted too, with a warning, as they will be swapped on every use.
 */
import { formatBytes } from '../util/format-table.js';
import type { Logger } from '../logger.js';
import { MemoryBudgetError } from './memory-budget.js';
import { chooseEvictions } from './offload-strategy.js';
import { isOffloadable, type OffloadableComponent } from './offloadable-component.js';

export interface ManagedEntry {
  readonly id: string;
  readonly name: string;
  readonly component: unknown;
  /** A device the component is pinned to, if any. */
  readonly pin: string | null;
}

export type ResidencyEvent =
  | { type: 'offload'; id: string; name: string; component: unknown; sizeBytes: number; reason: 'budget' | 'device' }
  | { type: 'onload'; id: string; name: string; component: unknown; provider: string | null };

export interface AutoOffloadHost {
  entries(): Iterable<ManagedEntry>;
  emit(event: ResidencyEvent): void;
  logger: Logger;
}

export class AutoOffloader {
  private readonly lastUse = new Map<string, number>();
  private tick = 0;
  private keep = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly hooked = new Set<OffloadableComponent>();
  private readonly warnedBlocks = new Set<string>();

  private warnedOverBudget = false;

  constructor(
    readonly device: string,
    readonly budgetBytes: number,
    private readonly host: AutoOffloadHost,
    /** 'throw': a component larger than the budget is an error; 'offloadAll': diffusers' choice, see AutoOffloadOptions. */
    readonly overBudget: 'throw' | 'offloadAll' = 'throw',
  ) {}

  /** Whether the budget counts (and may evict) this entry. */
  counts(entry: ManagedEntry): boolean {
    return isOffloadable(entry.component) && (entry.pin === null || entry.pin === this.device);
  }

  /** Bytes of the counted components resident now. */
  residentBytes(): number {
    let total = 0;
    for (const e of this.host.entries()) if (this.counts(e) && (e.component as OffloadableComponent).isResident) total += sizeOf(e);
    return total;
  }

  /** Throws a MemoryBudgetError naming every counted entry larger than the whole budget. */
  checkFits(entries: Iterable<ManagedEntry>): void {
    const tooLarge = [...entries].filter((e) => this.counts(e) && sizeOf(e) > this.budgetBytes).map((e) => ({ id: e.id, name: e.name, sizeBytes: sizeOf(e) }));
    if (tooLarge.length === 0) return;
    const largest = Math.max(...tooLarge.map((t) => t.sizeBytes));
    const first = tooLarge[0]!;
    if (this.overBudget === 'offloadAll') {
      if (!this.warnedOverBudget) {
        this.warnedOverBudget = true;
        this.host.logger.warn(
          `Auto offload: ${tooLarge.map((t) => `'${t.id}' (${describeBytes(t.sizeBytes)})`).join(', ')} is larger than the memory budget of ${describeBytes(this.budgetBytes)}; ` +
            `with overBudget: 'offloadAll' every other component is offloaded while it runs, and it runs over the budget. Raise the budget to at least ${describeBytes(largest)} to stay within it.`,
        );
      }
      return;
    }
    throw new MemoryBudgetError(
      `The memory budget of ${describeBytes(this.budgetBytes)} is smaller than ${tooLarge.map((t) => `'${t.id}' (${describeBytes(t.sizeBytes)})`).join(', ')}: ` +
        `auto offload can only run a component that fits in the budget alone. Raise the budget to at least ${describeBytes(largest)}, ` +
        `or pin the component to another device, e.g. loadComponents({ perComponent: { ${first.name}: { device: 'cpu' } } }).`,
      this.budgetBytes,
      tooLarge.map(({ id, sizeBytes }) => ({ id, sizeBytes })),
    );
  }

  /** Installs hooks and brings what is resident within the budget and onto the device. */
  start(): Promise<void> {
    for (const entry of this.host.entries()) this.track(entry);
    return this.enqueue(async () => {
      for (const entry of this.host.entries()) {
        const c = entry.component;
        if (!this.counts(entry) || !(c as OffloadableComponent).isResident) continue;
        const provider = (c as OffloadableComponent).provider;
        if (this.device !== 'auto' && provider !== null && provider !== this.device) await this.evict(entry, 'device');
      }
      await this.fit(null);
    });
  }

  /** Removes every hook; components stay where they are. */
  stop(): void {
    for (const component of this.hooked) component.setResidencyHook?.(null);
    this.hooked.clear();
  }

  /** A component the manager just registered: hooked, and the budget re-fitted with it resident. */
  added(entry: ManagedEntry): Promise<void> {
    this.track(entry);
    return this.enqueue(async () => {
      const c = entry.component as OffloadableComponent;
      if (this.counts(entry) && c.isResident && this.device !== 'auto' && c.provider !== null && c.provider !== this.device) {
        await this.evict(entry, 'device');
      }
      await this.fit(null);
    });
  }

  removed(entry: ManagedEntry): void {
    if (!isOffloadable(entry.component)) return;
    entry.component.setResidencyHook?.(null);
    this.hooked.delete(entry.component);
    this.lastUse.delete(entry.id);
  }

  /** Makes a block's components resident, in order, keeping them while others are evicted. */
  prepare(entries: readonly ManagedEntry[], blockName = 'a block'): Promise<void> {
    return this.enqueue(async () => {
      this.keep = new Set(entries.map((e) => e.id));
      const counted = entries.filter((e) => this.counts(e));
      const together = counted.reduce((sum, e) => sum + sizeOf(e), 0);
      if (together > this.budgetBytes && !this.warnedBlocks.has(blockName)) {
        this.warnedBlocks.add(blockName);
        this.host.logger.warn(
          `Auto offload: ${blockName} uses ${counted.map((e) => e.id).join(', ')} (${describeBytes(together)} together), more than the ` +
            `memory budget of ${describeBytes(this.budgetBytes)}; they will be offloaded and re-created on every use. Raise the budget to avoid it.`,
        );
      }
      for (const entry of entries) {
        if (!this.hooked.has(entry.component as OffloadableComponent)) await this.makeResident(entry);
      }
    });
  }

  /** What a residency hook does: one component, with the last prepared block's components kept. */
  use(entry: ManagedEntry): Promise<void> {
    return this.enqueue(() => this.makeResident(entry));
  }

  private track(entry: ManagedEntry): void {
    if (!this.lastUse.has(entry.id)) this.lastUse.set(entry.id, ++this.tick);
    const c = entry.component;
    if (!isOffloadable(c) || typeof c.setResidencyHook !== 'function' || this.hooked.has(c)) return;
    c.setResidencyHook(() => this.use(entry));
    this.hooked.add(c);
  }

  private async makeResident(entry: ManagedEntry): Promise<void> {
    const c = entry.component;
    if (!isOffloadable(c)) return;
    this.lastUse.set(entry.id, ++this.tick);
    const wasResident = c.isResident;
    const before = c.provider;
    if (this.counts(entry)) {
      await this.fit(entry);
      await c.ensureResident(this.device);
    } else if (!wasResident) {
      // Pinned to another device: outside the budget, but it still has to come back if someone offloaded it.
      await c.ensureResident(entry.pin ?? undefined);
    }
    if (!wasResident || c.provider !== before) {
      this.host.emit({ type: 'onload', id: entry.id, name: entry.name, component: c, provider: c.provider });
    }
  }

  /** Evicts resident counted components until they, plus `incoming`, fit the budget. */
  private async fit(incoming: ManagedEntry | null): Promise<void> {
    const resident = [...this.host.entries()].filter(
      (e) => e.id !== incoming?.id && this.counts(e) && (e.component as OffloadableComponent).isResident,
    );
    const shortfall = resident.reduce((sum, e) => sum + sizeOf(e), 0) + (incoming ? sizeOf(incoming) : 0) - this.budgetBytes;
    if (shortfall <= 0) return;
    const asCandidates = (pool: ManagedEntry[]) => pool.map((e) => ({ id: e.id, sizeBytes: sizeOf(e), lastUsed: this.lastUse.get(e.id) ?? 0 }));
    let pick = chooseEvictions(asCandidates(resident.filter((e) => !this.keep.has(e.id))), shortfall);
    pick ??= chooseEvictions(asCandidates(resident), shortfall);
    if (pick === null) {
      // No set of evictions makes room: `incoming` alone is over the budget (allowed by 'offloadAll', or grown
      // past it after it was checked, e.g. a VAE half opened mid-run). 'throw' raises; 'offloadAll' evicts
      // everything else, as diffusers does ("no combination of models to offload ... offloading all models").
      this.checkFits(incoming ? [incoming] : []);
      for (const entry of resident) await this.evict(entry, 'budget');
      return;
    }
    for (const id of pick) await this.evict(resident.find((e) => e.id === id)!, 'budget');
  }

  private async evict(entry: ManagedEntry, reason: 'budget' | 'device'): Promise<void> {
    const c = entry.component as OffloadableComponent;
    const sizeBytes = sizeOf(entry);
    await c.offload();
    this.host.emit({ type: 'offload', id: entry.id, name: entry.name, component: c, sizeBytes, reason });
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function sizeOf(entry: ManagedEntry): number {
  return (entry.component as OffloadableComponent).sizeBytes;
}

function describeBytes(bytes: number): string {
  return `${formatBytes(bytes)} (${bytes.toLocaleString('en-US')} bytes)`;
}
