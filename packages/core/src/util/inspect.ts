/**
 * Node's `util.inspect` looks for this registered symbol; using `Symbol.for`
 * lets `console.log(block)` print the guide's layout without importing
 * anything from Node.
 */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;
