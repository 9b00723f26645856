/**
 * Marks block instances without `instanceof`, so a block built by another
 * copy of the engine (a bundled plugin, a sandboxed realm) is still a block.
 */
export const BLOCK_BRAND: unique symbol = Symbol.for('modular-diffusers.block') as never;

export function isBlock(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BLOCK_BRAND] === true;
}

/** Marks the classes `TypedBlock` makes, so the printout's `Class:` line names the block's real base. */
export const TYPED_BLOCK_BASE: unique symbol = Symbol.for('modular-diffusers.typed-block-base') as never;

/** Whether `ctor` is a class made by `TypedBlock` (skipped when naming a block's base class). */
export function isTypedBlockBase(ctor: unknown): boolean {
  return typeof ctor === 'function' && Object.prototype.hasOwnProperty.call(ctor, TYPED_BLOCK_BASE);
}
