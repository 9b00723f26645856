/**
 * Marks block instances without `instanceof`, so a block built by another
 * copy of the engine (a bundled plugin, a sandboxed realm) is still a block.
 */
export const BLOCK_BRAND: unique symbol = Symbol.for('modular-diffusers.block') as never;

export function isBlock(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BLOCK_BRAND] === true;
}
