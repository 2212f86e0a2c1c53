/**
 * NWB TimeSeries: finding every series in a file (a `data` dataset with `timestamps` or
 * `starting_time` + `rate`, wherever it lives), reading its values and sample times in
 * row chunks, and sampling it at bin times the way the NLB reference does (1 kHz series
 * low-pass filtered and decimated; any other series sampled at, or interpolated between,
 * its samples).
 * @module
 */

import { describe } from "../errors.ts";
import {
  getDataset,
  getGroup,
  type H5Dataset,
  type H5File,
  type H5Group,
  H5T,
  readAttribute,
  readNumbers,
  toFloat64,
} from "./hdf5.ts";

/** A TimeSeries found in the file (metadata only; nothing big is read). */
export interface TimeSeriesInfo {
  /** HDF5 path of the series' group. */
  path: string;
  /** The group's name (`hand_vel`). */
  name: string;
  /** The name nlb_tools gives it: the name, or `<container>_<name>` inside a container. */
  nlbName: string;
  /** The `neurodata_type` attribute, if any. */
  neurodataType: string | null;
  /** Samples (rows of `data`). */
  rows: number;
  /** Channels (columns of `data`, trailing dimensions flattened). */
  columns: number;
  /** Column names from the `comments` attribute (`columns=[x,y]`), if any. */
  columnNames: string[] | null;
  /** How sample times are given. */
  timing:
    | { kind: "timestamps"; count: number }
    | { kind: "rate"; startingTime: number; rate: number }
    | { kind: "missing" };
  /** The HDF5 type of `data`. */
  dtype: string;
  /** What is wrong with the series, if anything (lengths that disagree, no timing). */
  problem: string | null;
}

const SKIP_GROUPS = new Set(["specifications", "units", "intervals", "general"]);

/** Every TimeSeries-like group in the file: a `data` dataset with `timestamps` or `starting_time`. */
export function findTimeSeries(file: H5File): TimeSeriesInfo[] {
  const found: TimeSeriesInfo[] = [];
  const walk = (group: H5Group, path: string, parentName: string | null, depth: number) => {
    for (const key of group.keys()) {
      if (depth === 0 && SKIP_GROUPS.has(key)) continue;
      const child = getGroup(group, key);
      if (!child) continue;
      const childPath = `${path}/${key}`;
      const data = getDataset(child, "data");
      const type = readAttribute(child, "neurodata_type");
      const isSeries = data !== null &&
        (getDataset(child, "timestamps") !== null || getDataset(child, "starting_time") !== null ||
          (typeof type === "string" && type.endsWith("Series")));
      if (isSeries) {
        found.push(describeSeries(child, childPath, key, parentName, data));
      } else if (depth < 8) {
        const isContainer = typeof type === "string" && type !== "ProcessingModule" &&
          type !== "NWBFile";
        walk(child, childPath, isContainer ? key : null, depth + 1);
      }
    }
  };
  walk(file, "", null, 0);
  return found;
}

function describeSeries(
  group: H5Group,
  path: string,
  name: string,
  parentName: string | null,
  data: H5Dataset,
): TimeSeriesInfo {
  const shape = data.shape ?? [];
  const rows = shape[0] ?? 1;
  const columns = shape.slice(1).reduce((a, b) => a * b, 1);
  const comments = readAttribute(group, "comments");
  const columnNames = typeof comments === "string" && comments.includes("columns=")
    ? comments.split("[").pop()!.split("]")[0].split(",").map((c) => c.trim())
    : null;
  const type = readAttribute(group, "neurodata_type");
  let timing: TimeSeriesInfo["timing"] = { kind: "missing" };
  let problem: string | null = null;
  const timestamps = getDataset(group, "timestamps");
  const start = getDataset(group, "starting_time");
  if (timestamps) {
    const count = timestamps.shape?.[0] ?? 1;
    timing = { kind: "timestamps", count };
    if (count !== rows) {
      problem = `${path}/timestamps has ${count} entries but ${path}/data has ${rows} rows; ` +
        `expected one timestamp per row`;
    }
  } else if (start) {
    const rate = Number(readAttribute(start, "rate"));
    const startingTime = toFloat64(start.value, `${path}/starting_time`)[0];
    timing = { kind: "rate", startingTime, rate };
    if (!(rate > 0) || !Number.isFinite(startingTime)) {
      problem = `${path}/starting_time is ${startingTime} with rate attribute ${
        describe(readAttribute(start, "rate"))
      }; expected a finite start and a rate > 0 Hz`;
    }
  } else {
    problem = `${path} has neither timestamps nor starting_time; expected one of them`;
  }
  if (!problem && shape.length === 0) problem = `${path}/data is a scalar; expected samples`;
  if (!problem && data.metadata.type !== H5T.integer && data.metadata.type !== H5T.float) {
    problem = `${path}/data holds HDF5 type ${data.dtype}; expected numbers`;
  }
  return {
    path,
    name,
    nlbName: parentName ? `${parentName}_${name}` : name,
    neurodataType: typeof type === "string" ? type : null,
    rows,
    columns,
    columnNames,
    timing,
    dtype: String(data.dtype),
    problem,
  };
}

