import { typeHintName, type TypeHint } from './type-hint.js';

export interface OutputParamFields {
  name: string;
  typeHint?: TypeHint;
  description?: string;
  /** Tags the value in the pipeline state so kwargs-only inputs can collect it. */
  kwargsType?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** One value a block writes to the pipeline state for later blocks or the caller. */
export class OutputParam {
  readonly name: string;
  readonly typeHint: TypeHint;
  readonly description: string;
  readonly kwargsType: string | null;
  readonly metadata: Record<string, unknown> | null;

  constructor(name: string, fields?: Omit<OutputParamFields, 'name'>);
  constructor(fields: OutputParamFields);
  constructor(nameOrFields: string | OutputParamFields, maybeFields?: Omit<OutputParamFields, 'name'>) {
    // Allocation-free like InputParam's: declarations are rebuilt on every read.
    const named = typeof nameOrFields === 'string';
    const fields: Omit<OutputParamFields, 'name'> | undefined = named ? maybeFields : nameOrFields;
    const name = named ? nameOrFields : nameOrFields.name;
    if (typeof name !== 'string' || name === '') throw new TypeError('An OutputParam needs a non-empty name.');
    this.name = name;
    this.typeHint = fields?.typeHint ?? null;
    this.description = fields?.description ?? '';
    this.kwargsType = fields?.kwargsType ?? null;
    this.metadata = fields?.metadata ?? null;
  }

  with(changes: Partial<OutputParamFields>): OutputParam {
    return new OutputParam({
      name: this.name,
      typeHint: this.typeHint,
      description: this.description,
      kwargsType: this.kwargsType,
      metadata: this.metadata,
      ...changes,
    });
  }

  toString(): string {
    return `<${this.name}: ${typeHintName(this.typeHint) || 'None'}>`;
  }
}
