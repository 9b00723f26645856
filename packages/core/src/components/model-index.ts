import { InvalidArgumentError } from '../errors.js';
import { libraryOfType } from './component-library.js';
import { ComponentSpec } from './component-spec.js';

/** What a `modular_model_index.json` (or a standard `model_index.json`) says. */
export interface ModelIndexInfo {
  /** `_class_name`: the pipeline class to build. */
  className: string | null;
  /** `_blocks_class_name`: the blocks class the pipeline was saved with. */
  blocksClassName: string | null;
  diffusersVersion: string | null;
  /** One from-pretrained spec per component entry that names a source. */
  components: ComponentSpec[];
  /** Plain keys: pipeline config values such as `force_zeros_for_empty_prompt`. */
  configs: Record<string, unknown>;
  /** Other `_`-prefixed keys, kept as they are. */
  meta: Record<string, unknown>;
}

type SpecDict = {
  pretrained_model_name_or_path?: unknown;
  repo?: unknown;
  subfolder?: unknown;
  variant?: unknown;
  revision?: unknown;
  type_hint?: unknown;
};

/**
 * Reads parsed index JSON into specs, a pure function. Entries are
 * `[library, class, {pretrained_model_name_or_path | repo, subfolder,
 * revision, variant, type_hint: [library, class]}]` in a modular index, or
 * `[library, class]` in a standard diffusers index, where the component
 * lives in `repo/<name>`.
 */
export function parseModelIndex(index: Record<string, unknown>, options: { repo?: string | null } = {}): ModelIndexInfo {
  if (index === null || typeof index !== 'object' || Array.isArray(index)) {
    throw new InvalidArgumentError('A model index must be a JSON object (the parsed modular_model_index.json).');
  }
  const info: ModelIndexInfo = { className: null, blocksClassName: null, diffusersVersion: null, components: [], configs: {}, meta: {} };
  for (const [key, value] of Object.entries(index)) {
    if (key === '_class_name') info.className = stringOrNull(value);
    else if (key === '_blocks_class_name') info.blocksClassName = stringOrNull(value);
    else if (key === '_diffusers_version') info.diffusersVersion = stringOrNull(value);
    else if (key.startsWith('_')) info.meta[key] = value;
    else if (Array.isArray(value) && value.length === 3 && isPlainObject(value[2])) info.components.push(modularEntry(key, value));
    else if (Array.isArray(value) && value.length === 2 && (value[0] === null || typeof value[0] === 'string')) {
      const spec = standardEntry(key, value, options.repo ?? null);
      if (spec) info.components.push(spec);
    } else info.configs[key] = value;
  }
  return info;
}

function modularEntry(name: string, entry: unknown[]): ComponentSpec {
  const [library, className, dict] = entry as [unknown, unknown, SpecDict];
  const hint = Array.isArray(dict.type_hint) ? dict.type_hint : null;
  return new ComponentSpec({
    name,
    type: stringOrNull(hint?.[1]) ?? stringOrNull(className),
    library: stringOrNull(hint?.[0]) ?? stringOrNull(library),
    pretrainedModelNameOrPath: stringOrNull(dict.pretrained_model_name_or_path) ?? stringOrNull(dict.repo),
    subfolder: stringOrNull(dict.subfolder) || null,
    variant: stringOrNull(dict.variant),
    revision: stringOrNull(dict.revision),
    defaultCreationMethod: 'fromPretrained',
  });
}

function standardEntry(name: string, entry: unknown[], repo: string | null): ComponentSpec | null {
  const [library, className] = entry;
  if (library === null || className === null) return null;
  return new ComponentSpec({
    name,
    type: stringOrNull(className),
    library: stringOrNull(library),
    pretrainedModelNameOrPath: repo,
    subfolder: name,
    defaultCreationMethod: 'fromPretrained',
  });
}

/**
 * The diffusers version whose repo formats this release writes (`_diffusers_version` of a new
 * modular_model_index.json / modular_config.json): the diffusers source the formats were checked
 * against, commit 58eb52c (see tools/reference/diffusers-repo-files). A file that was read keeps
 * its own version on re-save.
 */
export const DIFFUSERS_FORMAT_VERSION = '0.40.0.dev0';

export interface BuildModelIndexInput {
  className: string;
  blocksClassName: string | null;
  specs: readonly ComponentSpec[];
  configs: Record<string, unknown>;
  /** Loaded objects by name: their class names fill entry slot 1. */
  loaded?: Record<string, unknown>;
  /** The version a read index had (kept on re-save); default DIFFUSERS_FORMAT_VERSION. */
  diffusersVersion?: string | null;
}

/**
 * The inverse of `parseModelIndex` for saving: only from-pretrained
 * components get entries, keys are sorted like diffusers' `sort_keys=True`.
 */
export function buildModelIndex(input: BuildModelIndexInput): Record<string, unknown> {
  const out: Record<string, unknown> = {
    _blocks_class_name: input.blocksClassName,
    _class_name: input.className,
    _diffusers_version: input.diffusersVersion ?? DIFFUSERS_FORMAT_VERSION,
    ...input.configs,
  };
  for (const spec of input.specs) {
    if (spec.defaultCreationMethod !== 'fromPretrained') continue;
    const obj = input.loaded?.[spec.name];
    const loadedClass = obj != null ? ((obj as { constructor?: { name?: string } }).constructor?.name ?? null) : null;
    const typeName = spec.typeName || null;
    out[spec.name] = [
      obj != null ? (spec.library ?? libraryOfType(loadedClass) ?? libraryOfType(typeName)) : null,
      loadedClass,
      {
        pretrained_model_name_or_path: spec.pretrainedModelNameOrPath,
        revision: spec.revision,
        // diffusers' ComponentSpec writes "" for "the repo's root"; both read back as no subfolder.
        subfolder: spec.subfolder ?? '',
        type_hint: [spec.library ?? libraryOfType(typeName), typeName],
        variant: spec.variant,
      },
    ];
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
