/**
 * A component that can write the files it loads from (diffusers' `save_pretrained` of a model):
 * `savePretrained(dir)` fills `dir` so that the component's loader, given that folder, builds
 * it again. A pipeline save writes such a component into `<folder>/<name>` when the saved
 * index must point there (a component of unknown origin, or `overwriteModularIndex`).
 */
export interface SaveableComponent {
  savePretrained(dir: string): Promise<unknown>;
}

export function isSaveableComponent(value: unknown): value is SaveableComponent {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { savePretrained?: unknown }).savePretrained === 'function';
}
