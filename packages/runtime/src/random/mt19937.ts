/**
 * MT19937, the 32-bit Mersenne Twister, seeded and stepped exactly like
 * PyTorch's `at::mt19937` (ATen/core/MT19937RNGEngine.h), which is the
 * reference algorithm of Matsumoto & Nishimura (2002):
 * - state[0] = seed mod 2^32,
 *   state[j] = 1812433253 * (state[j-1] ^ (state[j-1] >>> 30)) + j;
 * - the state is regenerated ("twisted") on the first draw and every 624
 *   draws after, then each word is tempered.
 * With the default seed 5489 the first output is 3499211612 and the
 * 10000th is 4123659995 (the values the C++ standard requires of
 * std::mt19937).
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export interface Mt19937State {
  readonly state: Uint32Array;
  readonly index: number;
}

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed = 5489) {
    this.seed(seed);
  }

  /** Re-seeds with the low 32 bits of `seed` (a non-negative integer below 2^32). */
  seed(seed: number): void {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1];
      s[j] = Math.imul(1812433253, prev ^ (prev >>> 30)) + j;
    }
    this.index = N;
  }

  private twist(): void {
    const s = this.state;
    for (let j = 0; j < N; j++) {
      const y = (s[j] & UPPER) | (s[(j + 1) % N] & LOWER);
      s[j] = s[(j + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }

  /** Next 32-bit output as an unsigned integer. */
  next(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A copy of the internal state, for saving and restoring a stream. */
  getState(): Mt19937State {
    return { state: this.state.slice(), index: this.index };
  }

  setState(saved: Mt19937State): void {
    if (saved.state.length !== N || !(saved.index >= 0 && saved.index <= N)) {
      throw new RangeError(`Mt19937.setState: expected ${N} state words and an index in [0, ${N}].`);
    }
    this.state.set(saved.state);
    this.index = saved.index;
  }
}
