/**
 * The NWB fixture writer: turn a binned `NeuralDataset` (usually synthetic) into an NWB
 * file in the layout of the Neural Latents Benchmark recordings, so the NWB reader can be
 * tested on files whose content is known exactly, and benchmarked at full size.
 *
 * Trials are laid end to end on one clock. Each binned count becomes that many spike
 * times, placed uniformly at random (seeded) inside their bin, so reading the file back
 * with the same window and bin width gives exactly the same counts. Behavior becomes
 * TimeSeries under `/processing/behavior`, lag included, sampled at the bin times (or at
 * any rate, interpolated linearly between bins).
 * @module
 */

import { ArgumentError, describe } from "../errors.ts";
import { deriveSeed, Random } from "../random.ts";
import { type NeuralDataset, type Split, validateDataset } from "./dataset.ts";
import { type H5Group, setNumberAttribute, writeHDF5Atomic } from "./hdf5.ts";

/** Options of `writeNWB`. Times are in ms unless the name says otherwise. */
export interface WriteNWBOptions {
  /** Trials-table column holding the alignment event. Default `"move_onset_time"`. */
  alignField?: string;
  /** Where the first observed bin starts, relative to the event. Default -250 (MC_Maze). */
  windowStartMs?: number;
  /** Silence between one trial's extent and the next one's. Default 1000. */
  gapMs?: number;
  /**
   * Spread the trials evenly over a recording this long (an NLB-sized file), instead of
   * packing them `gapMs` apart.
   */
  recordingSeconds?: number;
  /** Behavior TimeSeries timing: `"timestamps"` (default) or `"rate"` (starting_time + rate). */
  behaviorTiming?: "timestamps" | "rate";
  /**
   * Which times behavior covers with `"timestamps"`: the trials' behavior windows only
   * (`"trials"`, default) or the whole recording, NaN between trials (`"recording"`, as
   * the NLB files). A `"rate"` series always covers the whole recording.
   */
  behaviorSpan?: "trials" | "recording";
  /**
   * Behavior sampling rate, Hz. Default one sample per bin (`1000 / binMs`), which reads
   * back exactly; 1000 writes NLB-like 1 kHz series, linear between the bins' values.
   */
  behaviorRateHz?: number;
  /**
   * Also fill the time between trials with spikes at each neuron's mean rate (Poisson), so
   * the file holds as many spikes as a continuous recording would. Default false.
   */
  backgroundSpikes?: boolean;
  /**
   * The `split` label written for each of the dataset's splits. Default NLB's convention
   * for a file read with `loadNWB`'s defaults: train and val trials are `"train"`, test
   * trials `"val"` (the split NLB scores locally).
   */
  splitLabels?: Partial<Record<Split, string>>;
  /** Seed of the spike placement and background spikes. Default 0. */
  seed?: number;
}

/** The NLB convention: what `loadNWB`'s default split mapping turns back into train / test. */
export const NLB_SPLIT_LABELS: Readonly<Record<Split, string>> = {
  train: "train",
  val: "train",
  test: "val",
};

/** Where `writeNWB` put things, for tests and for reading the file back. */
export interface NWBFixtureLayout {
  /** Alignment event time of each trial, seconds. */
  alignTimes: Float64Array;
  /** Start of each trial's first observed bin, seconds. */
  windowStartTimes: Float64Array;
  /** Length of the recording, seconds (every unit's observation interval is [0, this]). */
  recordingSeconds: number;
  /** For each row of `/units`: the neuron it holds, held-in first (`c`) then held-out (`nIn + c`). */
  unitOrder: Int32Array;
  /** The behavior TimeSeries written: name and the dataset's behavior dimensions it holds. */
  behaviorSeries: { name: string; columns: string[]; dims: number[] }[];
  /** Spike times written in all. */
  spikes: number;
}

/**
 * Group behavior dimensions into TimeSeries: `hand_vel_x`, `hand_vel_y` become one series
 * `hand_vel` with columns `x`, `y`; a name without an axis or index suffix is a 1-D series.
 */
