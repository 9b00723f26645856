/**
 * The running average APG keeps of the guidance direction:
 * average <- update + momentum * average (a negative momentum damps
 * oscillation between steps, arXiv 2410.02416 section 4).
 */
import { DiffusionInputError } from '../errors.js';

export class MomentumBuffer {
  readonly momentum: number;
  private average: Float32Array | undefined;

  constructor(momentum: number) {
    this.momentum = momentum;
  }

  /** Fold `update` into the running average and return the average (a new array). */
  update(update: Float32Array): Float32Array {
    const previous = this.average;
    const next = new Float32Array(update.length);
    if (previous && previous.length !== update.length) {
      throw new DiffusionInputError(
        `MomentumBuffer: the guidance update has ${update.length} elements but the running average has ${previous.length}; start a new run (step 0) when the latent shape changes.`,
      );
    }
    if (previous) {
      for (let i = 0; i < next.length; i++) next[i] = update[i] + this.momentum * previous[i];
    } else {
      next.set(update);
    }
    this.average = next;
    return next;
  }

  get runningAverage(): Float32Array | undefined {
    return this.average;
  }
}
