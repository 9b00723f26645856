/**
 * Deterministic weights for the tiny models: mulberry32 (a 32-bit PRNG with
 * a full 2^32 period, fine for weights) and Box-Muller normals. Same seed,
 * same stream, on every platform, so generated repos are byte-identical.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `count` samples of N(0, std^2) as float32. */
  normal(count: number, std = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      // 1 - u keeps the log argument in (0, 1].
      const radius = Math.sqrt(-2 * Math.log(1 - this.uniform())) * std;
      const angle = 2 * Math.PI * this.uniform();
      out[i] = radius * Math.cos(angle);
      if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
    }
    return out;
  }

  /** A child stream, so adding weights to one model never shifts another's. */
  fork(label: string): SeededRandom {
    let hash = this.state ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193);
    return new SeededRandom(hash >>> 0);
  }
}