export function behaviorSeriesOf(names: readonly string[]): NWBFixtureLayout["behaviorSeries"] {
  const series: NWBFixtureLayout["behaviorSeries"] = [];
  names.forEach((name, dim) => {
    const match = /^(.+)_([xyz]|\d+)$/.exec(name);
    const base = match ? match[1] : name;
    const last = series[series.length - 1];
    if (match && last && last.name === base && last.columns.length > 0) {
      last.columns.push(match[2]);
      last.dims.push(dim);
    } else {
      series.push({ name: base, columns: match ? [match[2]] : [], dims: [dim] });
    }
  });
  const seen = new Set<string>();
  for (const s of series) {
    if (seen.has(s.name)) {
      throw new ArgumentError(
        `behavior names ${describe(names.join(", "))} give two TimeSeries named "${s.name}"; ` +
          `expected each series' dimensions to be next to each other`,
      );
    }
    seen.add(s.name);
  }
  return series;
}

function checkOptions(d: NeuralDataset, o: Required<Omit<WriteNWBOptions, "recordingSeconds">>) {
  if (!Number.isInteger(d.binMs)) {
    throw new ArgumentError(`writeNWB needs whole-millisecond bins; binMs is ${d.binMs}`);
  }
  for (
    const [name, value] of [["windowStartMs", o.windowStartMs], [
      "behaviorLagMs",
      d.behaviorLagMs,
    ]] as const
  ) {
    if (!Number.isInteger(value / d.binMs)) {
      throw new ArgumentError(
        `${name} is ${value} ms; expected a multiple of the ${d.binMs} ms bin`,
      );
    }
  }
  if (!(o.gapMs >= 0)) throw new ArgumentError(`gapMs must be >= 0, got ${describe(o.gapMs)}`);
  if (!(o.behaviorRateHz > 0) || !Number.isFinite(o.behaviorRateHz)) {
    throw new ArgumentError(`behaviorRateHz must be > 0, got ${describe(o.behaviorRateHz)}`);
  }
  if (o.behaviorSpan !== "trials" && o.behaviorSpan !== "recording") {
    throw new ArgumentError(
      `behaviorSpan is ${describe(o.behaviorSpan)}; expected "trials" or "recording"`,
    );
  }
  if (o.behaviorTiming !== "timestamps" && o.behaviorTiming !== "rate") {
    throw new ArgumentError(
      `behaviorTiming is ${describe(o.behaviorTiming)}; expected "timestamps" or "rate"`,
    );
  }
  for (const s of ["train", "val", "test"] as const) {
    if (typeof o.splitLabels[s] !== "string") {
      throw new ArgumentError(
        `splitLabels.${s} must be a string, got ${describe(o.splitLabels[s])}`,
      );
    }
  }
}

/**
 * Write `dataset` as an NWB file in the NLB layout:
 *
 * - `/units`: ragged `spike_times` (float64 seconds) with `spike_times_index`, a boolean
 *   `heldout` column (held-out units interleaved among held-in ones, seeded), ragged
 *   `obs_intervals` with `obs_intervals_index`;
 * - `/intervals/trials`: `start_time`, `stop_time`, the alignment event (default
 *   `move_onset_time`), `split` (strings), `trial_type` (the condition id),
 *   `trial_version` (0), `condition` (strings, `condition_<id>`) and `success` (booleans);
 * - `/processing/behavior/<series>`: one TimeSeries per behavior group (`hand_vel` for
 *   `hand_vel_x`, `hand_vel_y`), with `timestamps` or `starting_time` + `rate`, NaN
 *   outside the trials' behavior windows.
 *
 * Read it back with `loadNWB(path, { preset: "mc_maze" })` (for a reach-like dataset of
 * 140 bins of 5 ms, 40 forward bins and a 100 ms lag) or with matching plain options.
 * `lfp` and `truth` are not written. Booleans are stored as int8 with a `dtype="bool"`
 * attribute (h5wasm cannot write HDF5 enums).
 *
 * @example
 * ```ts
 * import { writeNWB } from "./nwb_writer.ts";
 * import { loadNWB } from "./nwb.ts";
 * import { reachDataset } from "./synthetic/reach.ts";
 * const data = reachDataset({ trials: 100, heldinNeurons: 30, heldoutNeurons: 10 });
 * await writeNWB(data, "out/reach.nwb");
 * const again = await loadNWB("out/reach.nwb", { preset: "mc_maze" });
 * ```
 */
