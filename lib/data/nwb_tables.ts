/**
 * The two tables of an NWB file the reader needs, read and checked: the units table
 * (ragged spike times, held-out flags, observation intervals) and the trials table (every
 * column, by kind), with the helpers that put spike times on the reference's 1 ms clock.
 * Shared by `loadNWB` and `describeNWB`; errors name the HDF5 path and what was expected.
 * @module
 */

import { DatasetError } from "../errors.ts";
import {
  getDataset,
  getGroup,
  type H5Dataset,
  type H5File,
  type H5Group,
  H5T,
  isBooleanDataset,
  readAttribute,
  readNumbers,
  readStrings,
} from "./hdf5.ts";

/** HDF5 path of the units table. */
export const UNITS = "/units";
/** HDF5 path of the trials table. */
export const TRIALS = "/intervals/trials";

/** The units table, checked; spike times stay in the file until a unit is read. */
export interface UnitsTable {
  /** Number of units. */
  count: number;
  /** The NWB `id` of each unit. */
  ids: Float64Array;
  /** 1 for a held-out unit, per unit (all 0 without a `heldout` column). */
  heldout: Uint8Array;
  /** Whether the table has a `heldout` column. */
  hasHeldout: boolean;
  /** End offset of each unit's spike times in `spikeTimes`. */
  spikeEnds: Float64Array;
  /** The `spike_times` dataset, read by row ranges. */
  spikeTimes: H5Dataset;
  /** Spike times stored, over all units. */
  totalSpikes: number;
  /** Per unit: observation intervals as flat [start, end, ...] seconds; null: none stored. */
  observed: Float64Array[] | null;
  /** The table's column names. */
  columns: string[];
}

/** A column of the trials table, by kind. */
export type TrialColumn =
  | { kind: "number"; values: Float64Array }
  | { kind: "boolean"; values: Uint8Array }
  | { kind: "string"; values: string[] }
  | { kind: "other"; shape: number[]; dtype: string; ragged: boolean };

/** The trials table: every column, read and classified. */
export interface TrialsTable {
  /** Number of trials (rows). */
  count: number;
  /** The NWB `id` of each trial. */
  ids: Float64Array;
  /** Every column, by name, in the table's order. */
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

/**
 * Read and check the units table: spike time index, ids, `heldout`, observation
 * intervals. A missing or malformed part is a `DatasetError` naming its HDF5 path.
 */
export function readUnits(file: H5File, filePath: string): UnitsTable {
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

/** Read every column of the trials table (a missing table is a `DatasetError`). */
export function readTrials(file: H5File, filePath: string): TrialsTable {
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
export function numericColumn(
  table: TrialsTable,
  name: string,
  role: string,
  file: string,
): Float64Array {
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

/**
 * The millisecond of the 1 ms clock a spike at `t` seconds falls in, rounded as the
 * reference does: `int(round(t * 1000, 6))` (scaled in two steps, as numpy's round).
 */
export const msIndex = (t: number) => Math.trunc(Math.round(t * 1000 * 1e6) / 1e6);

/** First index of a sorted array of spike times whose millisecond is >= `ms`. */
export function firstAtOrAfter(times: Float64Array, ms: number): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (msIndex(times[mid]) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One unit's spike times (seconds), sorted. */
export function unitSpikeTimes(units: UnitsTable, u: number): Float64Array {
  const start = u ? units.spikeEnds[u - 1] : 0, end = units.spikeEnds[u];
  if (end <= start) return new Float64Array(0);
  const times = readNumbers(units.spikeTimes, `${UNITS}/spike_times`, [start, end]);
  for (let j = 1; j < times.length; j++) {
    if (times[j] < times[j - 1]) return times.sort();
  }
  return times;
}
