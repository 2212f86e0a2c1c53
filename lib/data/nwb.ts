/**
 * Read NWB recordings (the Neural Latents Benchmark's MC_Maze, MC_RTT, Area2_Bump,
 * DMFC_RSG and scaled MC_Maze files, or any NWB file with units and trials) into a
 * `NeuralDataset`, the way the benchmark's reference pipeline (nlb_tools) prepares them:
 *
 * 1. spikes are binned at 1 ms on a clock that starts at 0 (a spike at t s falls in
 *    millisecond `floor(round(1000 t, 6))`), then summed into bins of `binMs` (5 by
 *    default, 20 allowed) that also start at 0;
 * 2. each trial is cut around an event of the trials table (`move_onset_time` for
 *    MC_Maze): its first bin is the first bin starting at or after `event + window[0]`,
 *    and `forwardMs` more follow for forward prediction;
 * 3. behavior is cut the same way, shifted by the behavior lag (neural activity at bin t
 *    predicts behavior at t + lag); 1 kHz series are low-pass filtered and decimated as
 *    the reference does (`scipy.signal.decimate(x, q, n=500, ftype="fir")` after linear
 *    interpolation over NaN, NaN restored after);
 * 4. splits come from the trials table's `split` column (NLB "train" is train, NLB "val"
 *    is the scored split `test`, "none" is dropped), and a validation split for model
 *    selection is carved out of train: `validationFraction` of the train trials (default
 *    0.2), stratified by condition and chosen by `seed`, so a file, fraction and seed give
 *    the same split every time;
 * 5. true PSTHs for psth R2 are computed at 1 ms: spikes smoothed with the reference's
 *    Gaussian kernel over the continuous recording (never past an observation interval's
 *    edge), summed into bins, averaged over every loaded trial of each condition, and
 *    kept as `dataset.truePsth` (which `evaluateNLB` scores psth R2 against).
 *
 * The file is read unit by unit and series by series (h5wasm hyperslab reads), never as
 * a whole; memory is the output arrays plus one series at a time.
 * @module
 */

import { type Array3, array3 } from "../array.ts";
import { ArgumentError, DatasetError, describe } from "../errors.ts";
import { deriveSeed, Random } from "../random.ts";
import {
  type NeuralDataset,
  type Split,
  SPLITS,
  type TruePSTH,
  validateDataset,
} from "./dataset.ts";
import { type H5File, openHDF5, readNumbers } from "./hdf5.ts";
import { NLB_PRESETS, type NLBPreset, type TrialLayout } from "./nlb_presets.ts";
import { PsthAccumulator } from "./nwb_psth.ts";
import {
  findTimeSeries,
  readSeriesColumns,
  readSeriesTimes,
  sampleSeries,
  seriesColumnNames,
} from "./nwb_series.ts";
import {
  firstAtOrAfter,
  msIndex,
  numericColumn,
  readTrials,
  readUnits,
  TRIALS,
  type TrialsTable,
  UNITS,
  unitSpikeTimes,
  type UnitsTable,
} from "./nwb_tables.ts";
import { stratifiedSplits } from "./synthetic/population.ts";

// ---------------------------------------------------------------------------------------
// Options and result
// ---------------------------------------------------------------------------------------

