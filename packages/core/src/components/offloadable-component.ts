/**
 * What a component must offer for a ComponentsManager memory budget to move
 * it: its weight size, whether its sessions exist, and a way to drop them and
 * bring them back on a device without changing the object (blocks keep
 * holding `components.unet`). The ONNX-backed SDXL wrappers implement it by
 * releasing their onnxruntime sessions and re-creating them.
 */
export interface OffloadableComponent {
  /** Bytes the budget counts: the weight files the component has opened. */
  readonly sizeBytes: number;
  /** Whether its sessions exist now (false after `offload()`). */
  readonly isResident: boolean;
  /** The execution provider its session lives on now, or last lived on when offloaded; null before any. */
  readonly provider: string | null;
  /** Re-creates its sessions on `device` ('cpu', 'cuda', 'webgpu', 'auto'; default the device it was loaded for). */
  ensureResident(device?: string): Promise<void>;
  /** Releases its sessions; the next `ensureResident` (or run) re-creates them. */
  offload(): Promise<void>;
  /**
   * Installed by a manager with auto offload on: the component awaits the
   * hook before every model run, so a run outside any pipeline block still
   * gets room made for it first. Null removes it.
   */
  setResidencyHook?(hook: ResidencyHook | null): void;
}

export type ResidencyHook = () => Promise<void>;

export function isOffloadable(value: unknown): value is OffloadableComponent {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const c = value as Partial<OffloadableComponent>;
  return typeof c.sizeBytes === 'number' && typeof c.isResident === 'boolean' && typeof c.ensureResident === 'function' && typeof c.offload === 'function';
}
