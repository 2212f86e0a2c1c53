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
 *    edge), summed into bins, averaged over every loaded trial of each condition.
 *
 * The file is read unit by unit and series by series (h5wasm hyperslab reads), never as
 * a whole; memory is the output arrays plus one series at a time.
 * @module
 */

import { type Array3, array3 } from "../array.ts";
import { ArgumentError, DatasetError, describe } from "../errors.ts";
import { gaussianWindow } from "../metrics/nlb.ts";
import { deriveSeed, Random } from "../random.ts";
import { type NeuralDataset, type Split, SPLITS, validateDataset } from "./dataset.ts";
import { stratifiedSplits } from "./synthetic/population.ts";
import {
  getDataset,
  getGroup,
  type H5Dataset,
  type H5File,
  type H5Group,
  H5T,
  isBooleanDataset,
  openHDF5,
  readAttribute,
  readNumbers,
  readStrings,
  toFloat64,
} from "./store.ts";

// ---------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------

/** The NLB datasets with a preset. */
export type NLBPresetName =
  | "mc_maze"
  | "mc_rtt"
  | "area2_bump"
  | "dmfc_rsg"
  | "mc_maze_large"
  | "mc_maze_medium"
  | "mc_maze_small";

/** How the NLB reference prepares one dataset (nlb_tools `make_tensors.PARAMS`). */
export interface NLBPreset {
  /** The preset's name, also the NLB evaluation's dataset name. */
  name: NLBPresetName;
  /** The DANDI set holding the recording. */
  dandiset: string;
  /** What the recording is, in a line. */
  description: string;
  /** Trials-table column the trials are aligned on. */
  alignField: string;
  /** Observed window around the event, ms: `[start, end)`. */
  windowMs: [number, number];
  /** Forward-prediction window after the observed one, ms. */
  forwardMs: number;
  /** TimeSeries read as behavior. */
  behavior: string[];
  /** Trials-table columns read as behavior (constant over a trial's bins), for DMFC_RSG. */
  behaviorColumns: string[];
  /** Behavior is NaN on trials where this column differs from `equals`. */
  behaviorValid: { column: string; equals: number } | null;
  /** Behavior lag, ms: rates at t predict behavior at t + lag. */
  behaviorLagMs: number;
  /** Trials-table columns whose combination is the condition (for PSTHs). */
  conditionFields: string[];
  /** Gaussian kernel s.d. of the true PSTHs, ms; null: the reference computes none. */
  psthKernelSdMs: number | null;
  /** Trials left out of the PSTHs: where this column equals `equals`. */
  psthSkip: { column: string; equals: number } | null;
  /** What differs from the reference, in words. */
  notes: string[];
}

const MAZE = {
  alignField: "move_onset_time",
  windowMs: [-250, 450] as [number, number],
  forwardMs: 200,
  behavior: ["hand_vel"],
  behaviorColumns: [],
  behaviorValid: null,
  conditionFields: ["trial_type", "trial_version"],
  psthSkip: null,
  notes: [],
};

/**
 * The reference's settings for every NLB dataset (nlb_tools `make_tensors.PARAMS`):
 * alignment, windows, forward window (200 ms), behavior and its lag, condition fields
 * and the PSTH kernel.
 */
