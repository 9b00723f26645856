import type { OffloadableComponent, ResidencyHook } from './offloadable-component.js';

/** Stands in for an ONNX-backed wrapper: counts session creations and runs, and awaits its hook before a run. */
export class FakeModel implements OffloadableComponent {
  isResident = true;
  sizeBytes: number;
  provider: string | null;
  sessions = 1;
  runs = 0;
  private hook: ResidencyHook | null = null;
  constructor(
    sizeBytes: number,
    provider = 'cpu',
  ) {
    this.sizeBytes = sizeBytes;
    this.provider = provider;
  }
  async ensureResident(device?: string): Promise<void> {
    const target = device === undefined || device === 'auto' ? (this.provider ?? 'cpu') : device;
    if (this.isResident && this.provider === target) return;
    this.isResident = true;
    this.provider = target;
    this.sessions += 1;
  }
  async offload(): Promise<void> {
    this.isResident = false;
  }
  setResidencyHook(hook: ResidencyHook | null): void {
    this.hook = hook;
  }
  get hooked(): boolean {
    return this.hook !== null;
  }
  async run(): Promise<void> {
    await this.hook?.();
    if (!this.isResident) await this.ensureResident();
    this.runs += 1;
  }
}

