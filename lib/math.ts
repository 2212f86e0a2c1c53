/**
 * Small numeric helpers shared across modules: special functions and summaries that
 * every part of the toolkit needs in the same float64 form.
 * @module
 */

import { ArgumentError } from "./errors.ts";

// Lanczos approximation (g = 7, 9 terms): about 15 significant digits for x > 0.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The natural log of the gamma function, `ln Γ(x)`, for `x > 0`.
 * `logGamma(n + 1)` is `ln n!`, the constant term of the Poisson log-likelihood.
 *
 * @example
 * ```ts
 * import { logGamma } from "./math.ts";
 * Math.exp(logGamma(5)); // 24 (= 4!)
 * ```
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new ArgumentError(`logGamma needs x > 0, got ${x}`);
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Mean and (population) standard deviation, skipping NaN entries (infinities count). */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number; count: number } {
  let count = 0, sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) (sum += v, count++);
  }
  const mean = count > 0 ? sum / count : NaN;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) squares += (v - mean) * (v - mean);
  }
  return { mean, std: count > 0 ? Math.sqrt(squares / count) : NaN, count };
}

/** `count` numbers spaced evenly on a log scale from `10^start` to `10^stop` (as numpy). */
export function logspace(start: number, stop: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new ArgumentError(`logspace count must be a positive integer, got ${count}`);
  }
  if (count === 1) return [10 ** start];
  const step = (stop - start) / (count - 1);
  return Array.from({ length: count }, (_, i) => 10 ** (start + i * step));
}

/** Mean, sample standard deviation (n - 1; 0 for one value) and count of finite values. */
export function summarize(values: readonly number[]): { mean: number; sd: number; n: number } {
  const { mean, std, count: n } = meanStd(values.filter(Number.isFinite));
  if (n === 0) return { mean: NaN, sd: NaN, n };
  return { mean, sd: n > 1 ? std * Math.sqrt(n / (n - 1)) : 0, n };
}

/**
 * Two-sided exact sign test: the probability, under "wins and losses are equally likely",
 * of a split at least as uneven as `wins` : `losses` (ties are dropped, as usual).
 */
export function signTest(wins: number, losses: number): number {
  for (const [name, v] of [["wins", wins], ["losses", losses]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new ArgumentError(`signTest: ${name} must be an integer >= 0, got ${v}`);
    }
  }
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  let tail = 0, term = 2 ** -n; // C(n, 0) / 2^n
  for (let i = 0; i <= k; i++) {
    tail += term;
    term *= (n - i) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}
