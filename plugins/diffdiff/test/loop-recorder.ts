/** Records the latents of every diff-diff loop step: what the before-denoiser hands the UNet, and what each step ends with. */
import { vi } from 'vitest';
import type { Tensor } from '@modular-diffusers/runtime';
import { StableDiffusionXLLoopAfterDenoiser } from '@modular-diffusers/sdxl';
import { SDXLDiffDiffLoopBeforeDenoiser } from '../src/loop-before-denoiser.js';

export interface LoopRecording {
  /** Latents after the diff-diff blend of step i (the UNet's input before scaling). */
  before: Tensor<'float32'>[];
  /** Latents after the scheduler step of step i. */
  after: Tensor<'float32'>[];
  restore(): void;
}

export function recordLoopLatents(): LoopRecording {
  const before: Tensor<'float32'>[] = [];
  const after: Tensor<'float32'>[] = [];
  const spy = (proto: { call: (...args: any[]) => Promise<any> }, into: Tensor<'float32'>[]) => {
    const original = proto.call;
    return vi.spyOn(proto, 'call').mockImplementation(async function (this: unknown, ...args: any[]) {
      const result = await original.apply(this, args);
      into.push(result[1].latents);
      return result;
    });
  };
  const spies = [spy(SDXLDiffDiffLoopBeforeDenoiser.prototype, before), spy(StableDiffusionXLLoopAfterDenoiser.prototype, after)];
  return { before, after, restore: () => spies.forEach((s) => s.mockRestore()) };
}
