/**
 * A load id says where a component came from: `repo|subfolder|variant|revision`
 * with missing parts written `null` (diffusers' `_diffusers_load_id`). The
 * engine remembers it per object in a WeakMap instead of writing a property
 * onto the component, so frozen or bridged objects work too.
 */
export interface LoadFields {
  pretrainedModelNameOrPath: string | null;
  subfolder: string | null;
  variant: string | null;
  revision: string | null;
}

export const LOADING_FIELDS = ['pretrainedModelNameOrPath', 'subfolder', 'variant', 'revision'] as const;

export function encodeLoadId(fields: LoadFields): string {
  return LOADING_FIELDS.map((key) => fields[key] ?? 'null').join('|');
}

/** Reverses `encodeLoadId`; `'null'` (a from-config component) gives all-null fields. */
export function decodeLoadId(loadId: string): LoadFields {
  const fields: LoadFields = { pretrainedModelNameOrPath: null, subfolder: null, variant: null, revision: null };
  if (loadId === 'null') return fields;
  loadId.split('|').forEach((part, i) => {
    const key = LOADING_FIELDS[i];
    if (key) fields[key] = part === 'null' ? null : part;
  });
  return fields;
}

const loadIds = new WeakMap<object, string>();

/** Records where `component` was loaded from; primitives cannot be tagged and are ignored. */
export function tagLoadId(component: unknown, loadId: string): void {
  if (isObject(component)) loadIds.set(component, loadId);
}

export function getLoadId(component: unknown): string | null {
  return isObject(component) ? (loadIds.get(component) ?? null) : null;
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
