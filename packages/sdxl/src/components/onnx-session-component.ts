/**
 * What the single-session SDXL wrappers (text encoders, UNet, ControlNet,
 * image encoder) share: the session, its folder and config, and the
 * offloadable-component contract a ComponentsManager memory budget drives.
 * Offloading releases the onnxruntime session and `ensureResident`
 * re-creates it, on the same object, so blocks keep their `components.unet`.
 */
import { cp } from 'node:fs/promises';
import type { OffloadableComponent, ResidencyHook, SaveableComponent } from '@modular-diffusers/core';
import type { Device, ExecutionProvider, OnnxModel } from '@modular-diffusers/runtime';

export class OnnxSessionComponent implements OffloadableComponent, SaveableComponent {
  #model: OnnxModel;
  #residencyHook: ResidencyHook | null = null;

  constructor(
    model: OnnxModel,
    /** The folder's config.json ({} when it has none). */
    readonly config: Readonly<Record<string, unknown>>,
    readonly folder: string,
  ) {
    this.#model = model;
  }

  /** The session's model; replaced in place when the graph is rebuilt (replaceModel). */
  get model(): OnnxModel {
    return this.#model;
  }

  /**
   * Swaps in another model of the same component (the graph rebuilt with ControlNet residual
   * inputs, or with fused LoRA weights, or the base graph again) and frees the old session. Blocks
   * keep this object, and a components manager's residency hook moves to the new model.
   */
  async replaceModel(next: OnnxModel): Promise<void> {
    const old = this.#model;
    if (old === next) return;
    next.setResidencyHook(this.#residencyHook);
    this.#model = next;
    old.setResidencyHook(null);
    await old.release();
  }

  /** Bytes of the model file and its external data. */
  get sizeBytes(): number {
    return this.model.sizeBytes;
  }

  /** The provider the session lives on, or last lived on while offloaded. */
  get provider(): ExecutionProvider {
    return this.model.provider;
  }

  /** The provider that ran the last model run, null before the first. */
  get lastRunProvider(): ExecutionProvider | null {
    return this.model.lastRunProvider;
  }

  get isResident(): boolean {
    return this.model.isResident;
  }

  ensureResident(device?: Device): Promise<void> {
    return this.model.ensureResident(device);
  }

  offload(): Promise<void> {
    return this.model.offload();
  }

  setResidencyHook(hook: ResidencyHook | null): void {
    this.#residencyHook = hook;
    this.model.setResidencyHook(hook);
  }

  /**
   * Writes the folder the component was loaded from (its config.json and model files, links
   * followed) into `dir`, so the same loader builds it from there: what a pipeline save does for
   * a component of unknown origin (diffusers' model `save_pretrained`).
   */
  async savePretrained(dir: string): Promise<void> {
    await cp(this.folder, dir, { recursive: true, dereference: true, force: true, errorOnExist: false });
  }

  /** Frees the session for good. */
  release(): Promise<void> {
    return this.model.release();
  }
}
