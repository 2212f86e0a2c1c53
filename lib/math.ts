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

/** What `wilcoxonSignedRank` returns. */
export interface WilcoxonResult {
  /** The smaller of the positive and the negative rank sums (scipy's two-sided statistic). */
  statistic: number;
  /** Two-sided p-value. */
  p: number;
  /** Number of non-zero differences: the ones that were ranked. */
  n: number;
  /** How `p` was computed: the exact null distribution, or the normal approximation. */
  method: "exact" | "approx";
}

/**
 * The upper tail of the standard normal, `P(Z > z)`, to about 1e-14 relative: `erfc(z/√2)/2`
 * with erf's all-positive series below `z/√2 = 1.5` and erfc's continued fraction above.
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 1 - normalSf(-z);
  if (z === Infinity) return 0;
  const x = z / Math.SQRT2;
  // e^{−z²/2}, with z split so that the square's rounding does not grow with z.
  const high = Math.round(z * 16) / 16;
  const gauss = Math.exp(-(high * high) / 2) * Math.exp(-((z - high) * (z + high)) / 2);
  if (x < 1.5) {
    // erf(x) = 2/√π · e^{−x²} · Σ_k 2^k x^{2k+1} / (1·3·…·(2k+1)).
    let term = x, sum = x;
    for (let k = 1; term > 1e-17 * sum; k++) {
      term *= (2 * x * x) / (2 * k + 1);
      sum += term;
    }
    return (1 - (2 / Math.sqrt(Math.PI)) * gauss * sum) / 2;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by modified Lentz.
  const tiny = 1e-300;
  let f = x, c = x, d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return gauss / Math.sqrt(Math.PI) / f / 2;
}

/**
 * Two-sided Wilcoxon signed-rank test of "the differences are symmetric about zero", as
 * `scipy.stats.wilcoxon(differences)` with its defaults: zero differences are dropped
 * (`zero_method="wilcox"`), the rest ranked by absolute value (ties get their mean rank),
 * and the statistic is the smaller of the positive and negative rank sums.
 *
 * The p-value is exact (the null distribution of the positive rank sum, enumerated) when
 * there are at most 50 differences, none zero and no tied absolute values; otherwise it
 * is the normal approximation with the tie correction of the variance and no continuity
 * correction (scipy's `correction=False`). Where scipy 1.10 differs: with ties but no
 * zeros and at most 50 differences it uses the exact distribution on the truncated rank
 * sum, which is not symmetric in the sign of the data (scipy later fixed this,
 * gh-19872); this function uses the normal approximation there, which equals
 * `wilcoxon(d, method="approx")`.
 *
 * With no non-zero difference (all zero, or none given) there is no evidence either way:
 * the result is `statistic` 0, `p` 1, `n` 0, method `"exact"` (scipy raises or returns
 * NaN there). A non-finite difference is an ArgumentError.
 *
 * @example
 * ```ts
 * import { wilcoxonSignedRank } from "./math.ts";
 * wilcoxonSignedRank([1.5, -0.3, 2.2, 0.7, -1.1, 3.4, 0.05, -2.6, 1.9, 0.45]);
 * // { statistic: 16, p: 0.275390625, n: 10, method: "exact" }
 * ```
 */
export function wilcoxonSignedRank(differences: readonly number[]): WilcoxonResult {
  differences.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(
        `wilcoxonSignedRank: differences[${i}] is ${v}; expected a finite number`,
      );
    }
  });
  const total = differences.length;
  const nonzero = differences.filter((v) => v !== 0);
  const n = nonzero.length;
  if (n === 0) return { statistic: 0, p: 1, n: 0, method: "exact" };
  // Average ranks of |d| (1-based), and the tie groups' sizes.
  const order = nonzero.map((_, i) => i).sort((a, b) =>
    Math.abs(nonzero[a]) - Math.abs(nonzero[b])
  );
  const rank = new Float64Array(n);
  let tieTerm = 0; // Σ (t³ − t) over tie groups
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && Math.abs(nonzero[order[end]]) === Math.abs(nonzero[order[start]])) end++;
    const mean = (start + 1 + end) / 2, t = end - start;
    for (let k = start; k < end; k++) rank[order[k]] = mean;
    tieTerm += t * t * t - t;
    start = end;
  }
  let plus = 0, minus = 0;
  nonzero.forEach((v, i) => (v > 0 ? (plus += rank[i]) : (minus += rank[i])));
  const statistic = Math.min(plus, minus);
  if (total <= 50 && n === total && tieTerm === 0) {
    // Exact: counts[s] = number of sign patterns whose positive ranks sum to s (integers
    // below 2^50, so exact in float64).
    const maxSum = (n * (n + 1)) / 2;
    const counts = new Float64Array(maxSum + 1);
    counts[0] = 1;
    for (let r = 1; r <= n; r++) {
      for (let s = (r * (r + 1)) / 2; s >= r; s--) counts[s] += counts[s - r];
    }
    if (plus === maxSum / 2) return { statistic, p: 1, n, method: "exact" };
    let below = 0, above = 0;
    for (let s = 0; s <= plus; s++) below += counts[s];
    for (let s = plus; s <= maxSum; s++) above += counts[s];
    const p = Math.min(1, (2 * Math.min(below, above)) / 2 ** n);
    return { statistic, p, n, method: "exact" };
  }
  const mean = (n * (n + 1)) / 4;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1) - tieTerm / 2) / 24);
  const z = (statistic - mean) / sd;
  return { statistic, p: Math.min(1, 2 * normalSf(Math.abs(z))), n, method: "approx" };
}
