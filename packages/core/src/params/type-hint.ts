/**
 * A type hint is documentation and a loader key: a string naming a Python or
 * TypeScript type ('Tensor', 'int', 'UNet2DConditionModel') or a class, whose
 * name is what gets printed.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClassLike = abstract new (...args: any[]) => unknown;
export type TypeHint = string | ClassLike | null;

export function typeHintName(hint: TypeHint | undefined): string {
  if (hint === null || hint === undefined) return '';
  if (typeof hint === 'string') return hint;
  return hint.name || 'anonymous';
}
