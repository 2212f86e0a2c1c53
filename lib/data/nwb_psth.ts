/**
 * True PSTHs for psth R2, computed as the NLB reference computes them: 1 ms spike counts
 * smoothed with its Gaussian kernel over the continuous recording (never past an
 * observation interval's edge), summed into bins, averaged over the trials of each
 * condition. The work is proportional to the spikes, not to the recording's length.
 * @module
 */

import { gaussianWindow } from "../metrics/nlb.ts";
import type { TruePSTH } from "./dataset.ts";
import { firstAtOrAfter, msIndex } from "./nwb_tables.ts";

/**
 * Per-condition sums of 1 ms spike counts around each trial's window, smoothed and binned
 * unit by unit. The smoothed 1 ms signal `y[m] = Σ_j x[j] w[m + off - j]` (numpy's
 * "same" convolution with the reference's window `w` of length M, `off = (M - 1) >> 1`),
 * summed over each bin, is computed from the nonzero counts only: a count at input
 * position p adds `w`'s partial sums to the bins it reaches.
 */
export class PsthAccumulator {
  readonly #window: Float64Array;
  readonly #cumulative: Float64Array;
  readonly #before: number; // inputs needed before a window's first millisecond
  readonly #after: number; // and after its last
  readonly #buffers: Float64Array[];
  readonly #counts: Float64Array; // PSTH trials per condition (counted on the first unit)
  readonly #rates: Float64Array;
  readonly #binMs: number;
  readonly #bins: number;
  readonly #channels: number;
  #firstUnit = true;

  /** Sums for `conditions` conditions of `bins` bins of `binMs` ms, `channels` units. */
  constructor(sdMs: number, binMs: number, bins: number, conditions: number, channels: number) {
    this.#window = gaussianWindow(sdMs, 1);
    const m = this.#window.length, off = (m - 1) >> 1;
    this.#cumulative = new Float64Array(m + 1);
    for (let i = 0; i < m; i++) this.#cumulative[i + 1] = this.#cumulative[i] + this.#window[i];
    this.#before = m - 1 - off;
    this.#after = off;
    const length = bins * binMs + m - 1;
    this.#buffers = Array.from({ length: conditions }, () => new Float64Array(length));
    this.#counts = new Float64Array(conditions);
    this.#rates = new Float64Array(conditions * bins * channels);
    this.#binMs = binMs;
    this.#bins = bins;
    this.#channels = channels;
  }

  /** Add one trial's spikes around the window starting at `startMs`, within `segment`. */
  addTrial(
    times: Float64Array,
    condition: number,
    startMs: number,
    segment: [number, number],
    endMs: number,
  ): void {
    if (this.#firstUnit) this.#counts[condition]++;
    const buffer = this.#buffers[condition];
    const origin = startMs - this.#before;
    const from = Math.max(origin, segment[0], 0);
    const to = Math.min(startMs + this.#bins * this.#binMs + this.#after, segment[1], endMs);
    for (let j = firstAtOrAfter(times, from); j < times.length; j++) {
      const ms = msIndex(times[j]);
      if (ms >= to) break;
      buffer[ms - origin]++;
    }
  }

  /** Smooth and bin this unit's sums into PSTH column `channel`, then clear them. */
  finishUnit(channel: number): void {
    this.#firstUnit = false;
    const m = this.#window.length, binMs = this.#binMs, bins = this.#bins;
    const length = bins * binMs, W = this.#cumulative;
    this.#buffers.forEach((buffer, c) => {
      const rowBase = c * bins;
      for (let p = 0; p < buffer.length; p++) {
        const x = buffer[p];
        if (x === 0) continue;
        const rLo = Math.max(0, p - m + 1), rHi = Math.min(length - 1, p);
        for (let b = Math.floor(rLo / binMs); b * binMs <= rHi; b++) {
          const lo = Math.max(b * binMs, rLo), hi = Math.min((b + 1) * binMs - 1, rHi);
          const weight = W[hi - p + m] - W[lo - p + m - 1];
          this.#rates[((rowBase + b) * this.#channels) + channel] += x * weight;
        }
      }
      buffer.fill(0);
    });
  }

  /** The condition means (NaN for a condition without trials); call after the last unit. */
  result(kernelSdMs: number): TruePSTH {
    const conditions = this.#counts.length, stride = this.#bins * this.#channels;
    for (let c = 0; c < conditions; c++) {
      const count = this.#counts[c];
      for (let j = c * stride; j < (c + 1) * stride; j++) {
        this.#rates[j] = count > 0 ? this.#rates[j] / count : NaN;
      }
    }
    return {
      rates: { data: this.#rates, shape: [conditions, this.#bins, this.#channels] },
      conditionIds: Array.from({ length: conditions }, (_, c) => c),
      trialCounts: Array.from(this.#counts),
      kernelSdMs,
    };
  }
}
