import { PipelineAbortedError } from '../errors.js';

/**
 * The part of `AbortSignal` the engine reads. Structural, so the engine needs
 * no DOM/Node types and works in a sandboxed realm with a bridged signal.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export function throwIfAborted(signal: AbortSignalLike | null | undefined, where: string): void {
  if (signal?.aborted) throw new PipelineAbortedError(where, signal.reason);
}
