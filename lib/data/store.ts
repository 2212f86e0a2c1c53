/**
 * HDF5 files of blend's own: save and load a `NeuralDataset`, and write and read Neural
 * Latents Benchmark submission files.
 *
 * Every file is written beside its target and renamed over it, so a crash never leaves a
 * half-written file where a good one was.
 * @module
 */

import { type Array3, assertArray3 } from "../array.ts";
import { ArgumentError, DatasetError, describe } from "../errors.ts";
import { type NeuralDataset, validateDataset } from "./dataset.ts";
import {
  getDataset,
  getGroup,
  type H5Dataset,
  type H5Group,
  openHDF5,
  readAttribute,
  readStrings,
  toFloat64,
  writeHDF5Atomic,
} from "./hdf5.ts";

// ---------------------------------------------------------------------------------------
// Saved datasets
// ---------------------------------------------------------------------------------------

/** The format tag written into every saved dataset file. */
export const DATASET_FORMAT = "blend.NeuralDataset";
/** The version of the saved-dataset layout that `saveDataset` writes and `loadDataset` reads. */
export const DATASET_FORMAT_VERSION = 1;

const KIND = "blend_kind";
const JSON_ATTRIBUTE = "blend_json";

function isArray3(value: unknown): value is Array3 {
  const a = value as Partial<Array3> | null;
  return a !== null && typeof a === "object" && Array.isArray(a.shape) && a.shape.length === 3 &&
    (a.data instanceof Float32Array || a.data instanceof Float64Array);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !ArrayBuffer.isView(value);
}

/**
 * Write a record as HDF5: `Array3`s and typed arrays become datasets, non-empty string
 * arrays become string datasets, nested records become groups, and everything else
 * (numbers, strings, number arrays, empty arrays, null) goes into one JSON attribute.
 */
function writeTree(group: H5Group, record: Record<string, unknown>): void {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (isArray3(value)) {
      assertArray3(value, key);
      group.create_dataset({ name: key, data: value.data, shape: [...value.shape] })
        .create_attribute(KIND, "array3");
    } else if (ArrayBuffer.isView(value)) {
      group.create_dataset({ name: key, data: value as unknown as Float64Array })
        .create_attribute(KIND, "typed");
    } else if (
      Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")
    ) {
      group.create_dataset({ name: key, data: value as string[] }).create_attribute(
        KIND,
        "strings",
      );
    } else if (isPlainObject(value)) {
      const sub = group.create_group(key);
      sub.create_attribute(KIND, "record");
      writeTree(sub, value);
    } else {
      rest[key] = value;
    }
  }
  group.create_attribute(JSON_ATTRIBUTE, JSON.stringify(rest));
}

function readTree(group: H5Group, where: string): Record<string, unknown> {
  const json = readAttribute(group, JSON_ATTRIBUTE);
  if (typeof json !== "string") {
    throw new DatasetError(`${where}: no "${JSON_ATTRIBUTE}" attribute; the file is not ours`);
  }
  const record: Record<string, unknown> = JSON.parse(json);
  for (const key of group.keys()) {
    const path = `${where === "/" ? "" : where}/${key}`;
    const entity = group.get(key);
    if (!entity) continue;
    const kind = readAttribute(entity as H5Dataset, KIND);
    if (kind === "record") {
      record[key] = readTree(entity as H5Group, path);
      continue;
    }
    const ds = entity as H5Dataset;
    if (kind === "array3") {
      const shape = ds.shape ?? [];
      if (shape.length !== 3) {
        throw new DatasetError(`${path}: expected 3 dimensions, got shape [${shape.join(", ")}]`);
      }
      let data = ds.value;
      if (!(data instanceof Float32Array || data instanceof Float64Array)) {
        data = toFloat64(data, path);
      }
      record[key] = { data, shape: [shape[0], shape[1], shape[2]] };
    } else if (kind === "typed") {
      record[key] = ds.value;
    } else if (kind === "strings") {
      record[key] = readStrings(ds, path);
    }
  }
  return record;
}