/** Options of `loadNWB`. A preset supplies defaults; any field given here overrides it. */
export interface NWBLoadOptions {
  /** One of `NLB_PRESETS`' names; without one, the plain defaults below apply. */
  preset?: string;
  /** Bin width, whole ms. Default 5. */
  binMs?: number;
  /** Trials-table column to align on. Default: the preset's, else `"start_time"`. */
  alignField?: string;
  /** Observed window around the event, ms. Default: the preset's, else `[0, 500]`. */
  windowMs?: [number, number];
  /** Forward-prediction window after the observed one, ms. Default: the preset's, else 0. */
  forwardMs?: number;
  /**
   * TimeSeries read as behavior, by name (`"hand_vel"`), nlb_tools-style container name
   * (`"Position_hand_pos"`) or path. Default: the preset's, else every TimeSeries under
   * `/processing/behavior`.
   */
  behavior?: string[];
  /** Trials-table columns read as behavior, constant over each trial. Default: the preset's, else none. */
  behaviorColumns?: string[];
  /** Behavior is NaN on trials where `column` differs from `equals`. Default: the preset's. */
  behaviorValid?: { column: string; equals: number } | null;
  /** Behavior lag, ms (a multiple of `binMs`). Default: the preset's, else 0. */
  behaviorLagMs?: number;
  /** Columns whose combination is a trial's condition. Default: the preset's, else none. */
  conditionFields?: string[];
  /** Gaussian s.d. of the true PSTHs, ms; null for none. Default: the preset's, else null. */
  psthKernelSdMs?: number | null;
  /** Trials left out of the PSTHs. Default: the preset's, else none. */
  psthSkip?: { column: string; equals: number } | null;
  /**
   * One velocity decoder per value of a trials-table column (`evaluateNLB` averages their
   * vel R2). Default: the preset's (area2_bump: `ctr_hold_bump` 0 and 1), else none.
   */
  decodeMasks?: { column: string; values: number[] } | null;
  /**
   * The file's split labels to our splits; labels missing here (or mapped to null) drop
   * the trial. Default NLB's: `{ train: "train", val: "test", test: "test" }` ("none" drops).
   */
  splitMap?: Record<string, Split | null>;
  /** Fraction of the train trials moved to `val` for model selection. Default 0.2. */
  validationFraction?: number;
  /** Fraction of trials for `test` when the file has no `split` column. Default 0.25. */
  testFraction?: number;
  /** Seed of the validation split. Default 0. */
  seed?: number;
  /**
   * A trial whose window runs outside the recording: `"error"` (default) or `"drop"`.
   * A window crossing a gap between observation intervals always drops the trial.
   */
  outsideRecording?: "error" | "drop";
  /** The dataset's name. Default: the preset's, else the file's base name. */
  name?: string;
  /** Session id of every trial. Default 0. */
  session?: number;
}

/** The settings a dataset was loaded with (every default resolved). */
export interface NWBSettings extends TrialLayout {
  /** The preset used, or null for plain options. */
  preset: string | null;
  /** Bin width, ms. */
  binMs: number;
  /** File split label to our split (null or missing: dropped). */
  splitMap: Record<string, Split | null>;
  /** Fraction of train trials moved to val. */
  validationFraction: number;
  /** Fraction of trials for test when the file has no split column. */
  testFraction: number;
  /** Seed of the validation split. */
  seed: number;
  /** What a window outside the recording does. */
  outsideRecording: "error" | "drop";
}

/** Where an NWB dataset came from and what the reader did with it. */
export interface NWBSource {
  /** The file read. */
  path: string;
  /** The settings used. */
  settings: NWBSettings;
  /** Length of the recording the clock covers, seconds. */
  recordingSeconds: number;
  /** The NWB `id` of each loaded trial, in dataset order. */
  trialId: Int32Array;
  /** The file's `split` label of each loaded trial ("" without a split column). */
  fileSplit: string[];
  /** Every number, string and boolean column of the trials table, for the loaded trials. */
  trialInfo: Record<string, Float64Array | Uint8Array | string[]>;
  /** A readable label per condition id (`"trial_type=3, trial_version=0"`). */
  conditionLabels: string[];
  /** Trials not loaded, by reason. */
  dropped: { reason: string; trialIds: number[] }[];
  /** Anything the user should know (missing columns, fallbacks). */
  notes: string[];
}

