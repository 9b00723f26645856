export interface ConfigSpecFields {
  name: string;
  default: unknown;
  description?: string;
}

/**
 * A pipeline-level setting a block reads as `components.config.<name>`
 * (e.g. `force_zeros_for_empty_prompt`); saved as a plain key of
 * `modular_model_index.json`.
 */
export class ConfigSpec {
  readonly name: string;
  readonly default: unknown;
  readonly description: string;

  constructor(name: string, defaultValue?: unknown, description?: string);
  constructor(fields: ConfigSpecFields);
  constructor(nameOrFields: string | ConfigSpecFields, defaultValue?: unknown, description?: string) {
    const fields: ConfigSpecFields =
      typeof nameOrFields === 'string' ? { name: nameOrFields, default: defaultValue, description } : nameOrFields;
    if (typeof fields.name !== 'string' || fields.name === '') throw new TypeError('A ConfigSpec needs a non-empty name.');
    this.name = fields.name;
    this.default = fields.default;
    this.description = fields.description ?? '';
  }

  with(changes: Partial<ConfigSpecFields>): ConfigSpec {
    return new ConfigSpec({ name: this.name, default: this.default, description: this.description, ...changes });
  }
}