/**
 * Save a dataset to an HDF5 file: every field, the optional `lfp`, `truth` and `truePsth`,
 * and any NWB provenance (`nwb`, from `loadNWB`). Arrays keep their float32 / float64 type.
 *
 * Layout: one dataset per array field at the root (`/heldinSpikes`, `/behavior`,
 * `/split`, `/condition`, ...; trials x time x channels), `/truth/...`, `/truePsth/...`
 * and `/nwb/...` groups, and scalars (`name`, `binMs`, `behaviorLagMs`, ...) as JSON in the root's
 * `blend_json` attribute, beside `format` and `format_version` attributes.
 *
 * @example
 * ```ts
 * import { loadDataset, saveDataset } from "./store.ts";
 * import { reachDataset } from "./synthetic/reach.ts";
 * await saveDataset(reachDataset({ trials: 60 }), "out/reach.h5");
 * const again = await loadDataset("out/reach.h5");
 * ```
 */
export async function saveDataset(dataset: NeuralDataset, path: string): Promise<void> {
  validateDataset(dataset, { requiredSplits: [] });
  await writeHDF5Atomic(path, (file) => {
    file.create_attribute("format", DATASET_FORMAT);
    file.create_attribute("format_version", DATASET_FORMAT_VERSION);
    writeTree(file, dataset as unknown as Record<string, unknown>);
  });
}

/**
 * Datasets read from NWB and saved before the true PSTHs became the dataset's own
 * `truePsth` hold them as `nwb.truePsth` (null when there were none): move them up.
 */
function movePsthOutOfNwb(record: Record<string, unknown>): void {
  const nwb = record.nwb;
  if (!isPlainObject(nwb) || !("truePsth" in nwb)) return;
  if (isPlainObject(nwb.truePsth) && record.truePsth === undefined) {
    record.truePsth = nwb.truePsth;
  }
  delete nwb.truePsth;
}

/**
 * Load a dataset saved by `saveDataset`, validated. A file of another kind, or of a newer
 * format version, is a `DatasetError` that says so.
 */
export async function loadDataset(path: string): Promise<NeuralDataset> {
  const file = await openHDF5(path, `a dataset saved by saveDataset`);
  try {
    const format = readAttribute(file, "format");
    if (format !== DATASET_FORMAT) {
      throw new DatasetError(
        `${path}: the root attribute "format" is ${
          describe(format)
        }; expected "${DATASET_FORMAT}" ` +
          `(a file written by saveDataset)`,
      );
    }
    const version = Number(readAttribute(file, "format_version"));
    if (!(version >= 1 && version <= DATASET_FORMAT_VERSION)) {
      throw new DatasetError(
        `${path}: format_version is ${version}; this version of blend reads 1..${DATASET_FORMAT_VERSION}`,
      );
    }
    const dataset = readTree(file, "/") as unknown as NeuralDataset;
    movePsthOutOfNwb(dataset as unknown as Record<string, unknown>);
    try {
      validateDataset(dataset, { requiredSplits: [] });
    } catch (error) {
      throw new DatasetError(`${path}: ${(error as Error).message}`);
    }
    return dataset;
  } finally {
    file.close();
  }
}

// ---------------------------------------------------------------------------------------
// NLB submission files
// ---------------------------------------------------------------------------------------

/** The dataset names the NLB evaluation knows. */
export const NLB_DATASET_NAMES = [
  "mc_maze",
  "mc_rtt",
  "area2_bump",
  "dmfc_rsg",
  "mc_maze_large",
  "mc_maze_medium",
  "mc_maze_small",
] as const;

/** One of the NLB evaluation's dataset names. */
export type NLBDatasetName = typeof NLB_DATASET_NAMES[number];

/** Rates (spikes per bin) of one group of trials, trials x time x neurons. */
export interface SubmissionRates {
  /** Held-in neurons. */
  heldin: Array3;
  /** Held-out neurons. */
  heldout: Array3;
  /** Held-in neurons over the forward-prediction bins (eval trials only; for fp-bps). */
  forwardHeldin?: Array3;
  /** Held-out neurons over the forward-prediction bins (eval trials only; for fp-bps). */
  forwardHeldout?: Array3;
}