export async function writeNWB(
  dataset: NeuralDataset,
  path: string,
  options: WriteNWBOptions = {},
): Promise<NWBFixtureLayout> {
  validateDataset(dataset, { requiredSplits: [] });
  const o = {
    alignField: options.alignField ?? "move_onset_time",
    windowStartMs: options.windowStartMs ?? -250,
    gapMs: options.gapMs ?? 1000,
    behaviorTiming: options.behaviorTiming ?? "timestamps",
    behaviorSpan: options.behaviorSpan ?? "trials",
    behaviorRateHz: options.behaviorRateHz ?? 1000 / dataset.binMs,
    backgroundSpikes: options.backgroundSpikes ?? false,
    splitLabels: { ...NLB_SPLIT_LABELS, ...options.splitLabels },
    seed: options.seed ?? 0,
  };
  checkOptions(dataset, o);
  const binMs = dataset.binMs;
  const [trials, bins, nIn] = dataset.heldinSpikes.shape;
  const nOut = dataset.heldoutSpikes.shape[2];
  const forwardBins = dataset.forwardHeldinSpikes.shape[1];
  const lag = dataset.behaviorLagMs;
  const spanMs = (bins + forwardBins) * binMs; // spike window of one trial
  const behaviorStart = lag, behaviorEnd = lag + bins * binMs; // relative to the window
  const before = Math.max(0, -behaviorStart) + 100, after = Math.max(spanMs, behaviorEnd) + 100;
  const extentMs = before + after;
  const leadMs = Math.ceil((1000 + before) / binMs) * binMs;

  // Trial placement on the bin grid: windows start at multiples of binMs.
  let periodMs = Math.ceil((extentMs + o.gapMs) / binMs) * binMs;
  let recordingMs = leadMs + (trials - 1) * periodMs + after + 1000;
  if (options.recordingSeconds !== undefined) {
    const wanted = options.recordingSeconds * 1000;
    const spread = Math.floor((wanted - leadMs - after - 1000) / Math.max(1, trials) / binMs) *
      binMs;
    if (!(spread >= extentMs)) {
      throw new ArgumentError(
        `recordingSeconds ${options.recordingSeconds} is too short for ${trials} trials of ` +
          `${extentMs} ms each`,
      );
    }
    periodMs = spread;
    recordingMs = Math.max(wanted, leadMs + (trials - 1) * periodMs + after + 1000);
  }
  const windowStartMs = Float64Array.from({ length: trials }, (_, i) => leadMs + i * periodMs);
  const alignTimes = windowStartMs.map((w) => (w - o.windowStartMs) / 1000);

  // Unit order: held-out units at seeded positions among the held-in ones.
  const nUnits = nIn + nOut;
  const orderRng = new Random(deriveSeed(o.seed, "unit order"));
  const heldoutAt = new Set(orderRng.permutation(nUnits).slice(0, nOut));
  const unitOrder = new Int32Array(nUnits);
  for (let row = 0, hin = 0, hout = 0; row < nUnits; row++) {
    unitOrder[row] = heldoutAt.has(row) ? nIn + hout++ : hin++;
  }

  const spikeTimes = unitSpikeTimes(dataset, unitOrder, windowStartMs, recordingMs, o);
  const series = behaviorSeriesOf(dataset.behaviorNames);
  const recordingSeconds = recordingMs / 1000;

  await writeHDF5Atomic(path, (file) => {
    file.create_attribute("neurodata_type", "NWBFile");
    file.create_attribute("namespace", "core");
    file.create_attribute("nwb_version", "2.7.0");
    file.create_attribute("object_id", crypto.randomUUID());
    file.create_dataset({ name: "identifier", data: `blend-fixture-${o.seed}` });
    file.create_dataset({ name: "session_description", data: dataset.name });
    file.create_dataset({ name: "session_start_time", data: "1970-01-01T00:00:00+00:00" });
    file.create_dataset({ name: "timestamps_reference_time", data: "1970-01-01T00:00:00+00:00" });
    file.create_dataset({ name: "file_create_date", data: [new Date().toISOString()] });
    for (const name of ["acquisition", "analysis", "general", "stimulus"]) file.create_group(name);

    writeUnits(file, spikeTimes, unitOrder, nIn, recordingSeconds);
    writeTrials(file, dataset, o, windowStartMs, alignTimes, before, after);
    if (series.length > 0) {
      const processing = file.create_group("processing");
      const module = processing.create_group("behavior");
      tag(module, "ProcessingModule", "behavior, aligned with the binned spikes as written");
      for (const s of series) {
        writeBehaviorSeries(module, dataset, s, windowStartMs, recordingMs, o);
      }
    }
  });

  return {
    alignTimes,
    windowStartTimes: windowStartMs.map((w) => w / 1000),
    recordingSeconds,
    unitOrder,
    behaviorSeries: series,
    spikes: spikeTimes.reduce((sum, s) => sum + s.length, 0),
  };
}

