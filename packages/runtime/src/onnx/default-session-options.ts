/**
 * Session options every model gets unless the caller says otherwise.
 *
 * onnxruntime's CPU thread pools spin (busy-wait) after each parallel
 * section so the next op starts sooner. A diffusion pipeline alternates
 * short session.run calls (text encoders, one UNet step, a VAE) with
 * TypeScript work (scheduler step, guidance, image conversion) on the main
 * thread, and holds several sessions, each with its own pool: the spinning
 * threads then take the cores that the main thread needs. Measured on the
 * tiny SDXL repo on a 2-core machine, one text-to-image run took about half
 * the time with spinning off, session.run included. A caller who runs one
 * large model back to back can turn it on again with
 * `sessionOptions.extra.session.intra_op.allow_spinning = '1'`.
 */
import type * as ort from 'onnxruntime-node';

type SessionOptions = Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;

const DEFAULT_EXTRA = {
  session: {
    intra_op: { allow_spinning: '0' },
    inter_op: { allow_spinning: '0' },
  },
};

/** The caller's options over ours; `extra` (onnxruntime's config entries) is merged key by key. */
export function withDefaultSessionOptions(options: SessionOptions | undefined): SessionOptions {
  return { ...options, extra: mergeDeep(DEFAULT_EXTRA, options?.extra ?? {}) };
}

function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
