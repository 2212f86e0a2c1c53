/**
 * What an NWB file holds, without loading it: `describeNWB` reads the units, the trials
 * table, every TimeSeries and which NLB presets can read the file into a plain record,
 * and `formatNWBInfo` prints that record as the `info` command shows it.
 * @module
 */

import { DatasetError } from "../errors.ts";
import { getDataset, type H5File, H5T, openHDF5, readAttribute, readNumbers } from "./hdf5.ts";
import { NLB_PRESETS, type NLBPreset, type NLBPresetName } from "./nlb_presets.ts";
import {
  findTimeSeries,
  readSeriesTimes,
  seriesNaNFraction,
  type TimeSeriesInfo,
} from "./nwb_series.ts";
import {
  readTrials,
  readUnits,
  type TrialColumn,
  type TrialsTable,
  UNITS,
  type UnitsTable,
} from "./nwb_tables.ts";

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
export interface TimeSeriesSummary extends
  Pick<
    TimeSeriesInfo,
    "path" | "name" | "nlbName" | "neurodataType" | "rows" | "columns" | "columnNames"
  > {
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
    // Every consecutive step (a strided sample can alias with the trial length and pick
    // only the gaps between trials).
    const steps = new Float64Array(times.length - 1);
    for (let j = 1; j < times.length; j++) steps[j - 1] = times[j] - times[j - 1];
    steps.sort();
    const step = steps[steps.length >> 1];
    summary.rateHz = step > 0 ? Math.round(1e6 / step) / 1e6 : null;
  }
  summary.onMillisecondGrid = times.every((t) => Math.abs(t * 1000 - Math.round(t * 1000)) <= 1e-3);
  summary.nanFraction = seriesNaNFraction(file, info);
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