function tag(group: H5Group, type: string, description: string): void {
  group.create_attribute("neurodata_type", type);
  group.create_attribute("namespace", "core");
  group.create_attribute("object_id", crypto.randomUUID());
  group.create_attribute("description", description);
}

/** Spike times (seconds, sorted) of each row of the units table. */
function unitSpikeTimes(
  d: NeuralDataset,
  unitOrder: Int32Array,
  windowStartMs: Float64Array,
  recordingMs: number,
  o: { seed: number; backgroundSpikes: boolean },
): Float64Array[] {
  const binMs = d.binMs;
  const [trials, bins, nIn] = d.heldinSpikes.shape;
  const nOut = d.heldoutSpikes.shape[2];
  const forwardBins = d.forwardHeldinSpikes.shape[1];
  const spanMs = (bins + forwardBins) * binMs;
  return Array.from(unitOrder, (neuron, row) => {
    const rng = new Random(deriveSeed(o.seed, `spikes of unit ${row}`));
    const heldout = neuron >= nIn;
    const c = heldout ? neuron - nIn : neuron;
    const channels = heldout ? nOut : nIn;
    const observed = heldout ? d.heldoutSpikes.data : d.heldinSpikes.data;
    const forward = heldout ? d.forwardHeldoutSpikes.data : d.forwardHeldinSpikes.data;
    const count = (i: number, t: number) =>
      t < bins
        ? observed[(i * bins + t) * channels + c]
        : forward[(i * forwardBins + t - bins) * channels + c];
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < trials; i++) {
      for (let t = 0; t < bins + forwardBins; t++) {
        const n = count(i, t);
        total += n;
        const binStart = windowStartMs[i] + t * binMs;
        // A whole millisecond, then a fraction kept off the millisecond's edges, so the
        // 1 ms binning of a reader cannot round a spike into the neighbouring bin.
        for (let k = 0; k < n; k++) {
          times.push((binStart + rng.int(binMs) + 0.001 + 0.998 * rng.uniform()) / 1000);
        }
      }
    }
    if (o.backgroundSpikes && total > 0) {
      const perMs = total / (trials * spanMs);
      let trial = 0;
      for (let ms = -Math.log(1 - rng.uniform()) / perMs; ms < recordingMs;) {
        while (trial < trials && windowStartMs[trial] + spanMs <= ms) trial++;
        // Kept a microsecond clear of the windows, so no rounding moves one inside.
        const inside = trial < trials && ms >= windowStartMs[trial] - 0.001;
        if (!inside) times.push(ms / 1000);
        ms += -Math.log(1 - rng.uniform()) / perMs;
      }
    }
    return Float64Array.from(times).sort();
  });
}

