import { RepoConfigError } from './pretrained-errors.js';

const SPEC_STRING_FIELDS = ['pretrained_model_name_or_path', 'repo', 'subfolder', 'revision', 'variant'] as const;

/**
 * Checks the shape of a parsed `modular_model_index.json` / `model_index.json`
 * so a broken entry fails here, naming the file and the key, instead of
 * turning into a component with no source.
 */
export function checkModelIndex(data: unknown, repo: string, file: string): Record<string, unknown> {
  const fail = (problem: string): never => {
    throw new RepoConfigError(repo, file, problem);
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail('it must be a JSON object of component entries and config values');
  const index = data as Record<string, unknown>;
  for (const key of ['_class_name', '_blocks_class_name', '_diffusers_version']) {
    if (index[key] !== undefined && index[key] !== null && typeof index[key] !== 'string') fail(`"${key}" must be a string`);
  }
  for (const [name, value] of Object.entries(index)) {
    if (name.startsWith('_') || !Array.isArray(value)) continue;
    if (value.length === 3) {
      const [library, className, spec] = value as unknown[];
      if (!isNullableString(library) || !isNullableString(className)) fail(`entry "${name}" must start with [library | null, class | null, ...]`);
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
        fail(`entry "${name}" must be [library, class, { pretrained_model_name_or_path, subfolder, revision, variant, type_hint }]`);
      }
      const fields = spec as Record<string, unknown>;
      for (const field of SPEC_STRING_FIELDS) {
        if (!isNullableString(fields[field])) fail(`entry "${name}": "${field}" must be a string or null`);
      }
      const hint = fields.type_hint;
      if (hint !== undefined && hint !== null && !(Array.isArray(hint) && hint.length === 2 && hint.every(isNullableString))) {
        fail(`entry "${name}": "type_hint" must be [library, class]`);
      }
    }
  }
  return index;
}

function isNullableString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}
