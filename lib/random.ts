/**
 * A seeded pseudo-random generator that gives the same stream on every platform:
 * only 32-bit integer arithmetic (`Math.imul`, shifts) touches the state, so no floating
 * point rounding can make two machines disagree. The state update is SFC32 (Chris
 * Doty-Humphrey's Small Fast Chaotic generator), seeded through SplitMix32 so that nearby
 * seeds give unrelated streams.
 * @module
 */

import { ArgumentError } from "./errors.ts";
import { logGamma } from "./math.ts";

const TWO_POW_MINUS_32 = 2 ** -32;

/** One SplitMix32 step: a good 32-bit mixer for turning seeds into states. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new ArgumentError(`seed must be an integer, got ${seed}`);
  }
}

/**
 * A seed derived from a parent seed and a label, independent of call order: give each
 * part of a generator its own stream (`deriveSeed(seed, "spikes")`) so that changing one
 * part never shifts the random numbers of another.
 */
export function deriveSeed(seed: number, label: string | number): number {
  checkSeed(seed);
  // Fold the full 53-bit seed in, then the label's characters (FNV-1a style).
  let h = splitmix32((seed >>> 0) ^ splitmix32(Math.floor(seed / 2 ** 32) | 0));
  const text = String(label);
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return splitmix32(h);
}

/**
 * Seeded random numbers: uniform, normal, Poisson, integers and shuffles.
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * const rng = new Random(42);
 * const u = rng.uniform(); // in [0, 1), the same on every machine for seed 42
 * const k = rng.poisson(3.5);
 * ```
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;

  /** Start a stream from an integer seed (any safe integer). */
  constructor(seed: number) {
    checkSeed(seed);
    let s = (seed >>> 0) ^ splitmix32(Math.floor(seed / 2 ** 32) | 0);
    s = splitmix32(s);
    this.#a = s;
    this.#b = s = splitmix32(s);
    this.#c = s = splitmix32(s);
    this.#d = 1;
    // SFC32's own advice: discard the first outputs so the state is well mixed.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32-bit unsigned integer of the stream. */
  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /**
   * Fill `out` with a Bernoulli mask: each entry `value` with probability `p`, else 0.
   * Entry i is `value` exactly when the i-th `uniform()` of the stream would be below `p`
   * (the same numbers, drawn in a tight loop: dropout masks are tens of millions of
   * entries per training step).
   */
  fillBernoulli(out: Float32Array, p: number, value: number): Float32Array {
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`probability must be in [0, 1], got ${p}`);
    // uniform() < p  <=>  x * 2^-32 < p  <=>  x < p * 2^32 (both sides exact in float64).
    const threshold = p * 2 ** 32;
    let a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      // Branch-free: floor((x - threshold) / 2^32) is -1 when x < threshold, else 0.
      out[i] = value * (0 - Math.floor(((t >>> 0) - threshold) * TWO_POW_MINUS_32));
    }
    [this.#a, this.#b, this.#c, this.#d] = [a, b, c, d];
    return out;
  }

  /** A uniform number in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() * TWO_POW_MINUS_32;
  }

  /** A uniform number in [low, high). */
  uniformRange(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.#spareNormal !== null) {
      const z = this.#spareNormal;
      this.#spareNormal = null;
      return mean + sd * z;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], so the log is finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.#spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return mean + sd * radius * Math.cos(2 * Math.PI * u2);
  }

  /** An integer uniform in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new ArgumentError(`int(n) needs an integer n in [1, 2^32], got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /**
   * A Poisson draw with mean `lambda`: sequential inversion for small means, and
   * Hörmann's transformed rejection (PTRS) for means of 12 and above.
   */
  poisson(lambda: number): number {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) {
      throw new ArgumentError(`poisson mean must be finite and >= 0, got ${lambda}`);
    }
    if (lambda === 0) return 0;
    if (lambda < 12) {
      const u = this.uniform();
      // Squeeze: 1 - λ <= exp(-λ) = P(0), so u <= 1 - λ is a zero without computing the
      // exponential (most draws at spike-train rates). Same result as plain inversion.
      if (u <= 1 - lambda) return 0;
      let p = Math.exp(-lambda), cdf = p, k = 0;
      while (u > cdf) {
        k++;
        p *= lambda / k;
        cdf += p;
        if (p < 1e-17 && cdf > 1 - 1e-15) break; // rounding guard far in the tail
      }
      return k;
    }
    return this.#poissonPTRS(lambda);
  }

  #poissonPTRS(lambda: number): number {
    const slam = Math.sqrt(lambda);
    const logLambda = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor((2 * a / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
      if (lhs <= -lambda + k * logLambda - logGamma(k + 1)) return k;
    }
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}