function writeUnits(
  file: H5Group,
  spikeTimes: Float64Array[],
  unitOrder: Int32Array,
  nIn: number,
  recordingSeconds: number,
): void {
  const units = file.create_group("units");
  tag(units, "Units", "sorted units; heldout marks the neurons NLB hides from the model");
  const n = spikeTimes.length;
  units.create_attribute("colnames", ["spike_times", "obs_intervals", "heldout"]);
  units.create_dataset({ name: "id", data: Int32Array.from({ length: n }, (_, i) => i) });
  const total = spikeTimes.reduce((sum, s) => sum + s.length, 0);
  const all = new Float64Array(total);
  const index = new Int32Array(n);
  let offset = 0;
  spikeTimes.forEach((s, u) => {
    all.set(s, offset);
    offset += s.length;
    index[u] = offset;
  });
  const column = (
    name: string,
    data: Float64Array | Int32Array | Int8Array,
    desc: string,
    shape?: number[],
  ) => {
    const ds = units.create_dataset({ name, data, shape });
    ds.create_attribute("neurodata_type", name.endsWith("_index") ? "VectorIndex" : "VectorData");
    ds.create_attribute("namespace", "core");
    ds.create_attribute("description", desc);
    return ds;
  };
  column("spike_times", all, "spike times of each unit, seconds");
  column("spike_times_index", index, "end offset of each unit's spike times");
  const intervals = new Float64Array(2 * n);
  for (let u = 0; u < n; u++) intervals[2 * u + 1] = recordingSeconds;
  column("obs_intervals", intervals, "observation intervals of each unit, seconds", [n, 2]);
  column("obs_intervals_index", Int32Array.from({ length: n }, (_, u) => u + 1), "end offsets");
  column("heldout", Int8Array.from(unitOrder, (neuron) => (neuron >= nIn ? 1 : 0)), "held-out unit")
    .create_attribute("dtype", "bool");
}

function writeTrials(
  file: H5Group,
  d: NeuralDataset,
  o: { alignField: string; windowStartMs: number; splitLabels: Record<Split, string> },
  windowStartMs: Float64Array,
  alignTimes: Float64Array,
  before: number,
  after: number,
): void {
  const intervals = file.create_group("intervals");
  const trials = intervals.create_group("trials");
  tag(trials, "TimeIntervals", "trials of the task");
  const n = alignTimes.length;
  const columns: [string, Float64Array | Int32Array | Int8Array | string[], string][] = [];
  const start = Float64Array.from(windowStartMs, (w) => (w - before) / 1000);
  const stop = Float64Array.from(windowStartMs, (w) => (w + after) / 1000);
  if (o.alignField === "start_time") start.set(alignTimes);
  if (o.alignField === "stop_time") stop.set(alignTimes);
  columns.push(["start_time", start, "start of the trial, seconds"]);
  columns.push(["stop_time", stop, "end of the trial, seconds"]);
  if (o.alignField !== "start_time" && o.alignField !== "stop_time") {
    columns.push([o.alignField, alignTimes, "the alignment event, seconds"]);
  }
  columns.push(["split", d.split.map((s) => o.splitLabels[s]), "benchmark split of the trial"]);
  columns.push(["trial_type", Int32Array.from(d.condition), "condition id"]);
  columns.push(["trial_version", new Int32Array(n), "condition version"]);
  columns.push(["condition", Array.from(d.condition, (c) => `condition_${c}`), "condition name"]);
  columns.push(["success", new Int8Array(n).fill(1), "whether the trial was rewarded"]);
  trials.create_attribute("colnames", columns.map(([name]) => name));
  trials.create_dataset({ name: "id", data: Int32Array.from({ length: n }, (_, i) => i) });
  for (const [name, data, description] of columns) {
    const ds = trials.create_dataset({ name, data: data as Float64Array });
    ds.create_attribute("neurodata_type", "VectorData");
    ds.create_attribute("namespace", "core");
    ds.create_attribute("description", description);
    if (name === "success") ds.create_attribute("dtype", "bool");
  }
}

