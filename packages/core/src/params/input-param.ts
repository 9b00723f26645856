import type { TypeHint } from './type-hint.js';

export interface InputParamFields {
  /** Null with a `kwargsType` means "every state value tagged with that kwargs type". */
  name?: string | null;
  typeHint?: TypeHint;
  description?: string;
  required?: boolean;
  default?: unknown;
  kwargsType?: string | null;
  /** Free-form hints for UIs (e.g. node editors); the engine does not read it. */
  metadata?: Record<string, unknown> | null;
  /**
   * Set by `combineInputs` when the branches of a conditional block declare
   * different defaults for this input: branch path (dotted when nested) to
   * that branch's default. `default` is then undefined and the branch that
   * runs applies its own default (diffusers' `defaults_by_block`).
   */
  defaultsByBlock?: Readonly<Record<string, unknown>> | null;
}

/**
 * One value a block reads: from the caller or from an earlier block.
 *
 * `new InputParam('diffdiff_map', { required: true })` or
 * `new InputParam({ name: 'diffdiff_map', required: true })`.
 */
export class InputParam {
  readonly name: string | null;
  readonly typeHint: TypeHint;
  readonly description: string;
  readonly required: boolean;
  readonly default: unknown;
  readonly kwargsType: string | null;
  readonly metadata: Record<string, unknown> | null;
  readonly defaultsByBlock: Readonly<Record<string, unknown>> | null;

  constructor(name: string, fields?: Omit<InputParamFields, 'name'>);
  constructor(fields: InputParamFields);
  constructor(nameOrFields: string | InputParamFields, maybeFields?: Omit<InputParamFields, 'name'>) {
    // Block declarations are getters that build their params on every read (a run reads them per
    // block), so this stays allocation-free: no merged fields object.
    const named = typeof nameOrFields === 'string';
    const fields: Omit<InputParamFields, 'name'> | undefined = named ? maybeFields : nameOrFields;
    this.name = named ? nameOrFields : (nameOrFields.name ?? null);
    this.typeHint = fields?.typeHint ?? null;
    this.description = fields?.description ?? '';
    this.required = fields?.required ?? false;
    this.default = fields?.default;
    this.kwargsType = fields?.kwargsType ?? null;
    this.metadata = fields?.metadata ?? null;
    this.defaultsByBlock = fields?.defaultsByBlock ?? null;
    if (this.name === null && this.kwargsType === null) {
      throw new TypeError('An InputParam needs a name, or a kwargsType to collect every value tagged with it.');
    }
  }

  /** The key composites merge by: the name, or `*_<kwargsType>` for a kwargs-only param. */
  get key(): string {
    return this.name ?? `*_${this.kwargsType}`;
  }

  /** A copy with some fields changed; params are never mutated in place. */
  with(changes: Partial<InputParamFields>): InputParam {
    return new InputParam({ ...this.fields(), ...changes });
  }

  fields(): InputParamFields {
    return {
      name: this.name,
      typeHint: this.typeHint,
      description: this.description,
      required: this.required,
      default: this.default,
      kwargsType: this.kwargsType,
      metadata: this.metadata,
      defaultsByBlock: this.defaultsByBlock,
    };
  }

  toString(): string {
    return `<${this.key}: ${this.required ? 'required' : 'optional'}, default=${String(this.default ?? 'None')}>`;
  }
}