/** Behavior channel names: `hand_vel_x` for column `x` of series `hand_vel`. */
export function seriesColumnNames(
  series: string,
  columns: readonly string[] | null,
  dims: number,
): string[] {
  if (columns && columns.length === dims) return columns.map((c) => `${series}_${c}`);
  if (dims === 1) return [series];
  return Array.from({ length: dims }, (_, k) => `${series}_${dims <= 3 ? "xyz"[k] : k}`);
}

const CHUNK_ROWS = 1 << 19;

/** The series' values, one float64 array per column (read in row chunks). */
export function readSeriesColumns(file: H5File, info: TimeSeriesInfo): Float64Array[] {
  const ds = getDataset(file, `${info.path}/data`)!;
  const out = Array.from({ length: info.columns }, () => new Float64Array(info.rows));
  const width = info.columns;
  for (let r0 = 0; r0 < info.rows; r0 += CHUNK_ROWS) {
    const r1 = Math.min(info.rows, r0 + CHUNK_ROWS);
    const chunk = readNumbers(ds, `${info.path}/data`, [r0, r1]);
    for (let r = r0; r < r1; r++) {
      for (let c = 0; c < width; c++) out[c][r] = chunk[(r - r0) * width + c];
    }
  }
  return out;
}

/** Sample times in seconds (read in chunks for timestamps; computed for a rate). */
export function readSeriesTimes(file: H5File, info: TimeSeriesInfo): Float64Array {
  if (info.timing.kind === "rate") {
    const { startingTime, rate } = info.timing;
    return Float64Array.from({ length: info.rows }, (_, j) => startingTime + j / rate);
  }
  const ds = getDataset(file, `${info.path}/timestamps`)!;
  const out = new Float64Array(info.rows);
  for (let r0 = 0; r0 < info.rows; r0 += CHUNK_ROWS) {
    const r1 = Math.min(info.rows, r0 + CHUNK_ROWS);
    out.set(readNumbers(ds, `${info.path}/timestamps`, [r0, r1]), r0);
  }
  return out;
}

/** Whether every time is a whole millisecond (to 1 µs) and most steps are exactly 1 ms. */
function isKilohertzOnGrid(times: Float64Array): boolean {
  if (times.length < 2) return false;
  let unitSteps = 0;
  for (let j = 0; j < times.length; j++) {
    const ms = times[j] * 1000;
    if (Math.abs(ms - Math.round(ms)) > 1e-3) return false;
    if (j > 0 && Math.round(ms) - Math.round(times[j - 1] * 1000) === 1) unitSteps++;
  }
  return unitSteps * 2 > times.length - 1;
}

/**
 * scipy's `firwin(numtaps, cutoff, window="hamming")`: a low-pass FIR filter, cutoff as a
 * fraction of Nyquist, normalized to unit gain at DC.
 */
function firwinHamming(numtaps: number, cutoff: number): Float64Array {
  const h = new Float64Array(numtaps);
  const alpha = (numtaps - 1) / 2;
  let sum = 0;
  for (let n = 0; n < numtaps; n++) {
    const m = n - alpha;
    const x = Math.PI * cutoff * m;
    const sinc = m === 0 ? 1 : Math.sin(x) / x;
    const hamming = 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (numtaps - 1));
    h[n] = cutoff * sinc * hamming;
    sum += h[n];
  }
  for (let n = 0; n < numtaps; n++) h[n] /= sum;
  return h;
}

/** The reference's anti-aliasing filter: `decimate(x, q, n=500, ftype="fir")`. */
const DECIMATE_ORDER = 500;

