/**
 * A type hint is documentation and a loader key: a string naming a Python or
 * TypeScript type ('Tensor', 'int', 'UNet2DConditionModel') or a class, whose
 * name is what gets printed.
 */
// `never[]` parameters: any constructor fits, whatever it takes, and nothing can be passed to one by this type.
export type ClassLike = abstract new (...args: never[]) => unknown;
export type TypeHint = string | ClassLike | null;

export function typeHintName(hint: TypeHint | undefined): string {
  if (hint === null || hint === undefined) return '';
  if (typeof hint === 'string') return hint;
  return hint.name || 'anonymous';
}
