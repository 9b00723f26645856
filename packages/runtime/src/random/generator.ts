/**
 * A seeded random generator that reproduces PyTorch's CPU generator
 * (`torch.Generator().manual_seed(s)`) draw for draw, so the same seed gives
 * the same initial latents here as in diffusers on a CPU generator.
 *
 * Algorithm (PyTorch's CPUGeneratorImpl and its CPU distribution kernels):
 * - Engine: MT19937 seeded with the low 32 bits of the 64-bit seed
 *   (mt19937.ts). `random()` is one 32-bit draw; `random64()` is two,
 *   first draw in the high word.
 * - rand, float32: (random() & (2^24 - 1)) * 2^-24 per element
 *   (float16: (random() & (2^11 - 1)) * 2^-11).
 * - randn with >= 16 elements (always contiguous here): the whole buffer is
 *   first filled with float32 uniforms as above, then converted in place in
 *   blocks of 16 by Box-Muller over pairs (j, j + 8) (normal-fill.ts, the
 *   AVX2 kernel that x86-64 PyTorch builds run). If the size is not a
 *   multiple of 16, 16 fresh uniforms are drawn for the last 16 elements
 *   and that block is recomputed, overwriting the tail of the previous one.
 * - randn with < 16 elements: per element, normal_distribution<double>:
 *   u1, u2 = 53-bit doubles ((random64() & (2^53 - 1)) * 2^-53),
 *   r = sqrt(-2 * log1p(-u2)), theta = 2 * pi * u1, the element is
 *   r * cos(theta) * std + mean and r * sin(theta) is cached in the
 *   generator for the next small draw (across calls, as in PyTorch;
 *   re-seeding clears it). Values are computed in float64 and rounded once
 *   to float32.
 * Successive calls continue the stream exactly as successive torch calls.
 *
 * PyTorch x86 builds differ in whether the compiler fused the AVX2 kernel's
 * multiply-adds (see cephes-float32.ts); the default reproduces the
 * unfused sequence, which matches published torch outputs (see the tests),
 * and `{ fusedMultiplyAdd: true }` reproduces fused builds. The two differ
 * by one ulp in about 1% of the >= 16-element samples and never elsewhere.
 *
 * Known limits: PyTorch builds without AVX2 (e.g. ARM) use libm's logf/cosf
 * for the >= 16 path, so their last bits can differ from these; randn with
 * dtype 'float16' here is the float32 sample rounded to half, while
 * torch.randn(dtype=torch.float16) runs a separate half-precision kernel.
 */
import { Tensor, TensorDTypeError, sizeOf } from '../tensor/tensor.js';
import { float32ArrayToFloat16, float32ToFloat16Bits } from '../tensor/float16.js';
import { Mt19937, type Mt19937State } from './mt19937.js';
import { normalFill16 } from './normal-fill.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

export type Seed = number | bigint;

/** PyTorch's default seed for a new generator (c10 default_rng_seed_val). */
export const DEFAULT_SEED = 67280421310721n;

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;

export interface RandomOptions {
  /** Output dtype; default 'float32'. */
  dtype?: 'float32' | 'float16';
}

export interface NormalOptions extends RandomOptions {
  mean?: number;
  std?: number;
}

export interface GeneratorOptions {
  /**
   * Match a PyTorch build whose AVX2 normal kernel has fused multiply-adds
   * (1-ulp differences in ~1% of large randn samples). Default false.
   */
  fusedMultiplyAdd?: boolean;
}

export interface GeneratorState {
  readonly seed: bigint;
  readonly engine: Mt19937State;
  readonly nextDoubleNormal: number | undefined;
}

export class GeneratorSeedError extends ModularDiffusersError {
  static override readonly code: string = 'GENERATOR_SEED';
  override name = 'GeneratorSeedError';
}

function toSeed(seed: Seed): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new GeneratorSeedError(`Seed ${seed} is not a safe integer; pass an integer number or a bigint.`);
  }
  const value = BigInt(seed);
  if (value < -(2n ** 63n) || value >= 2n ** 64n) {
    throw new GeneratorSeedError(`Seed ${value} is outside [-2^63, 2^64 - 1], the range torch.manual_seed accepts.`);
  }
  // Negative seeds are reinterpreted as unsigned 64-bit, as PyTorch does.
  return BigInt.asUintN(64, value);
}

export class Generator {
  private readonly engine = new Mt19937();
  private seedValue = DEFAULT_SEED;
  private nextDoubleNormal: number | undefined;
  private readonly fused: boolean;

  constructor(seed: Seed = DEFAULT_SEED, options: GeneratorOptions = {}) {
    this.fused = options.fusedMultiplyAdd ?? false;
    this.manualSeed(seed);
  }