/** Linear interpolation over NaN in place (by position; constant beyond the ends). */
function fillNaN(x: Float64Array): void {
  let previous = -1;
  for (let i = 0; i <= x.length; i++) {
    if (i < x.length && Number.isNaN(x[i])) continue;
    // x[previous] and x[i] are valid (or an end); fill between them.
    if (i - previous > 1) {
      const left = previous >= 0 ? x[previous] : NaN, right = i < x.length ? x[i] : NaN;
      for (let k = previous + 1; k < i; k++) {
        if (Number.isNaN(left)) x[k] = right;
        else if (Number.isNaN(right)) x[k] = left;
        else x[k] = left + ((right - left) * (k - previous)) / (i - previous);
      }
    }
    previous = i;
  }
}

/**
 * Values of one series at bin start times `binIndex * binMs` (ms). A 1 kHz series on the
 * millisecond grid goes the reference's way (1 ms grid of length `gridMs`, NaN filled,
 * FIR low-pass, sampled every `binMs`, NaN restored); any other series is sampled at the
 * bin times, exactly where a sample falls on one and linearly between samples otherwise
 * (NaN across gaps longer than twice the typical step, and outside the samples).
 */
export function sampleSeries(
  columns: Float64Array[],
  times: Float64Array,
  binIndex: Int32Array,
  binMs: number,
  gridMs: number,
): Float64Array[] {
  if (binMs > 1 && isKilohertzOnGrid(times)) {
    const h = firwinHamming(DECIMATE_ORDER + 1, 1 / binMs);
    const half = DECIMATE_ORDER / 2;
    return columns.map((values) => {
      const grid = new Float64Array(gridMs).fill(NaN);
      for (let j = 0; j < times.length; j++) {
        const ms = Math.round(times[j] * 1000);
        if (ms >= 0 && ms < gridMs) grid[ms] = values[j];
      }
      const out = new Float64Array(binIndex.length);
      for (let k = 0; k < binIndex.length; k++) {
        const center = binIndex[k] * binMs;
        out[k] = center < 0 || center >= gridMs || Number.isNaN(grid[center]) ? NaN : 0;
      }
      fillNaN(grid);
      for (let k = 0; k < binIndex.length; k++) {
        if (Number.isNaN(out[k])) continue;
        const center = binIndex[k] * binMs;
        const lo = Math.max(-half, -center), hi = Math.min(half, gridMs - 1 - center);
        let sum = 0;
        for (let i = lo; i <= hi; i++) sum += h[half + i] * grid[center + i];
        out[k] = sum;
      }
      return out;
    });
  }
  // Sampling at the bin times.
  const us = Float64Array.from(times, (t) => Math.round(t * 1e6));
  const steps: number[] = [];
  for (let j = 1; j < us.length; j += Math.max(1, Math.floor(us.length / 1000))) {
    steps.push(us[j] - us[j - 1]);
  }
  steps.sort((a, b) => a - b);
  const maxGap = 2 * (steps.length ? steps[steps.length >> 1] : Infinity);
  return columns.map((values) =>
    Float64Array.from(binIndex, (bin) => {
      const target = bin * binMs * 1000;
      let lo = 0, hi = us.length; // first sample at or after the target
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (us[mid] < target) lo = mid + 1;
        else hi = mid;
      }
      if (lo < us.length && us[lo] === target) return values[lo];
      if (lo === 0 || lo === us.length || us[lo] - us[lo - 1] > maxGap) return NaN;
      const f = (target - us[lo - 1]) / (us[lo] - us[lo - 1]);
      return values[lo - 1] + f * (values[lo] - values[lo - 1]);
    })
  );
}

/** Fraction of NaN values in the series' `data` (read in row chunks); 0 for no values. */
export function seriesNaNFraction(file: H5File, info: TimeSeriesInfo): number {
  const ds = getDataset(file, `${info.path}/data`)!;
  let nan = 0, total = 0;
  for (let r0 = 0; r0 < info.rows; r0 += CHUNK_ROWS) {
    const chunk = readNumbers(ds, `${info.path}/data`, [r0, Math.min(info.rows, r0 + CHUNK_ROWS)]);
    for (const v of chunk) if (Number.isNaN(v)) nan++;
    total += chunk.length;
  }
  return total ? nan / total : 0;
}