/** One dataset's entry in a submission file. */
export interface NLBSubmissionEntry {
  /** Which NLB dataset, e.g. `"mc_maze"`. */
  datasetName: NLBDatasetName;
  /** Bin width, ms: 5 (group `mc_maze`) or 20 (group `mc_maze_20`). */
  binMs: 5 | 20;
  /** Rates of the NLB train trials (for the velocity decoder), in file order. */
  trainRates: SubmissionRates;
  /** Rates of the evaluated trials (NLB "val" locally, "test" for the leaderboard), in file order. */
  evalRates: SubmissionRates;
}

/** The group name the NLB evaluation looks up: `mc_maze` at 5 ms, `mc_maze_20` at 20 ms. */
export function nlbGroupName(datasetName: string, binMs: number): string {
  if (!(NLB_DATASET_NAMES as readonly string[]).includes(datasetName)) {
    throw new ArgumentError(
      `datasetName is ${describe(datasetName)}; expected one of ${NLB_DATASET_NAMES.join(", ")}`,
    );
  }
  if (binMs !== 5 && binMs !== 20) {
    throw new ArgumentError(`binMs is ${describe(binMs)}; the NLB evaluates 5 or 20 ms bins`);
  }
  return binMs === 5 ? datasetName : `${datasetName}_${binMs}`;
}

function checkRates(a: Array3 | undefined, what: string): void {
  if (a === undefined) return;
  try {
    assertArray3(a, what);
  } catch (error) {
    throw new ArgumentError((error as Error).message);
  }
  const [, time, channels] = a.shape;
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i];
    if (v >= 0 && v !== Infinity) continue;
    throw new ArgumentError(
      `${what} has ${v} at trial ${Math.floor(i / (time * channels))}, bin ${
        Math.floor(i / channels) % time
      }, neuron ${i % channels}; the NLB evaluation needs finite rates >= 0`,
    );
  }
}

function sameSize(a: Array3, aName: string, b: Array3, bName: string, axis: 0 | 1 | 2): void {
  if (a.shape[axis] !== b.shape[axis]) {
    const what = ["trials", "bins", "neurons"][axis];
    throw new ArgumentError(
      `${aName} has ${a.shape[axis]} ${what} but ${bName} has ${b.shape[axis]}`,
    );
  }
}

function checkEntry(entry: NLBSubmissionEntry, group: string): void {
  const { trainRates: tr, evalRates: ev } = entry;
  const name = (set: string, field: string) => `${group}/${set}_rates_${field}`;
  checkRates(tr.heldin, name("train", "heldin"));
  checkRates(tr.heldout, name("train", "heldout"));
  checkRates(ev.heldin, name("eval", "heldin"));
  checkRates(ev.heldout, name("eval", "heldout"));
  checkRates(ev.forwardHeldin, name("eval", "heldin_forward"));
  checkRates(ev.forwardHeldout, name("eval", "heldout_forward"));
  for (const [set, r] of [["train", tr], ["eval", ev]] as const) {
    sameSize(r.heldout, name(set, "heldout"), r.heldin, name(set, "heldin"), 0);
    sameSize(r.heldout, name(set, "heldout"), r.heldin, name(set, "heldin"), 1);
  }
  sameSize(ev.heldin, name("eval", "heldin"), tr.heldin, name("train", "heldin"), 2);
  sameSize(ev.heldout, name("eval", "heldout"), tr.heldout, name("train", "heldout"), 2);
  sameSize(ev.heldin, name("eval", "heldin"), tr.heldin, name("train", "heldin"), 1);
  if ((ev.forwardHeldin === undefined) !== (ev.forwardHeldout === undefined)) {
    throw new ArgumentError(
      `${group}: give both eval forward rates (heldin and heldout) or neither`,
    );
  }
  if (ev.forwardHeldin && ev.forwardHeldout) {
    const fin = name("eval", "heldin_forward"), fout = name("eval", "heldout_forward");
    sameSize(ev.forwardHeldin, fin, ev.heldin, name("eval", "heldin"), 0);
    sameSize(ev.forwardHeldin, fin, ev.heldin, name("eval", "heldin"), 2);
    sameSize(ev.forwardHeldout, fout, ev.heldout, name("eval", "heldout"), 0);
    sameSize(ev.forwardHeldout, fout, ev.heldout, name("eval", "heldout"), 2);
    sameSize(ev.forwardHeldout, fout, ev.forwardHeldin, fin, 1);
  }
}

