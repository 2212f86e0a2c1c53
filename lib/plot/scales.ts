/**
 * The numbers behind the neural figures' axes and titles: index ranges, extents,
 * equal-aspect domains, R² and number formats. Pure functions of numbers; not part of the
 * public API.
 * @module
 */

/** The integers 0 to n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** R² of `predicted` against `actual` (1 - SSres / SStot), over pairs where `actual` is not NaN. */
export function rSquared(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  pick?: (i: number) => boolean,
): number {
  let count = 0, sum = 0;
  for (let i = 0; i < actual.length; i++) {
    if ((pick && !pick(i)) || Number.isNaN(actual[i])) continue;
    sum += actual[i];
    count++;
  }
  if (count === 0) return NaN;
  const mean = sum / count;
  let residual = 0, total = 0;
  for (let i = 0; i < actual.length; i++) {
    if ((pick && !pick(i)) || Number.isNaN(actual[i])) continue;
    residual += (actual[i] - predicted[i]) ** 2;
    total += (actual[i] - mean) ** 2;
  }
  return total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
}

/** An R² as shown in titles: 3 decimals, a typographic minus, `n/a` for NaN. */
export function formatR2(r2: number): string {
  return Number.isNaN(r2) ? "n/a" : formatNumber(Number(r2.toFixed(3)), 3);
}

/** A number as in axis labels: a typographic minus (U+2212), `digits` fixed when given. */
export function formatNumber(value: number, digits?: number): string {
  const text = digits === undefined ? String(Number(value.toPrecision(6))) : value.toFixed(digits);
  return text.replace("-", "\u2212");
}

/** Domains that show `x` and `y` ranges (padded 5 %) at the same units per pixel. */
export function equalAspect(
  xr: [number, number],
  yr: [number, number],
  widthPx: number,
  heightPx: number,
): { x: [number, number]; y: [number, number] } {
  const spanX = Math.max(xr[1] - xr[0], 1e-9) * 1.1, spanY = Math.max(yr[1] - yr[0], 1e-9) * 1.1;
  const unit = Math.max(spanX / widthPx, spanY / heightPx);
  const cx = (xr[0] + xr[1]) / 2, cy = (yr[0] + yr[1]) / 2;
  const hx = (unit * widthPx) / 2, hy = (unit * heightPx) / 2;
  return { x: [cx - hx, cx + hx], y: [cy - hy, cy + hy] };
}

/** The smallest and largest finite values, or [0, 1] when there are none. */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** `n word` or `n words`, with thousands separators (`1,234 spikes`). */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}