export const NLB_PRESETS: Readonly<Record<NLBPresetName, Readonly<NLBPreset>>> = {
  mc_maze: {
    ...MAZE,
    name: "mc_maze",
    dandiset: "000128",
    description: "monkey J, delayed center-out reaches through a maze (M1 and PMd, 182 units)",
    behaviorLagMs: 100,
    psthKernelSdMs: 70,
  },
  mc_rtt: {
    name: "mc_rtt",
    dandiset: "000129",
    description: "monkey I, self-paced random target reaching (M1, 130 units)",
    alignField: "start_time",
    windowMs: [0, 600],
    forwardMs: 200,
    behavior: ["finger_vel"],
    behaviorColumns: [],
    behaviorValid: null,
    behaviorLagMs: 140,
    conditionFields: [],
    psthKernelSdMs: null,
    psthSkip: null,
    notes: ["no conditions: every trial is condition 0 and there is no psth R2"],
  },
  area2_bump: {
    name: "area2_bump",
    dandiset: "000127",
    description: "monkey H, center-out reaches with mechanical bumps (area 2, 65 units)",
    alignField: "move_onset_time",
    windowMs: [-100, 500],
    forwardMs: 200,
    behavior: ["hand_vel"],
    behaviorColumns: [],
    behaviorValid: null,
    behaviorLagMs: -20,
    conditionFields: ["cond_dir", "ctr_hold_bump"],
    psthKernelSdMs: 40,
    psthSkip: null,
    notes: [
      "the reference fits separate velocity decoders for bump and non-bump trials " +
      "(column ctr_hold_bump, kept in nwb.trialInfo)",
    ],
  },
  dmfc_rsg: {
    name: "dmfc_rsg",
    dandiset: "000130",
    description: "monkey H, ready-set-go time interval reproduction (DMFC, 54 units)",
    alignField: "go_time",
    windowMs: [-1500, 0],
    forwardMs: 200,
    behavior: [],
    behaviorColumns: ["is_eye", "theta", "is_short", "ts", "tp"],
    behaviorValid: { column: "is_outlier", equals: 0 },
    behaviorLagMs: 0,
    conditionFields: ["is_eye", "theta", "is_short", "ts"],
    psthKernelSdMs: 70,
    psthSkip: { column: "is_outlier", equals: 1 },
    notes: [
      "behavior is the trial's task variables, constant over its bins (the reference " +
      "scores DMFC by the correlation of neural speed with tp, not by vel R2)",
      "every trial uses the fixed window -1500..0 ms before go; the reference's eval " +
      "tensors keep only the set-go period",
    ],
  },
  mc_maze_large: {
    ...MAZE,
    name: "mc_maze_large",
    dandiset: "000138",
    description: "MC_Maze scaling set, large (500 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
  mc_maze_medium: {
    ...MAZE,
    name: "mc_maze_medium",
    dandiset: "000139",
    description: "MC_Maze scaling set, medium (250 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
  mc_maze_small: {
    ...MAZE,
    name: "mc_maze_small",
    dandiset: "000140",
    description: "MC_Maze scaling set, small (100 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
};

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
export interface NWBSettings {
  /** The preset used, or null for plain options. */
  preset: string | null;
  /** Bin width, ms. */
  binMs: number;
  /** Trials-table column the trials are aligned on. */
  alignField: string;
  /** Observed window around the event, ms. */
  windowMs: [number, number];
  /** Forward-prediction window, ms. */
  forwardMs: number;
  /** TimeSeries read as behavior. */
  behavior: string[];
  /** Trials-table columns read as behavior. */
  behaviorColumns: string[];
  /** Behavior is NaN where this column differs from `equals`. */
  behaviorValid: { column: string; equals: number } | null;
  /** Behavior lag, ms. */
  behaviorLagMs: number;
  /** Columns whose combination is the condition. */
  conditionFields: string[];
  /** Gaussian s.d. of the true PSTHs, ms (null: none). */
  psthKernelSdMs: number | null;
  /** Trials left out of the PSTHs. */
  psthSkip: { column: string; equals: number } | null;
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

/** True PSTHs for psth R2: spikes per bin, smoothed at 1 ms, averaged per condition. */
export interface TruePSTH {
  /** conditions x bins x (held-in then held-out neurons), in `conditionIds` order. */
  rates: Array3<Float64Array>;
  /** The condition id of each row. */
  conditionIds: number[];
  /** Trials averaged per condition. */
  trialCounts: number[];
  /** The Gaussian kernel's s.d., ms. */
  kernelSdMs: number;
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
  /** True PSTHs (null when there are no conditions or no kernel). */
  truePsth: TruePSTH | null;
  /** Trials not loaded, by reason. */
  dropped: { reason: string; trialIds: number[] }[];
  /** Anything the user should know (missing columns, fallbacks). */
  notes: string[];
}

/** A `NeuralDataset` read from an NWB file, with what the reader knows besides. */
export interface NWBDataset extends NeuralDataset {
  /** Provenance, trial information and true PSTHs. */
  nwb: NWBSource;
}

// ---------------------------------------------------------------------------------------
// Reading the tables
// ---------------------------------------------------------------------------------------

const UNITS = "/units";
const TRIALS = "/intervals/trials";

interface UnitsTable {
  count: number;
  ids: Float64Array;
  heldout: Uint8Array;
  hasHeldout: boolean;
  /** End offset of each unit's spike times in `spikeTimes`. */
  spikeEnds: Float64Array;
  spikeTimes: H5Dataset;
  totalSpikes: number;
  /** Per unit: observation intervals as flat [start, end, ...] seconds; null: none stored. */
  observed: Float64Array[] | null;
  columns: string[];
}

/** A column of the trials table, by kind. */
export type TrialColumn =
  | { kind: "number"; values: Float64Array }
  | { kind: "boolean"; values: Uint8Array }
  | { kind: "string"; values: string[] }
  | { kind: "other"; shape: number[]; dtype: string; ragged: boolean };

interface TrialsTable {
  count: number;
  ids: Float64Array;
  columns: Map<string, TrialColumn>;
}

function listing(group: H5Group): string {
  const keys = group.keys();
  return keys.length ? keys.join(", ") : "nothing";
}

/** End offsets of a VectorIndex, checked: non-decreasing, ending at the data's length. */
function readIndex(group: H5Group, name: string, dataLength: number, file: string): Float64Array {
  const path = `${UNITS}/${name}`;
  const ds = getDataset(group, name)!;
  const ends = readNumbers(ds, path);
  let previous = 0;
  for (let i = 0; i < ends.length; i++) {
    if (!(ends[i] >= previous) || !Number.isInteger(ends[i])) {
      throw new DatasetError(
        `${file}: ${path}[${i}] is ${
          ends[i]
        } after ${previous}; expected non-decreasing end offsets`,
      );
    }
    previous = ends[i];
  }
  if (ends.length > 0 && ends[ends.length - 1] !== dataLength) {
    throw new DatasetError(
      `${file}: ${path} ends at ${ends[ends.length - 1]} but ${
        path.replace(/_index$/, "")
      } has ${dataLength} entries; expected the last end offset to be the data's length`,
    );
  }
  return ends;
}

function readUnits(file: H5File, filePath: string): UnitsTable {
  const units = getGroup(file, "units");
  if (!units) {
    throw new DatasetError(
      `${filePath} has no ${UNITS} group; expected an NWB units table with spike_times ` +
        `(the file's top level holds: ${listing(file)})`,
    );
  }
  const times = getDataset(units, "spike_times");
  if (!times) {
    throw new DatasetError(
      `${filePath}: ${UNITS} has no spike_times dataset; expected ragged spike times in ` +
        `seconds with ${UNITS}/spike_times_index (${UNITS} holds: ${listing(units)})`,
    );
  }
  const totalSpikes = times.shape?.[0] ?? 0;
  if (!getDataset(units, "spike_times_index")) {
    throw new DatasetError(
      `${filePath}: ${UNITS}/spike_times holds ${totalSpikes} spike times but ` +
        `${UNITS}/spike_times_index is missing; expected a VectorIndex with one end offset per unit`,
    );
  }
  const spikeEnds = readIndex(units, "spike_times_index", totalSpikes, filePath);
  const count = spikeEnds.length;
  if (count === 0) throw new DatasetError(`${filePath}: ${UNITS} holds no units`);
  const idDs = getDataset(units, "id");
  const ids = idDs
    ? readNumbers(idDs, `${UNITS}/id`)
    : Float64Array.from({ length: count }, (_, i) => i);
  if (ids.length !== count) {
    throw new DatasetError(
      `${filePath}: ${UNITS}/id has ${ids.length} entries but ${UNITS}/spike_times_index has ${count}`,
    );
  }
  const heldoutDs = getDataset(units, "heldout");
  const heldout = new Uint8Array(count);
  if (heldoutDs) {
    const values = readNumbers(heldoutDs, `${UNITS}/heldout`);
    if (values.length !== count) {
      throw new DatasetError(
        `${filePath}: ${UNITS}/heldout has ${values.length} entries; expected one per unit (${count})`,
      );
    }
    values.forEach((v, i) => (heldout[i] = v ? 1 : 0));
  }
  let observed: Float64Array[] | null = null;
  const obsDs = getDataset(units, "obs_intervals");
  if (obsDs) {
    const shape = obsDs.shape ?? [];
    if (shape.length !== 2 || shape[1] !== 2) {
      throw new DatasetError(
        `${filePath}: ${UNITS}/obs_intervals has shape [${
          shape.join(", ")
        }]; expected [intervals, 2]`,
      );
    }
    if (!getDataset(units, "obs_intervals_index")) {
      throw new DatasetError(
        `${filePath}: ${UNITS}/obs_intervals holds ${shape[0]} intervals but ` +
          `${UNITS}/obs_intervals_index is missing; expected one end offset per unit`,
      );
    }
    const ends = readIndex(units, "obs_intervals_index", shape[0], filePath);
    if (ends.length !== count) {
      throw new DatasetError(
        `${filePath}: ${UNITS}/obs_intervals_index has ${ends.length} entries; expected one per unit (${count})`,
      );
    }
    const flat = readNumbers(obsDs, `${UNITS}/obs_intervals`);
    observed = Array.from(ends, (end, u) => flat.slice(2 * (u ? ends[u - 1] : 0), 2 * end));
  }
  const colnames = readAttribute(units, "colnames");
  const columns = Array.isArray(colnames) ? colnames.map(String) : units.keys();
  return {
    count,
    ids,
    heldout,
    hasHeldout: heldoutDs !== null,
    spikeEnds,
    spikeTimes: times,
    totalSpikes,
    observed,
    columns,
  };
}

function readTrialColumn(group: H5Group, name: string, rows: number, file: string): TrialColumn {
  const path = `${TRIALS}/${name}`;
  const ds = getDataset(group, name)!;
  const shape = ds.shape ?? [];
  const ragged = getDataset(group, `${name}_index`) !== null;
  const type = ds.metadata.type;
  if (ragged || shape.length !== 1) {
    return { kind: "other", shape, dtype: String(ds.dtype), ragged };
  }
  if (shape[0] !== rows) {
    throw new DatasetError(
      `${file}: ${path} has ${shape[0]} rows but ${TRIALS} has ${rows} trials`,
    );
  }
  if (type === H5T.string) return { kind: "string", values: readStrings(ds, path) };
  if (isBooleanDataset(ds)) {
    return { kind: "boolean", values: Uint8Array.from(readNumbers(ds, path), (v) => (v ? 1 : 0)) };
  }
  if (type === H5T.integer || type === H5T.float || type === H5T.enum) {
    return { kind: "number", values: readNumbers(ds, path) };
  }
  return { kind: "other", shape, dtype: String(ds.dtype), ragged: false };
}

function readTrials(file: H5File, filePath: string): TrialsTable {
  const trials = getGroup(file, "intervals/trials");
  if (!trials) {
    throw new DatasetError(
      `${filePath} has no ${TRIALS} table; expected NWB trials with start_time, stop_time and ` +
        `the alignment column`,
    );
  }
  const colnames = readAttribute(trials, "colnames");
  const names = Array.isArray(colnames)
    ? colnames.map(String)
    : trials.keys().filter((k) => k !== "id" && !k.endsWith("_index"));
  const idDs = getDataset(trials, "id");
  const first = names.map((n) => getDataset(trials, n)).find((d) => d !== null);
  const rows = idDs?.shape?.[0] ?? first?.shape?.[0] ?? 0;
  const ids = idDs
    ? readNumbers(idDs, `${TRIALS}/id`)
    : Float64Array.from({ length: rows }, (_, i) => i);
  const columns = new Map<string, TrialColumn>();
  for (const name of names) {
    if (!getDataset(trials, name)) continue;
    columns.set(name, readTrialColumn(trials, name, rows, filePath));
  }
  return { count: rows, ids, columns };
}

/** A column as numbers (booleans 0/1), or a DatasetError naming it and what it holds. */
function numericColumn(table: TrialsTable, name: string, role: string, file: string): Float64Array {
  const column = table.columns.get(name);
  if (!column) {
    throw new DatasetError(
      `${file}: ${TRIALS} has no column "${name}" (${role}); its columns are: ${
        [...table.columns.keys()].join(", ") || "none"
      }`,
    );
  }
  if (column.kind === "number") return column.values;
  if (column.kind === "boolean") return Float64Array.from(column.values);
  throw new DatasetError(
    `${file}: ${TRIALS}/${name} (${role}) holds ${
      column.kind === "string" ? "strings" : `${column.dtype} values of shape [${column.shape}]`
    }; expected one number per trial`,
  );
}

// ---------------------------------------------------------------------------------------
// TimeSeries
// ---------------------------------------------------------------------------------------

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
function readSeriesColumns(file: H5File, info: TimeSeriesInfo): Float64Array[] {
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
function readSeriesTimes(file: H5File, info: TimeSeriesInfo): Float64Array {
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
function sampleSeries(
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
    splitMap: options.splitMap ?? DEFAULT_SPLIT_MAP,
    validationFraction: options.validationFraction ?? 0.2,
    testFraction: options.testFraction ?? 0.25,
    seed: options.seed ?? 0,
    outsideRecording: options.outsideRecording ?? "error",
  };
  const { binMs, windowMs: [w0, w1] } = s;
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

/**
 * The millisecond of the 1 ms clock a spike at `t` seconds falls in, rounded as the
 * reference does: `int(round(t * 1000, 6))` (scaled in two steps, as numpy's round).
 */
const msIndex = (t: number) => Math.trunc(Math.round(t * 1000 * 1e6) / 1e6);

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

/** First index of a sorted array of spike times whose millisecond is >= `ms`. */
function firstAtOrAfter(times: Float64Array, ms: number): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (msIndex(times[mid]) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
  let truePsth: TruePSTH | null = null;
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
    nwb: {
      path,
      settings: s,
      recordingSeconds: endMs / 1000,
      trialId: Int32Array.from(rows, (r) => table.ids[r]),
      fileSplit: rows.map((r) => (labels ? labels[r] : "")),
      trialInfo,
      conditionLabels,
      truePsth,
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

/** One unit's spike times (seconds), sorted. */
function unitSpikeTimes(units: UnitsTable, u: number): Float64Array {
  const start = u ? units.spikeEnds[u - 1] : 0, end = units.spikeEnds[u];
  if (end <= start) return new Float64Array(0);
  const times = readNumbers(units.spikeTimes, `${UNITS}/spike_times`, [start, end]);
  for (let j = 1; j < times.length; j++) {
    if (times[j] < times[j - 1]) return times.sort();
  }
  return times;
}

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

/**
 * Per-condition sums of 1 ms spike counts around each trial's window, smoothed and binned
 * unit by unit. The smoothed 1 ms signal `y[m] = Σ_j x[j] w[m + off - j]` (numpy's
 * "same" convolution with the reference's window `w` of length M, `off = (M - 1) >> 1`),
 * summed over each bin, is computed from the nonzero counts only: a count at input
 * position p adds `w`'s partial sums to the bins it reaches.
 */
class PsthAccumulator {
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

// ---------------------------------------------------------------------------------------
// What is inside a file
// ---------------------------------------------------------------------------------------

/** One trials-table column, summarized. */
export interface TrialColumnSummary {
  /** Column name. */
  name: string;
  /** `number`, `boolean`, `string` or `other` (ragged, 2-D or references). */
  kind: TrialColumn["kind"];
  /** Fraction of NaN values (numbers only). */
  nanFraction: number | null;
  /** Distinct values (numbers, booleans and strings). */
  distinct: number | null;
  /** Smallest and largest value (numbers only; NaN skipped). */
  range: [number, number] | null;
  /** Up to five distinct values, for strings and booleans. */
  examples: string[];
  /** Shape and HDF5 type, for `other` columns. */
  detail: string | null;
}

/** One TimeSeries, summarized. */
export interface TimeSeriesSummary {
  /** HDF5 path. */
  path: string;
  /** Name (the group's), and the name nlb_tools would give it. */
  name: string;
  /** nlb_tools' name (`<container>_<name>` inside a container). */
  nlbName: string;
  /** The `neurodata_type` attribute, if any. */
  neurodataType: string | null;
  /** Samples. */
  rows: number;
  /** Channels. */
  columns: number;
  /** Column names from `comments`, if any. */
  columnNames: string[] | null;
  /** How sample times are stored. */
  timing: "timestamps" | "rate" | "missing";
  /** Sampling rate, Hz (stored, or from the median timestamp step). */
  rateHz: number | null;
  /** First and last sample time, seconds. */
  startSeconds: number | null;
  /** Last sample time, seconds. */
  endSeconds: number | null;
  /** Whether every sample time is a whole millisecond (what the NLB reference needs). */
  onMillisecondGrid: boolean;
  /** Fraction of NaN values in `data`. */
  nanFraction: number | null;
  /** What is wrong with it, if anything. */
  problem: string | null;
}

/** What `describeNWB` finds in a file: plain data, printable with `formatNWBInfo`. */
export interface NWBInfo {
  /** The file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The root's `nwb_version` attribute. */
  nwbVersion: string | null;
  /** `/identifier`. */
  identifier: string | null;
  /** `/session_description`. */
  sessionDescription: string | null;
  /** The units table, or null when the file has none. */
  units: {
    count: number;
    heldin: number;
    heldout: number;
    hasHeldoutColumn: boolean;
    spikes: number;
    /** First and last spike, seconds. */
    spikeRangeSeconds: [number, number] | null;
    /** Observation intervals stored, in all (0: none). */
    obsIntervals: number;
    /** Start and end of the observed recording, seconds (intervals, else spikes). */
    recordingSeconds: [number, number] | null;
    /** Mean firing rate over units, Hz. */
    meanRateHz: number | null;
    columns: string[];
  } | null;
  /** The trials table, or null when the file has none. */
  trials: {
    count: number;
    /** Trials per `split` label (empty without a split column). */
    splits: Record<string, number>;
    columns: TrialColumnSummary[];
  } | null;
  /** Every TimeSeries. */
  timeSeries: TimeSeriesSummary[];
  /** Presets whose alignment, condition and behavior fields the file has. */
  presets: NLBPresetName[];
  /** Problems found (each names the HDF5 path). */
  problems: string[];
}

function summarizeColumn(name: string, column: TrialColumn): TrialColumnSummary {
  const base = {
    name,
    kind: column.kind,
    nanFraction: null,
    distinct: null,
    range: null,
    examples: [],
    detail: null,
  };
  if (column.kind === "other") {
    return {
      ...base,
      detail: `${column.ragged ? "ragged, " : ""}shape [${
        column.shape.join(", ")
      }], ${column.dtype}`,
    };
  }
  if (column.kind === "number") {
    let nan = 0, lo = Infinity, hi = -Infinity;
    for (const v of column.values) {
      if (Number.isNaN(v)) nan++;
      else (lo = Math.min(lo, v), hi = Math.max(hi, v));
    }
    return {
      ...base,
      nanFraction: column.values.length ? nan / column.values.length : 0,
      distinct: new Set(column.values).size,
      range: lo <= hi ? [lo, hi] : null,
    };
  }
  const values = column.kind === "boolean"
    ? Array.from(column.values, (v) => (v ? "true" : "false"))
    : column.values;
  const distinct = [...new Set(values)];
  return { ...base, distinct: distinct.length, examples: distinct.slice(0, 5) };
}

function summarizeSeries(file: H5File, info: TimeSeriesInfo): TimeSeriesSummary {
  const summary: TimeSeriesSummary = {
    path: info.path,
    name: info.name,
    nlbName: info.nlbName,
    neurodataType: info.neurodataType,
    rows: info.rows,
    columns: info.columns,
    columnNames: info.columnNames,
    timing: info.timing.kind,
    rateHz: null,
    startSeconds: null,
    endSeconds: null,
    onMillisecondGrid: false,
    nanFraction: null,
    problem: info.problem,
  };
  if (info.problem || info.rows === 0) return summary;
  const times = readSeriesTimes(file, info);
  summary.startSeconds = times[0];
  summary.endSeconds = times[times.length - 1];
  if (info.timing.kind === "rate") summary.rateHz = info.timing.rate;
  else if (times.length > 1) {
    const steps: number[] = [];
    const stride = Math.max(1, Math.floor(times.length / 1000));
    for (let j = stride; j < times.length; j += stride) steps.push(times[j] - times[j - 1]);
    steps.sort((a, b) => a - b);
    const step = steps[steps.length >> 1];
    summary.rateHz = step > 0 ? Math.round(1e6 / step) / 1e6 : null;
  }
  summary.onMillisecondGrid = times.every((t) => Math.abs(t * 1000 - Math.round(t * 1000)) <= 1e-3);
  const ds = getDataset(file, `${info.path}/data`)!;
  let nan = 0, total = 0;
  for (let r0 = 0; r0 < info.rows; r0 += CHUNK_ROWS) {
    const chunk = readNumbers(ds, `${info.path}/data`, [r0, Math.min(info.rows, r0 + CHUNK_ROWS)]);
    for (const v of chunk) if (Number.isNaN(v)) nan++;
    total += chunk.length;
  }
  summary.nanFraction = total ? nan / total : 0;
  return summary;
}

/**
 * Describe what an NWB file holds, reading it series by series: the units (held-in and
 * held-out counts, spikes, observation intervals, mean rate), the trials table (every
 * column with its kind, NaN fraction and distinct values; trials per split), every
 * TimeSeries (shape, timing, rate, time range, NaN fraction) and the presets that can
 * read it. Only a file that is not HDF5 is an error; anything else missing or malformed is
 * listed in `problems`. `formatNWBInfo` prints the record.
 */
export async function describeNWB(path: string): Promise<NWBInfo> {
  const file = await openHDF5(path, "an NWB file");
  try {
    const text = (name: string) => {
      const ds = getDataset(file, name);
      if (!ds || ds.metadata.type !== H5T.string) return null;
      const value = ds.value;
      return Array.isArray(value) ? String(value[0]) : String(value);
    };
    const version = readAttribute(file, "nwb_version");
    const info: NWBInfo = {
      path,
      bytes: (await Deno.stat(path)).size,
      nwbVersion: typeof version === "string" ? version : null,
      identifier: text("identifier"),
      sessionDescription: text("session_description"),
      units: null,
      trials: null,
      timeSeries: [],
      presets: [],
      problems: [],
    };
    try {
      info.units = describeUnits(readUnits(file, path));
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      info.problems.push(error.message);
    }
    let table: TrialsTable | null = null;
    try {
      table = readTrials(file, path);
      const splits: Record<string, number> = {};
      const split = table.columns.get("split");
      if (split?.kind === "string") {
        for (const v of split.values) splits[v] = (splits[v] ?? 0) + 1;
      }
      info.trials = {
        count: table.count,
        splits,
        columns: [...table.columns].map(([name, column]) => summarizeColumn(name, column)),
      };
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      info.problems.push(error.message);
    }
    const series = findTimeSeries(file);
    info.timeSeries = series.map((s) => summarizeSeries(file, s));
    for (const s of series) if (s.problem) info.problems.push(s.problem);
    if (table) {
      const columns = table.columns;
      const hasSeries = (name: string) =>
        series.some((t) => !t.problem && (t.name === name || t.nlbName === name));
      info.presets = (Object.values(NLB_PRESETS) as NLBPreset[])
        .filter((p) =>
          columns.has(p.alignField) &&
          p.conditionFields.every((f) => columns.has(f)) &&
          p.behaviorColumns.every((f) => columns.has(f)) &&
          p.behavior.every(hasSeries)
        )
        .map((p) => p.name);
    }
    return info;
  } finally {
    file.close();
  }
}

function describeUnits(units: UnitsTable): NonNullable<NWBInfo["units"]> {
  let first = Infinity, last = -Infinity;
  for (let u = 0; u < units.count; u++) {
    const start = u ? units.spikeEnds[u - 1] : 0, end = units.spikeEnds[u];
    if (end <= start) continue;
    first = Math.min(
      first,
      readNumbers(units.spikeTimes, `${UNITS}/spike_times`, [start, start + 1])[0],
    );
    last = Math.max(last, readNumbers(units.spikeTimes, `${UNITS}/spike_times`, [end - 1, end])[0]);
  }
  const spikeRange: [number, number] | null = Number.isFinite(first) ? [first, last] : null;
  let recording: [number, number] | null = spikeRange;
  let intervals = 0;
  if (units.observed) {
    let lo = Infinity, hi = -Infinity;
    for (const o of units.observed) {
      intervals += o.length / 2;
      for (let k = 0; k < o.length; k += 2) (lo = Math.min(lo, o[k]), hi = Math.max(hi, o[k + 1]));
    }
    if (Number.isFinite(lo)) recording = [lo, hi];
  }
  const heldout = units.heldout.reduce((a, b) => a + b, 0);
  const duration = recording ? recording[1] - recording[0] : 0;
  return {
    count: units.count,
    heldin: units.count - heldout,
    heldout,
    hasHeldoutColumn: units.hasHeldout,
    spikes: units.totalSpikes,
    spikeRangeSeconds: spikeRange,
    obsIntervals: intervals,
    recordingSeconds: recording,
    meanRateHz: duration > 0 ? units.totalSpikes / units.count / duration : null,
    columns: units.columns,
  };
}

const fixed = (v: number | null, digits = 3) => (v === null ? "?" : v.toFixed(digits));
const percent = (
  v: number | null,
) => (v === null ? "?" : `${(100 * v).toFixed(v > 0 && v < 0.001 ? 3 : 1)}%`);

/** Print a `describeNWB` record as the `info` command shows it. */
export function formatNWBInfo(info: NWBInfo): string {
  const lines: string[] = [];
  const mb = (info.bytes / 2 ** 20).toFixed(1);
  lines.push(`${info.path} (${mb} MiB${info.nwbVersion ? `, NWB ${info.nwbVersion}` : ""})`);
  if (info.sessionDescription) lines.push(`  session: ${info.sessionDescription}`);
  const u = info.units;
  if (u) {
    lines.push(
      `units: ${u.count} (${u.heldin} held-in, ${u.heldout} held-out${
        u.hasHeldoutColumn ? "" : "; no heldout column"
      }), ${u.spikes.toLocaleString("en-US")} spikes, mean ${fixed(u.meanRateHz, 1)} Hz per unit`,
    );
    if (u.recordingSeconds) {
      lines.push(
        `  recording: ${fixed(u.recordingSeconds[0])}..${fixed(u.recordingSeconds[1])} s (${
          u.obsIntervals
            ? `${u.obsIntervals} observation intervals`
            : "no obs_intervals; spike range"
        })`,
      );
    }
  } else lines.push("units: none");
  const t = info.trials;
  if (t) {
    const splits = Object.entries(t.splits).map(([k, v]) => `${k} ${v}`).join(", ");
    lines.push(`trials: ${t.count}${splits ? ` (split: ${splits})` : " (no split column)"}`);
    const values = (n: number) => `${n} value${n === 1 ? "" : "s"}`;
    for (const c of t.columns) {
      const parts: string[] = [c.kind];
      if (c.detail) parts.push(c.detail);
      if (c.range) {
        parts.push(c.distinct! <= 50 ? values(c.distinct!) : `${c.range[0]}..${c.range[1]}`);
      }
      if (c.nanFraction) parts.push(`${percent(c.nanFraction)} NaN`);
      if (c.examples.length) {
        parts.push(
          `${values(c.distinct!)}: ${c.examples.join(", ")}${c.distinct! > 5 ? ", ..." : ""}`,
        );
      }
      lines.push(`  ${c.name}: ${parts.join(", ")}`);
    }
  } else lines.push("trials: none");
  lines.push(`time series: ${info.timeSeries.length}`);
  for (const s of info.timeSeries) {
    const names = s.columnNames ? ` [${s.columnNames.join(", ")}]` : "";
    const type = s.neurodataType ? ` ${s.neurodataType}` : "";
    if (s.problem) {
      lines.push(`  ${s.path}${type}: ${s.rows} x ${s.columns}; ${s.problem}`);
      continue;
    }
    lines.push(
      `  ${s.path}${type}: ${s.rows} x ${s.columns}${names}, ${
        fixed(s.rateHz, 2)
      } Hz (${s.timing}), ` +
        `${fixed(s.startSeconds)}..${fixed(s.endSeconds)} s, ${percent(s.nanFraction)} NaN` +
        `${s.onMillisecondGrid ? "" : ", off the 1 ms grid"}`,
    );
  }
  lines.push(`presets that can read it: ${info.presets.length ? info.presets.join(", ") : "none"}`);
  if (info.problems.length) {
    lines.push("problems:");
    for (const p of info.problems) lines.push(`  ${p}`);
  }
  return lines.join("\n");
}
