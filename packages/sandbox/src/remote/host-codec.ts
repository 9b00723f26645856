/**
 * The host end of the remote value codec: tensors are rebuilt with runtime's
 * Tensor class, images coming out of a run become runtime's saveable
 * PipelineImage. Runtime is loaded by name, when a remote pipeline first
 * needs it (the hub package itself depends on the engine only).
 */
import { createRemoteValueCodec, type GeneratorConstructorLike, type RemoteValueCodec, type TensorConstructorLike } from './remote-value-codec.js';

type ImageLike = { width: number; height: number; channels: 1 | 3; data: Uint8Array };
let PipelineImageClass: (new (image: ImageLike) => unknown) | null = null;
let codec: Promise<RemoteValueCodec> | null = null;

/** The host codec (loads `@modular-diffusers/runtime/tensor` once). */
export function hostValueCodec(): Promise<RemoteValueCodec> {
  codec ??= import('@modular-diffusers/runtime/tensor').then((tensor) =>
    createRemoteValueCodec({
      Tensor: tensor.Tensor as unknown as TensorConstructorLike,
      // A generator the sandboxed blocks hand to a host model (e.g. the VAE's sampling) is rebuilt here.
      Generator: tensor.Generator as unknown as GeneratorConstructorLike,
      wrapImage: (image) => (PipelineImageClass ? new PipelineImageClass(image) : image),
    }),
  );
  return codec;
}

/** Loads runtime's PipelineImage (sharp comes with it) before images are decoded. */
export async function ensurePipelineImageClass(): Promise<void> {
  if (PipelineImageClass) return;
  const runtime = (await import('@modular-diffusers/runtime')) as unknown as { PipelineImage: new (image: ImageLike) => unknown };
  PipelineImageClass = runtime.PipelineImage;
}