/**
 * Write rates in the layout of the NLB evaluation (nlb_tools `evaluation.evaluate`): one
 * group per dataset (`mc_maze`, `mc_maze_20`, ...) holding `train_rates_heldin`,
 * `train_rates_heldout`, `eval_rates_heldin`, `eval_rates_heldout` and, when forward
 * rates are given, `eval_rates_heldin_forward`, `eval_rates_heldout_forward`; all
 * float32, trials x time x neurons, trials in the file's order. Several entries (datasets
 * or bin widths) go into one file. Rates must be finite and >= 0.
 *
 * @example
 * ```ts
 * import { writeNLBSubmission } from "./store.ts";
 * import { reachDataset } from "./synthetic/reach.ts";
 * import { truthRates } from "../metrics/nlb.ts";
 * const data = reachDataset({ trials: 60 });
 * await writeNLBSubmission("out/submission.h5", {
 *   datasetName: "mc_maze",
 *   binMs: 5,
 *   trainRates: truthRates(data, "train"),
 *   evalRates: truthRates(data, "test"),
 * });
 * ```
 */
export async function writeNLBSubmission(
  path: string,
  entries: NLBSubmissionEntry | NLBSubmissionEntry[],
): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) throw new ArgumentError("writeNLBSubmission: no entries to write");
  const groups = list.map((e) => nlbGroupName(e.datasetName, e.binMs));
  const duplicate = groups.find((g, i) => groups.indexOf(g) !== i);
  if (duplicate) throw new ArgumentError(`writeNLBSubmission: group "${duplicate}" given twice`);
  list.forEach((entry, i) => checkEntry(entry, groups[i]));
  await writeHDF5Atomic(path, (file) => {
    list.forEach((entry, i) => {
      const group = file.create_group(groups[i]);
      const put = (name: string, a: Array3 | undefined) => {
        if (!a) return;
        const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
        group.create_dataset({ name, data, shape: [...a.shape] });
      };
      put("train_rates_heldin", entry.trainRates.heldin);
      put("train_rates_heldout", entry.trainRates.heldout);
      put("eval_rates_heldin", entry.evalRates.heldin);
      put("eval_rates_heldout", entry.evalRates.heldout);
      put("eval_rates_heldin_forward", entry.evalRates.forwardHeldin);
      put("eval_rates_heldout_forward", entry.evalRates.forwardHeldout);
    });
  });
}

/**
 * Read a submission file back: group name (`mc_maze`, `mc_maze_20`, ...) to its arrays by
 * dataset name (`train_rates_heldin`, ...), each trials x time x neurons.
 */
export async function readNLBSubmission(
  path: string,
): Promise<Record<string, Record<string, Array3>>> {
  const file = await openHDF5(path, "an NLB submission file");
  try {
    const out: Record<string, Record<string, Array3>> = {};
    for (const name of file.keys()) {
      const group = getGroup(file, name);
      if (!group) continue;
      out[name] = {};
      for (const key of group.keys()) {
        const ds = getDataset(group, key);
        const shape = ds?.shape;
        if (!ds || !shape || shape.length !== 3) {
          throw new DatasetError(`${path}: /${name}/${key} is not a trials x time x neurons array`);
        }
        const value = ds.value;
        const data = value instanceof Float32Array || value instanceof Float64Array
          ? value
          : toFloat64(value, `/${name}/${key}`);
        out[name][key] = { data, shape: [shape[0], shape[1], shape[2]] };
      }
    }
    return out;
  } finally {
    file.close();
  }
}