function writeBehaviorSeries(
  module: H5Group,
  d: NeuralDataset,
  s: NWBFixtureLayout["behaviorSeries"][number],
  windowStartMs: Float64Array,
  recordingMs: number,
  o: {
    behaviorTiming: "timestamps" | "rate";
    behaviorSpan: "trials" | "recording";
    behaviorRateHz: number;
  },
): void {
  const binMs = d.binMs, lag = d.behaviorLagMs;
  const [trials, bins, dims] = d.behavior.shape;
  const rate = o.behaviorRateHz;
  // Value of dimension k at time ms (inside trial i's behavior window), linear between bins.
  const valueAt = (i: number, ms: number, k: number): number => {
    const position = (ms - windowStartMs[i] - lag) / binMs;
    const t0 = Math.floor(position + 1e-9);
    const frac = position - t0;
    const v0 = d.behavior.data[(i * bins + Math.min(t0, bins - 1)) * dims + k];
    if (frac < 1e-9 || t0 >= bins - 1) return v0;
    const v1 = d.behavior.data[(i * bins + t0 + 1) * dims + k];
    return v0 + frac * (v1 - v0);
  };
  // Sample times (ms) and the trial whose behavior window holds each (-1: none, NaN).
  let times: Float64Array, owner: Int32Array;
  if (o.behaviorTiming === "rate" || o.behaviorSpan === "recording") {
    const count = Math.floor((recordingMs / 1000) * rate);
    times = new Float64Array(count);
    owner = new Int32Array(count);
    let trial = 0;
    for (let j = 0; j < count; j++) {
      const ms = (j * 1000) / rate;
      while (trial < trials && windowStartMs[trial] + lag + bins * binMs <= ms) trial++;
      times[j] = ms;
      owner[j] = trial < trials && ms >= windowStartMs[trial] + lag ? trial : -1;
    }
  } else {
    const step = 1000 / rate;
    const perTrial = Math.ceil((bins * binMs) / step - 1e-9);
    times = new Float64Array(trials * perTrial);
    owner = new Int32Array(trials * perTrial);
    for (let i = 0; i < trials; i++) {
      for (let j = 0; j < perTrial; j++) {
        times[i * perTrial + j] = windowStartMs[i] + lag + j * step;
        owner[i * perTrial + j] = i;
      }
    }
  }
  const width = s.dims.length;
  const data = new Float64Array(times.length * width);
  for (let j = 0; j < times.length; j++) {
    for (let col = 0; col < width; col++) {
      data[j * width + col] = owner[j] < 0 ? NaN : valueAt(owner[j], times[j], s.dims[col]);
    }
  }
  const group = module.create_group(s.name);
  tag(group, "TimeSeries", `behavior ${s.name}, lag-aligned as in the dataset`);
  group.create_attribute("comments", s.columns.length ? `columns=[${s.columns.join(",")}]` : "");
  const shape = s.dims.length === 1 && s.columns.length === 0
    ? [times.length]
    : [times.length, s.dims.length];
  const ds = group.create_dataset({ name: "data", data, shape });
  ds.create_attribute("unit", "a.u.");
  setNumberAttribute(ds, "conversion", 1);
  setNumberAttribute(ds, "offset", 0);
  setNumberAttribute(ds, "resolution", -1);
  if (o.behaviorTiming === "rate") {
    const start = group.create_dataset({
      name: "starting_time",
      data: new Float64Array([0]),
      shape: [],
    });
    setNumberAttribute(start, "rate", rate);
    start.create_attribute("unit", "seconds");
  } else {
    const ts = group.create_dataset({
      name: "timestamps",
      data: times.map((ms) => ms / 1000),
    });
    ts.create_attribute("interval", 1);
    ts.create_attribute("unit", "seconds");
  }
}
