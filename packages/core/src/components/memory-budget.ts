/**
 * Memory budgets for auto offload: parsing '6GB' / '512MiB' / bytes, and the
 * error a budget too small for a component gives.
 */
import { InvalidArgumentError, ModularDiffusersError } from '../errors.js';

// Decimal units as accelerate's convert_file_size_to_int reads them ('6GB' is 6e9 bytes), binary units with an 'i'.
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes in a memory budget: a positive number of bytes, or a string such as
 * '6GB' (6 x 10^9), '512MB', '1.5GiB' (1.5 x 2^30), '8000000' or '800 KiB'.
 * Units are case-insensitive. For the CLI's `--memory-budget` too.
 */
export function parseMemoryBudget(budget: string | number): number {
  if (typeof budget === 'number') {
    if (!Number.isFinite(budget) || budget <= 0) {
      throw new InvalidArgumentError(`A memory budget must be a positive number of bytes or a size such as '6GB'; got ${budget}.`);
    }
    return Math.floor(budget);
  }
  if (typeof budget !== 'string') {
    throw new InvalidArgumentError(`A memory budget must be a number of bytes or a string such as '6GB' or '512MiB'; got ${typeof budget}.`);
  }
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(budget);
  const factor = match ? UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new InvalidArgumentError(
      `Cannot read the memory budget '${budget}': write a number with an optional unit, e.g. '6GB', '512MB', '1.5GiB' or '800000000' (bytes). ` +
        `Units: B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024).`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes <= 0) throw new InvalidArgumentError(`The memory budget '${budget}' is zero bytes; give a positive size such as '6GB'.`);
  return bytes;
}

/** A component that cannot fit the memory budget even alone, found before any model runs. */
export class MemoryBudgetError extends ModularDiffusersError {
  static override readonly code: string = 'MEMORY_BUDGET';
  override name = 'MemoryBudgetError';
  constructor(
    message: string,
    /** The budget in bytes. */
    readonly budgetBytes: number,
    /** The components that do not fit, with their sizes in bytes. */
    readonly tooLarge: ReadonlyArray<{ id: string; sizeBytes: number }>,
  ) {
    super(message);
  }
}