  /** Whether this generator reproduces PyTorch builds with fused multiply-adds (see the class notes). */
  get fusedMultiplyAdd(): boolean {
    return this.fused;
  }

  /** Re-seeds the stream (torch `manual_seed`); returns this for chaining. */
  manualSeed(seed: Seed): this {
    this.seedValue = toSeed(seed);
    this.engine.seed(Number(this.seedValue & 0xffffffffn));
    this.nextDoubleNormal = undefined;
    return this;
  }

  /** Seeds from Math.random (torch `Generator.seed()`); returns the new seed. */
  seed(): bigint {
    const high = BigInt(Math.floor(Math.random() * TWO_POW_32));
    const low = BigInt(Math.floor(Math.random() * TWO_POW_32));
    this.manualSeed((high << 32n) | low);
    return this.seedValue;
  }

  /** The seed last set (torch `initial_seed`), as an unsigned 64-bit bigint. */
  initialSeed(): bigint {
    return this.seedValue;
  }

  /** One 32-bit draw, unsigned. */
  random(): number {
    return this.engine.next();
  }

  /** Two draws combined, first in the high word. */
  random64(): bigint {
    const high = this.engine.next();
    const low = this.engine.next();
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** A uniform double in [0, 1) from 53 random bits (random64() masked). */
  private uniformDouble(): number {
    const high = this.engine.next() & 0x1fffff;
    const low = this.engine.next();
    return (high * TWO_POW_32 + low) * TWO_POW_M53;
  }

  /** One standard normal sample on the float64 path, using and refilling the cache. */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== undefined) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = undefined;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Uniform samples in [0, 1), like torch.rand(shape, generator=g). */
  rand(shape: readonly number[], options: RandomOptions = {}): Tensor<'float32' | 'float16'> {
    const size = sizeOf(shape);
    const dtype = checkDType(options.dtype, 'rand');
    if (dtype === 'float16') {
      const data = new Uint16Array(size);
      for (let i = 0; i < size; i++) data[i] = float32ToFloat16Bits((this.engine.next() & 0x7ff) / 2048);
      return new Tensor('float16', data, shape);
    }
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = (this.engine.next() & 0xffffff) * TWO_POW_M24;
    return new Tensor('float32', data, shape);
  }

  /** Normal samples, like torch.randn(shape, generator=g) (or torch.normal with mean/std). */
  randn(shape: readonly number[], options: NormalOptions = {}): Tensor<'float32' | 'float16'> {
    const size = sizeOf(shape);
    const dtype = checkDType(options.dtype, 'randn');
    const mean = options.mean ?? 0;
    const std = options.std ?? 1;
    if (!(std >= 0)) throw new RangeError(`randn: std must be >= 0, got ${std}.`);
    const data = new Float32Array(size);
    if (size >= 16) this.fillVectorized(data, Math.fround(mean), Math.fround(std));
    else for (let i = 0; i < size; i++) data[i] = this.normalDouble() * std + mean;
    if (dtype === 'float16') return new Tensor('float16', float32ArrayToFloat16(data), shape);
    return new Tensor('float32', data, shape);
  }

  private fillVectorized(data: Float32Array, mean: number, std: number): void {
    const size = data.length;
    for (let i = 0; i < size; i++) data[i] = (this.engine.next() & 0xffffff) * TWO_POW_M24;
    for (let i = 0; i + 16 <= size; i += 16) normalFill16(data, i, mean, std, this.fused);
    if (size % 16 !== 0) {
      const tail = size - 16;
      for (let i = 0; i < 16; i++) data[tail + i] = (this.engine.next() & 0xffffff) * TWO_POW_M24;
      normalFill16(data, tail, mean, std, this.fused);
    }
  }

  /** A snapshot of the full state (torch `get_state`). */
  getState(): GeneratorState {
    return { seed: this.seedValue, engine: this.engine.getState(), nextDoubleNormal: this.nextDoubleNormal };
  }

  /** Restores a snapshot from getState (torch `set_state`); returns this. */
  setState(state: GeneratorState): this {
    this.engine.setState(state.engine);
    this.seedValue = state.seed;
    this.nextDoubleNormal = state.nextDoubleNormal;
    return this;
  }

  /** An independent generator continuing from the same state. */
  clone(): Generator {
    return new Generator(0, { fusedMultiplyAdd: this.fused }).setState(this.getState());
  }
}

function checkDType(dtype: string | undefined, operation: string): 'float32' | 'float16' {
  if (dtype === undefined || dtype === 'float32' || dtype === 'float16') return dtype ?? 'float32';
  throw new TensorDTypeError(`${operation}: dtype '${dtype}' is not supported; use 'float32' or 'float16'.`);
}