/** A `NeuralDataset` read from an NWB file, with what the reader knows besides. */
export interface NWBDataset extends NeuralDataset {
  /** Provenance and trial information. */
  nwb: NWBSource;
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

const DEFAULT_SPLIT_MAP: Record<string, Split | null> = {
  train: "train",
  val: "test",
  test: "test",
};

/** Resolve a preset and options into full settings, checking every value. */
export function resolveNWBSettings(options: NWBLoadOptions = {}): NWBSettings {
  let preset: NLBPreset | undefined;
  if (options.preset !== undefined) {
    preset = (NLB_PRESETS as Record<string, NLBPreset>)[options.preset];
    if (!preset || !Object.hasOwn(NLB_PRESETS, options.preset)) {
      throw new ArgumentError(
        `unknown preset ${describe(options.preset)}; expected one of ${
          Object.keys(NLB_PRESETS).join(", ")
        }`,
      );
    }
  }
  const s: NWBSettings = {
    preset: preset?.name ?? null,
    binMs: options.binMs ?? 5,
    alignField: options.alignField ?? preset?.alignField ?? "start_time",
    windowMs: options.windowMs ?? preset?.windowMs ?? [0, 500],
    forwardMs: options.forwardMs ?? preset?.forwardMs ?? 0,
    behavior: options.behavior ?? preset?.behavior ?? [],
    behaviorColumns: options.behaviorColumns ?? preset?.behaviorColumns ?? [],
    behaviorValid: options.behaviorValid !== undefined
      ? options.behaviorValid
      : preset?.behaviorValid ?? null,
    behaviorLagMs: options.behaviorLagMs ?? preset?.behaviorLagMs ?? 0,
    conditionFields: options.conditionFields ?? preset?.conditionFields ?? [],
    psthKernelSdMs: options.psthKernelSdMs !== undefined
      ? options.psthKernelSdMs
      : preset?.psthKernelSdMs ?? null,
    psthSkip: options.psthSkip !== undefined ? options.psthSkip : preset?.psthSkip ?? null,
    decodeMasks: options.decodeMasks !== undefined
      ? options.decodeMasks
      : preset?.decodeMasks ?? null,
    splitMap: options.splitMap ?? DEFAULT_SPLIT_MAP,
    validationFraction: options.validationFraction ?? 0.2,
    testFraction: options.testFraction ?? 0.25,
    seed: options.seed ?? 0,
    outsideRecording: options.outsideRecording ?? "error",
  };
  const { binMs, windowMs: [w0, w1] } = s;
  if (s.decodeMasks && !(s.decodeMasks.values.length > 0)) {
    throw new ArgumentError(
      `decodeMasks.values is empty; expected one value of column ` +
        `"${s.decodeMasks.column}" per velocity decoder`,
    );
  }
  if (!Number.isInteger(binMs) || binMs < 1) {
    throw new ArgumentError(`binMs must be a whole number of ms >= 1, got ${describe(binMs)}`);
  }
  if (!(Number.isFinite(w0) && Number.isFinite(w1) && w1 > w0)) {
    throw new ArgumentError(`windowMs must be [start, end] with end > start, got [${w0}, ${w1}]`);
  }
  for (
    const [name, value] of [
      ["windowMs length", w1 - w0],
      ["forwardMs", s.forwardMs],
      ["behaviorLagMs", s.behaviorLagMs],
    ] as const
  ) {
    if (!Number.isInteger(value / binMs) || (name === "forwardMs" && value < 0)) {
      throw new ArgumentError(
        `${name} is ${value} ms; expected a ${name === "forwardMs" ? "non-negative " : ""}` +
          `multiple of the ${binMs} ms bin`,
      );
    }
  }
  for (
    const [name, f] of [["validationFraction", s.validationFraction], [
      "testFraction",
      s.testFraction,
    ]] as const
  ) {
    if (!(f >= 0 && f < 1)) {
      throw new ArgumentError(`${name} must be in [0, 1), got ${describe(f)}`);
    }
  }
  if (s.psthKernelSdMs !== null && !(s.psthKernelSdMs >= 1)) {
    throw new ArgumentError(
      `psthKernelSdMs must be >= 1 ms or null, got ${describe(s.psthKernelSdMs)}`,
    );
  }
  for (const [label, split] of Object.entries(s.splitMap)) {
    if (split !== null && !SPLITS.includes(split)) {
      throw new ArgumentError(
        `splitMap["${label}"] is ${describe(split)}; expected one of ${SPLITS.join(", ")} or null`,
      );
    }
  }
  if (s.outsideRecording !== "error" && s.outsideRecording !== "drop") {
    throw new ArgumentError(
      `outsideRecording is ${describe(s.outsideRecording)}; expected "error" or "drop"`,
    );
  }
  if (!Number.isSafeInteger(s.seed)) {
    throw new ArgumentError(`seed must be an integer, got ${s.seed}`);
  }
  return s;
}

/** Observation intervals of one unit as whole-ms [start, end) pairs, as the reference masks. */
function observedMs(intervals: Float64Array): Int32Array {
  const out = new Int32Array(intervals.length);
  for (let k = 0; k < intervals.length; k += 2) {
    out[k] = Math.ceil(Math.round(intervals[k] * 1000 * 1e6) / 1e6);
    out[k + 1] = Math.floor(Math.round(intervals[k + 1] * 1000 * 1e6) / 1e6);
  }
  return out;
}

/** The [start, end) ms interval containing [a, b), or null. */
function segmentOf(intervals: Int32Array, a: number, b: number): [number, number] | null {
  for (let k = 0; k < intervals.length; k += 2) {
    if (intervals[k] <= a && b <= intervals[k + 1]) return [intervals[k], intervals[k + 1]];
  }
  return null;
}

/** Order of condition keys: field by field, numbers numerically, strings by code unit. */
function conditionKeyCompare(a: (number | string)[], b: (number | string)[]): number {
  for (let k = 0; k < a.length; k++) {
    const x = a[k], y = b[k];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (typeof x === "number" && typeof y === "number") {
      if (Number.isNaN(x)) return 1; // missing values sort last
      if (Number.isNaN(y)) return -1;
      return x - y;
    }
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

function baseName(path: string): string {
  const name = path.split("/").pop() ?? path;
  return name.replace(/\.(nwb|h5|hdf5)$/i, "");
}

/**
 * Read an NWB file into a `NeuralDataset` (see the module documentation for every step).
 * With a preset, the NLB reference's alignment, windows, lag, behavior, conditions and
 * kernel apply; plain options read any NWB file with units and trials. Every malformed
 * input is a `DatasetError` naming the HDF5 path or column, what was expected and what
 * was found; bad options are `ArgumentError`s.
 *
 * @example
 * ```ts
 * import { loadNWB } from "./nwb.ts";
 * // An NLB file from DANDI (see data/README.md):
 * const maze = await loadNWB("data/000128/sub-Jenkins/sub-Jenkins_ses-full_desc-train_behavior+ecephys.nwb", {
 *   preset: "mc_maze",
 *   binMs: 20,
 * });
 * // Any NWB file with units and trials:
 * const other = await loadNWB("session.nwb", {
 *   alignField: "go_cue_time",
 *   windowMs: [-200, 800],
 *   behavior: ["cursor_pos"],
 * });
 * ```
 */
export async function loadNWB(path: string, options: NWBLoadOptions = {}): Promise<NWBDataset> {
  const s = resolveNWBSettings(options);
  const file = await openHDF5(path, "an NWB file");
  try {
    return readDataset(file, path, s, options);
  } finally {
    file.close();
  }
}

function readDataset(
  file: H5File,
  path: string,
  s: NWBSettings,
  options: NWBLoadOptions,
): NWBDataset {
  const notes: string[] = [];
  const units = readUnits(file, path);
  const table = readTrials(file, path);
  if (table.count === 0) throw new DatasetError(`${path}: ${TRIALS} holds no trials`);
  if (!units.hasHeldout) notes.push(`${UNITS} has no heldout column: every unit is held-in`);
  const { binMs } = s;
  const [w0, w1] = s.windowMs;
  const bins = (w1 - w0) / binMs, forwardBins = s.forwardMs / binMs;
  const spanMs = (bins + forwardBins) * binMs;

  const align = numericColumn(table, s.alignField, "the alignment event", path);
  // Checked here, read by evaluateNLB from nwb.trialInfo.
  if (s.decodeMasks) numericColumn(table, s.decodeMasks.column, "the velocity decoders", path);
  const { endMs, observed } = recordingClock(units, table, notes);
  const { rows, firstBin, mapped, labels, dropped } = selectTrials(
    table,
    s,
    align,
    endMs,
    observed,
    path,
    notes,
  );
  const n = rows.length;

  const { condition, conditionLabels } = assignConditions(table, rows, s.conditionFields, path);

  // Splits: the file's, then a seeded validation split carved out of train.
  const split = carveSplits(mapped, condition, labels !== null, s, notes);

  // Behavior first (its buffers are freed before the spike arrays grow).
  const behavior = readBehavior(file, path, s, table, rows, firstBin, endMs, notes);

  // Spikes, unit by unit, and the PSTH sums of each unit.
  const heldinUnits: number[] = [], heldoutUnits: number[] = [];
  for (let u = 0; u < units.count; u++) (units.heldout[u] ? heldoutUnits : heldinUnits).push(u);
  const nIn = heldinUnits.length, nOut = heldoutUnits.length;
  const heldin = array3([n, bins, nIn]), heldout = array3([n, bins, nOut]);
  const fwdIn = array3([n, forwardBins, nIn]), fwdOut = array3([n, forwardBins, nOut]);
  const psth = s.psthKernelSdMs !== null && s.conditionFields.length > 0
    ? new PsthAccumulator(s.psthKernelSdMs, binMs, bins, conditionLabels.length, nIn + nOut)
    : null;
  if (s.psthKernelSdMs !== null && s.conditionFields.length === 0) {
    notes.push("no condition fields: no true PSTHs");
  }
  const psthTrial = psthTrials(table, rows, s, path);
  units.heldout.forEach((isOut, u) => {
    const channel = isOut ? heldoutUnits.indexOf(u) : heldinUnits.indexOf(u);
    const channels = isOut ? nOut : nIn;
    const observedData = isOut ? heldout.data : heldin.data;
    const forwardData = isOut ? fwdOut.data : fwdIn.data;
    const times = unitSpikeTimes(units, u);
    for (let k = 0; k < n; k++) {
      const startMs = firstBin[k] * binMs;
      for (let j = firstAtOrAfter(times, startMs); j < times.length; j++) {
        const ms = msIndex(times[j]);
        if (ms >= startMs + spanMs) break;
        const t = Math.floor(ms / binMs) - firstBin[k];
        if (t < bins) observedData[(k * bins + t) * channels + channel]++;
        else forwardData[(k * forwardBins + t - bins) * channels + channel]++;
      }
      if (psth && psthTrial[k]) {
        const segment = segmentOf(observed[u], startMs, startMs + spanMs)!;
        psth.addTrial(times, condition[k], startMs, segment, endMs);
      }
    }
    if (psth) psth.finishUnit(isOut ? nIn + channel : channel);
  });
  let truePsth: TruePSTH | undefined;
  if (psth) {
    truePsth = psth.result(s.psthKernelSdMs!);
    if (truePsth.trialCounts.some((c) => c === 0)) {
      notes.push("some conditions have no PSTH trials: their true PSTH rows are NaN");
    }
  }

  const unitName = (u: number) => `unit_${units.ids[u]}`;
  const trialInfo: NWBSource["trialInfo"] = {};
  for (const [name, column] of table.columns) {
    if (column.kind === "number") {
      trialInfo[name] = Float64Array.from(rows, (r) => column.values[r]);
    } else if (column.kind === "boolean") {
      trialInfo[name] = Uint8Array.from(rows, (r) => column.values[r]);
    } else if (column.kind === "string") trialInfo[name] = rows.map((r) => column.values[r]);
  }
  const dataset: NWBDataset = {
    name: options.name ?? s.preset ?? baseName(path),
    binMs,
    heldinSpikes: heldin,
    heldoutSpikes: heldout,
    forwardHeldinSpikes: fwdIn,
    forwardHeldoutSpikes: fwdOut,
    behavior: behavior.values,
    behaviorNames: behavior.names,
    heldinNames: heldinUnits.map(unitName),
    heldoutNames: heldoutUnits.map(unitName),
    split,
    condition,
    session: new Int32Array(n).fill(options.session ?? 0),
    behaviorLagMs: s.behaviorLagMs,
    ...(truePsth ? { truePsth } : {}),
    nwb: {
      path,
      settings: s,
      recordingSeconds: endMs / 1000,
      trialId: Int32Array.from(rows, (r) => table.ids[r]),
      fileSplit: rows.map((r) => (labels ? labels[r] : "")),
      trialInfo,
      conditionLabels,
      dropped: [...dropped].map(([reason, trialIds]) => ({ reason, trialIds })),
      notes,
    },
  };
  try {
    validateDataset(dataset, { requiredSplits: [] });
  } catch (error) {
    throw new DatasetError(`${path}: ${(error as Error).message}`);
  }
  return dataset;
}

/**
 * The 1 ms clock: [0, end) ms, the end from the observation intervals or the trials (as
 * the reference), and each unit's observed intervals in whole ms.
 */
function recordingClock(
  units: UnitsTable,
  table: TrialsTable,
  notes: string[],
): { endMs: number; observed: Int32Array[] } {
  const stops = table.columns.get("stop_time");
  let lastStop = 0;
  if (stops?.kind === "number") { for (const v of stops.values) if (v > lastStop) lastStop = v; }
  if (units.observed) {
    let lastObserved = -Infinity;
    for (const o of units.observed) {
      for (let k = 1; k < o.length; k += 2) lastObserved = Math.max(lastObserved, o[k]);
    }
    const endMs = Math.max(Math.round(lastObserved * 1000), Math.round(lastStop * 1000));
    return { endMs, observed: units.observed.map(observedMs) };
  }
  const last = units.totalSpikes
    ? readNumbers(units.spikeTimes, `${UNITS}/spike_times`, [
      units.totalSpikes - 1,
      units.totalSpikes,
    ])[0]
    : 0;
  const endMs = Math.max(Math.ceil(last * 1000) + 1, Math.round(lastStop * 1000));
  notes.push(
    `${UNITS} has no obs_intervals: every unit counts as observed over 0..${endMs / 1000} s`,
  );
  return { endMs, observed: Array.from({ length: units.count }, () => Int32Array.of(0, endMs)) };
}

/**
 * The trials that load (their split mapped, an alignment event, a window inside the
 * recording and inside every unit's observation intervals), the first bin of each window
 * on the bin grid, and the dropped trials by reason.
 */
function selectTrials(
  table: TrialsTable,
  s: NWBSettings,
  align: Float64Array,
  endMs: number,
  observed: Int32Array[],
  path: string,
  notes: string[],
) {
  const { binMs } = s;
  const [w0, w1] = s.windowMs;
  const spanMs = w1 - w0 + s.forwardMs;
  const splitColumn = table.columns.get("split");
  const labels: string[] | null = splitColumn?.kind === "string"
    ? splitColumn.values
    : splitColumn?.kind === "number"
    ? Array.from(splitColumn.values, String)
    : null;
  if (!labels) notes.push(`${TRIALS} has no split column: splits are drawn at random (seeded)`);
  const dropped = new Map<string, number[]>();
  const drop = (reason: string, row: number) => {
    if (!dropped.has(reason)) dropped.set(reason, []);
    dropped.get(reason)!.push(table.ids[row]);
  };
  const rows: number[] = [], firstBin: number[] = [], mapped: Split[] = [];
  for (let r = 0; r < table.count; r++) {
    let split: Split | null = "train";
    if (labels) {
      const label = labels[r];
      split = Object.hasOwn(s.splitMap, label) ? s.splitMap[label] : null;
      if (split === null) {
        drop(`split "${label}" is not loaded (splitMap)`, r);
        continue;
      }
    }
    if (!Number.isFinite(align[r])) {
      drop(`no ${s.alignField}`, r);
      continue;
    }
    // The first bin starting at or after event + window start (integer µs arithmetic).
    const g0 = Math.ceil((Math.round(align[r] * 1e6) + w0 * 1000) / (binMs * 1000));
    const startMs = g0 * binMs, endWindow = startMs + spanMs;
    if (startMs < 0 || endWindow > endMs) {
      if (s.outsideRecording === "drop") {
        drop("window outside the recording", r);
        continue;
      }
      throw new DatasetError(
        `${path}: trial ${table.ids[r]} (row ${r} of ${TRIALS}): its window ${w0}..${
          w1 + s.forwardMs
        } ms around ${s.alignField} = ${align[r]} s covers ${startMs / 1000}..${
          endWindow / 1000
        } s, outside the recording (0..${endMs / 1000} s, from ${UNITS}/obs_intervals and ` +
          `the trials); expected windows inside it (or pass outsideRecording: "drop")`,
      );
    }
    if (observed.some((o) => segmentOf(o, startMs, endWindow) === null)) {
      drop("window not inside every unit's obs_intervals", r);
      continue;
    }
    rows.push(r);
    firstBin.push(g0);
    mapped.push(split);
  }
  if (rows.length === 0) {
    throw new DatasetError(
      `${path}: no trial of ${TRIALS} could be loaded (${
        [...dropped].map(([reason, ids]) => `${ids.length}: ${reason}`).join("; ")
      })`,
    );
  }
  return { rows, firstBin, mapped, labels, dropped };
}

/**
 * Condition ids: the distinct combinations of the condition fields among the loaded
 * trials, sorted (field by field) as the reference sorts them, with readable labels.
 */
function assignConditions(
  table: TrialsTable,
  rows: number[],
  fields: string[],
  path: string,
): { condition: Int32Array; conditionLabels: string[] } {
  const fieldValues = fields.map((field) => {
    const column = table.columns.get(field);
    if (column?.kind === "string") return column.values as (number | string)[];
    return Array.from(numericColumn(table, field, "a condition field", path));
  });
  const keys = rows.map((r) => fieldValues.map((values) => values[r]));
  const text = (key: (number | string)[]) => JSON.stringify(key.map(String));
  const distinct = [...new Map(keys.map((k) => [text(k), k])).values()].sort(conditionKeyCompare);
  const idOf = new Map(distinct.map((k, id) => [text(k), id]));
  return {
    condition: Int32Array.from(keys, (k) => idOf.get(text(k))!),
    conditionLabels: distinct.map((k) =>
      fields.length ? fields.map((f, j) => `${f}=${k[j]}`).join(", ") : "all trials"
    ),
  };
}

/** Splits: the file's (or seeded random ones), then a seeded validation split carved out of train. */
function carveSplits(
  mapped: Split[],
  condition: Int32Array,
  fromFile: boolean,
  s: NWBSettings,
  notes: string[],
): Split[] {
  const rng = new Random(deriveSeed(s.seed, "validation split"));
  if (!fromFile) {
    return stratifiedSplits(condition, {
      train: 1 - s.validationFraction - s.testFraction,
      val: s.validationFraction,
      test: s.testFraction,
    }, rng);
  }
  const split = [...mapped];
  const train = split.flatMap((v, k) => (v === "train" ? [k] : []));
  if (s.validationFraction > 0 && train.length > 1) {
    const carved = stratifiedSplits(
      Int32Array.from(train, (k) => condition[k]),
      { train: 1 - s.validationFraction, val: s.validationFraction, test: 0 },
      rng,
    );
    train.forEach((k, j) => (split[k] = carved[j]));
    notes.push(
      `val: ${carved.filter((v) => v === "val").length} of ${train.length} train trials ` +
        `(validationFraction ${s.validationFraction}, stratified by condition, seed ${s.seed})`,
    );
  }
  return split;
}

/** Which loaded trials enter the PSTHs (all, except the preset's skip mask). */
function psthTrials(table: TrialsTable, rows: number[], s: NWBSettings, path: string): Uint8Array {
  if (!s.psthSkip) return new Uint8Array(rows.length).fill(1);
  const values = numericColumn(table, s.psthSkip.column, "the PSTH skip mask", path);
  return Uint8Array.from(rows, (r) => (values[r] === s.psthSkip!.equals ? 0 : 1));
}

function readBehavior(
  file: H5File,
  path: string,
  s: NWBSettings,
  table: TrialsTable,
  rows: number[],
  firstBin: number[],
  endMs: number,
  notes: string[],
): { values: Array3; names: string[] } {
  const { binMs } = s;
  const n = rows.length, bins = (s.windowMs[1] - s.windowMs[0]) / binMs;
  const lagBins = s.behaviorLagMs / binMs;
  const all = findTimeSeries(file);
  let wanted = s.behavior;
  if (s.preset === null && s.behavior.length === 0 && s.behaviorColumns.length === 0) {
    wanted = all.filter((t) => t.path.startsWith("/processing/behavior/")).map((t) => t.path);
    if (wanted.length) notes.push(`behavior: every TimeSeries under /processing/behavior`);
  }
  const series = wanted.map((name) => {
    const matches = all.filter((t) =>
      t.path === name || t.path === `/${name}` || t.name === name || t.nlbName === name
    );
    const best = matches.length > 1
      ? matches.filter((t) => t.path.startsWith("/processing/behavior/"))
      : matches;
    if (best.length !== 1) {
      throw new DatasetError(
        matches.length === 0
          ? `${path}: no TimeSeries "${name}" (behavior); the file's TimeSeries are: ${
            all.map((t) => t.path).join(", ") || "none"
          }`
          : `${path}: TimeSeries "${name}" is ambiguous: ${
            matches.map((t) => t.path).join(", ")
          }; ` +
            `give its path`,
      );
    }
    if (best[0].problem) throw new DatasetError(`${path}: ${best[0].problem}`);
    return best[0];
  });
  const dims = series.reduce((sum, t) => sum + t.columns, 0) + s.behaviorColumns.length;
  const values = array3([n, bins, dims]);
  const names: string[] = [];
  const binIndex = new Int32Array(n * bins);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < bins; t++) binIndex[k * bins + t] = firstBin[k] + lagBins + t;
  }
  let offset = 0;
  for (const info of series) {
    const sampled = sampleSeries(
      readSeriesColumns(file, info),
      readSeriesTimes(file, info),
      binIndex,
      binMs,
      endMs,
    );
    sampled.forEach((column, c) => {
      for (let j = 0; j < column.length; j++) values.data[j * dims + offset + c] = column[j];
    });
    names.push(...seriesColumnNames(info.name, info.columnNames, info.columns));
    offset += info.columns;
  }
  const valid = s.behaviorValid
    ? numericColumn(table, s.behaviorValid.column, "the behavior mask", path)
    : null;
  for (const column of s.behaviorColumns) {
    const v = numericColumn(table, column, "a behavior column", path);
    for (let k = 0; k < n; k++) {
      const ok = !valid || valid[rows[k]] === s.behaviorValid!.equals;
      for (let t = 0; t < bins; t++) {
        values.data[(k * bins + t) * dims + offset] = ok ? v[rows[k]] : NaN;
      }
    }
    names.push(column);
    offset++;
  }
  if (valid) {
    for (let k = 0; k < n; k++) {
      if (valid[rows[k]] === s.behaviorValid!.equals) continue;
      values.data.fill(NaN, k * bins * dims, (k + 1) * bins * dims);
    }
  }
  return { values, names };
}
