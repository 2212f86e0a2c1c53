/**
 * `NeuralDataset`: binned spikes, behavior and trial labels in plain typed arrays, the
 * contract between every data source (synthetic, NWB, saved) and every model and metric.
 * @module
 */

import { type Array3, assertArray3, selectTrials } from "../array.ts";
import { DatasetError, describe } from "../errors.ts";
import { meanStd } from "../math.ts";
import { Random } from "../random.ts";

/** The trial splits. `val` is for model selection; `test` is only ever scored. */
export type Split = "train" | "val" | "test";

/** Every split name, in order. */
export const SPLITS: readonly Split[] = ["train", "val", "test"];

/** Ground truth that only synthetic data has. Rates are expected counts per bin. */
export interface DatasetTruth {
  /** True rates (spikes per bin) of the held-in neurons over the observed bins. */
  heldinRates: Array3;
  /** True rates of the held-out neurons over the observed bins. */
  heldoutRates: Array3;
  /** True rates of the held-in neurons over the forward-prediction bins. */
  forwardHeldinRates: Array3;
  /** True rates of the held-out neurons over the forward-prediction bins. */
  forwardHeldoutRates: Array3;
  /** Latent factors over observed then forward bins: trials x (time + forward) x latents. */
  latents: Array3;
  /** One name per latent. */
  latentNames: string[];
  /** Indices of the latents that drive behavior; the others are behavior-irrelevant. */
  behaviorLatents: number[];
}

/**
 * Reference PSTHs for psth R2, computed by the data source from finer data than the bins
 * (`loadNWB`: 1 ms spikes smoothed with the NLB reference's Gaussian kernel over the
 * continuous recording, summed into bins, averaged over the trials of each condition;
 * synthetic generators: the condition means of the true rates, not smoothed).
 * `evaluateNLB` scores predicted PSTHs against these when a dataset carries them.
 */
export interface TruePSTH {
  /**
   * Spikes per bin: conditions x observed bins x neurons (held-in then held-out, as in
   * `heldinNames` then `heldoutNames`), rows in `conditionIds` order. A row may be NaN
   * where its condition had no trial to average.
   */
  rates: Array3;
  /** The condition id (a value of `condition`) of each row: distinct, one for every id in `condition`. */
  conditionIds: number[];
  /** Trials averaged per row (0: the row is NaN). */
  trialCounts: number[];
  /** The Gaussian kernel's s.d., ms; 0: not smoothed (synthetic data's true rates). */
  kernelSdMs: number;
}

/**
 * A trial-aligned, binned recording (or simulation).
 *
 * All spike arrays hold non-negative integer counts per bin. Behavior is aligned so that
 * neural activity at bin `t` predicts `behavior` at bin `t` (the lag of `behaviorLagMs` is
 * already applied); it may contain NaN where it was not measured.
 */
export interface NeuralDataset {
  /** A short name for reports. */
  name: string;
  /** Bin width in milliseconds. */
  binMs: number;
  /** Spikes of the held-in (observed) neurons: trials x time x heldin. */
  heldinSpikes: Array3;
  /** Spikes of the held-out neurons, same bins: trials x time x heldout. */
  heldoutSpikes: Array3;
  /** Held-in spikes in the forward-prediction window after the trial: trials x forward x heldin. */
  forwardHeldinSpikes: Array3;
  /** Held-out spikes in the forward window: trials x forward x heldout. */
  forwardHeldoutSpikes: Array3;
  /** Behavior (e.g. hand velocity), lag-aligned to the spikes: trials x time x dims. */
  behavior: Array3;
  /** One name per behavior dimension (e.g. `hand_vel_x`). */
  behaviorNames: string[];
  /** One name per held-in neuron. */
  heldinNames: string[];
  /** One name per held-out neuron. */
  heldoutNames: string[];
  /** Per-trial split. */
  split: Split[];
  /** Per-trial condition id (e.g. the reach path), for PSTHs. */
  condition: Int32Array;
  /** Per-trial recording session id. */
  session: Int32Array;
  /** How far behavior lags neural activity, in ms (already applied to `behavior`). */
  behaviorLagMs: number;
  /** Optional local field potential, same bins: trials x time x lfp channels. */
  lfp?: Array3;
  /** Ground truth, for synthetic data. */
  truth?: DatasetTruth;
  /**
   * Reference PSTHs per condition for psth R2, when the source computes them (NWB files
   * read with a kernel and condition fields). Without them, `evaluateNLB` builds PSTHs
   * from the binned spikes.
   */
  truePsth?: TruePSTH;
}

/** Options for `validateDataset`. */
export interface ValidateOptions {
  /** Splits that must hold at least one trial. Default: all three. */
  requiredSplits?: readonly Split[];
}

function fail(message: string): never {
  throw new DatasetError(message);
}

// Trial, bin and channel of a flat index, for messages.
function where(a: Array3, flat: number): string {
  const [, time, channels] = a.shape;
  const channel = flat % channels;
  const bin = Math.floor(flat / channels) % time;
  const trial = Math.floor(flat / (channels * time));
  return `trial ${trial}, bin ${bin}, channel ${channel}`;
}

function checkCounts(a: Array3, field: string): void {
  const data = a.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // One comparison covers the common case; the rest only runs on a bad value.
    if (v >= 0 && v === Math.floor(v) && v !== Infinity) continue;
    if (Number.isNaN(v)) fail(`${field} has NaN at ${where(a, i)}; spike counts cannot be missing`);
    if (v < 0) fail(`${field} has a negative count ${v} at ${where(a, i)}; expected counts >= 0`);
    fail(`${field} has a non-integer count ${v} at ${where(a, i)}; expected whole spike counts`);
  }
}

function checkFiniteOrNaN(a: Array3, field: string): void {
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i];
    if (v === Infinity || v === -Infinity) fail(`${field} has ${v} at ${where(a, i)}`);
  }
}

function checkArray(value: unknown, field: string): Array3 {
  try {
    assertArray3(value, field);
  } catch (error) {
    fail((error as Error).message);
  }
  return value as Array3;
}

function checkNames(names: unknown, expected: number, field: string, of: string): void {
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
    fail(`${field} must be an array of strings, got ${describe(names)}`);
  }
  if (names.length !== expected) {
    fail(`${field} has ${names.length} names but ${of} has ${expected} channels`);
  }
}

function checkSameSize(
  a: Array3,
  aField: string,
  b: Array3,
  bField: string,
  axis: 0 | 1 | 2,
): void {
  const what = ["trials", "time bins", "channels"][axis];
  if (a.shape[axis] !== b.shape[axis]) {
    fail(`${aField} has ${a.shape[axis]} ${what} but ${bField} has ${b.shape[axis]}`);
  }
}

/**
 * Check every field of a dataset and throw a `DatasetError` that names the field and the
 * expected and actual values at the first problem: shapes that disagree, negative,
 * non-integer or NaN spike counts, infinite behavior, unknown split names, empty splits,
 * bad condition or session ids, inconsistent ground truth, and true PSTHs whose shape,
 * condition ids or values do not fit the dataset.
 */
export function validateDataset(dataset: NeuralDataset, options: ValidateOptions = {}): void {
  const d = dataset as Partial<NeuralDataset>;
  if (d === null || typeof d !== "object") fail(`dataset must be an object, got ${describe(d)}`);
  if (typeof d.name !== "string") fail(`name must be a string, got ${describe(d.name)}`);
  if (typeof d.binMs !== "number" || !(d.binMs > 0) || !Number.isFinite(d.binMs)) {
    fail(`binMs must be a positive number of milliseconds, got ${describe(d.binMs)}`);
  }
  if (typeof d.behaviorLagMs !== "number" || !Number.isFinite(d.behaviorLagMs)) {
    fail(`behaviorLagMs must be a finite number of milliseconds, got ${describe(d.behaviorLagMs)}`);
  }

  const heldin = checkArray(d.heldinSpikes, "heldinSpikes");
  const heldout = checkArray(d.heldoutSpikes, "heldoutSpikes");
  const fwdIn = checkArray(d.forwardHeldinSpikes, "forwardHeldinSpikes");
  const fwdOut = checkArray(d.forwardHeldoutSpikes, "forwardHeldoutSpikes");
  const behavior = checkArray(d.behavior, "behavior");
  const trials = heldin.shape[0];

  for (const [a, field] of [[heldout, "heldoutSpikes"], [behavior, "behavior"]] as const) {
    checkSameSize(a, field, heldin, "heldinSpikes", 0);
    checkSameSize(a, field, heldin, "heldinSpikes", 1);
  }
  checkSameSize(fwdIn, "forwardHeldinSpikes", heldin, "heldinSpikes", 0);
  checkSameSize(fwdIn, "forwardHeldinSpikes", heldin, "heldinSpikes", 2);
  checkSameSize(fwdOut, "forwardHeldoutSpikes", heldout, "heldoutSpikes", 0);
  checkSameSize(fwdOut, "forwardHeldoutSpikes", heldout, "heldoutSpikes", 2);
  checkSameSize(fwdOut, "forwardHeldoutSpikes", fwdIn, "forwardHeldinSpikes", 1);
  if (d.lfp !== undefined) {
    const lfp = checkArray(d.lfp, "lfp");
    checkSameSize(lfp, "lfp", heldin, "heldinSpikes", 0);
    checkSameSize(lfp, "lfp", heldin, "heldinSpikes", 1);
    checkFiniteOrNaN(lfp, "lfp");
  }

  checkNames(d.heldinNames, heldin.shape[2], "heldinNames", "heldinSpikes");
  checkNames(d.heldoutNames, heldout.shape[2], "heldoutNames", "heldoutSpikes");
  checkNames(d.behaviorNames, behavior.shape[2], "behaviorNames", "behavior");

  checkCounts(heldin, "heldinSpikes");
  checkCounts(heldout, "heldoutSpikes");
  checkCounts(fwdIn, "forwardHeldinSpikes");
  checkCounts(fwdOut, "forwardHeldoutSpikes");
  checkFiniteOrNaN(behavior, "behavior");

  checkTrialLabels(d as NeuralDataset, trials, options.requiredSplits ?? SPLITS);
  if (d.truth !== undefined) checkTruth(d as NeuralDataset);
  if (d.truePsth !== undefined) checkTruePsth(d as NeuralDataset);
}

function checkTrialLabels(d: NeuralDataset, trials: number, required: readonly Split[]): void {
  if (!Array.isArray(d.split)) {
    fail(`split must be an array of split names, got ${describe(d.split)}`);
  }
  if (d.split.length !== trials) {
    fail(`split has ${d.split.length} entries but the spikes have ${trials} trials`);
  }
  const counts: Record<Split, number> = { train: 0, val: 0, test: 0 };
  d.split.forEach((s, i) => {
    if (!(SPLITS as readonly string[]).includes(s)) {
      fail(`split[${i}] is ${describe(s)}; expected one of ${SPLITS.join(", ")}`);
    }
    counts[s]++;
  });
  for (const s of required) {
    if (counts[s] === 0) {
      fail(
        `split "${s}" is empty: no trial is labelled "${s}" (counts: ${
          SPLITS.map((k) => `${k} ${counts[k]}`).join(", ")
        })`,
      );
    }
  }
  for (const field of ["condition", "session"] as const) {
    const ids = d[field];
    if (!(ids instanceof Int32Array)) fail(`${field} must be an Int32Array, got ${describe(ids)}`);
    if (ids.length !== trials) {
      fail(`${field} has ${ids.length} entries but the spikes have ${trials} trials`);
    }
    const bad = ids.findIndex((v) => v < 0);
    if (bad >= 0) fail(`${field}[${bad}] is ${ids[bad]}; expected an id >= 0`);
  }
}

function checkTruth(d: NeuralDataset): void {
  const t = d.truth!;
  const pairs = [
    ["heldinRates", "heldinSpikes"],
    ["heldoutRates", "heldoutSpikes"],
    ["forwardHeldinRates", "forwardHeldinSpikes"],
    ["forwardHeldoutRates", "forwardHeldoutSpikes"],
  ] as const;
  for (const [rateField, spikeField] of pairs) {
    const rates = checkArray(t[rateField], `truth.${rateField}`);
    const spikes = d[spikeField];
    if (rates.shape.some((n, k) => n !== spikes.shape[k])) {
      fail(
        `truth.${rateField} has shape [${rates.shape.join(", ")}] but ${spikeField} has [${
          spikes.shape.join(", ")
        }]`,
      );
    }
    const data = rates.data;
    for (let i = 0; i < data.length; i++) {
      if (data[i] >= 0 && data[i] !== Infinity) continue;
      fail(`truth.${rateField} has ${data[i]} at ${where(rates, i)}; expected finite rates >= 0`);
    }
  }
  const latents = checkArray(t.latents, "truth.latents");
  const time = d.heldinSpikes.shape[1] + d.forwardHeldinSpikes.shape[1];
  if (latents.shape[0] !== d.heldinSpikes.shape[0] || latents.shape[1] !== time) {
    fail(
      `truth.latents has shape [${latents.shape.join(", ")}]; expected [${
        d.heldinSpikes.shape[0]
      }, ${time}, latents] (observed + forward bins)`,
    );
  }
  checkNames(t.latentNames, latents.shape[2], "truth.latentNames", "truth.latents");
  for (const k of t.behaviorLatents) {
    if (!Number.isInteger(k) || k < 0 || k >= latents.shape[2]) {
      fail(`truth.behaviorLatents has ${k}; expected latent indices in 0..${latents.shape[2] - 1}`);
    }
  }
}

function checkIdList(values: unknown, field: string, expected: number, of: string): number[] {
  if (!Array.isArray(values) || values.some((v) => !Number.isInteger(v) || v < 0)) {
    fail(`${field} must be an array of integers >= 0, got ${describe(values)}`);
  }
  if (values.length !== expected) {
    fail(`${field} has ${values.length} entries but ${of} has ${expected} conditions`);
  }
  return values;
}

function checkTruePsth(d: NeuralDataset): void {
  const p = d.truePsth as Partial<TruePSTH> | null;
  if (p === null || typeof p !== "object") {
    fail(
      `truePsth must be { rates, conditionIds, trialCounts, kernelSdMs }, got ${describe(p)}`,
    );
  }
  const rates = checkArray(p.rates, "truePsth.rates");
  const [conditions] = rates.shape;
  const bins = d.heldinSpikes.shape[1];
  const nIn = d.heldinSpikes.shape[2], nOut = d.heldoutSpikes.shape[2];
  if (rates.shape[1] !== bins || rates.shape[2] !== nIn + nOut) {
    fail(
      `truePsth.rates has shape [${rates.shape.join(", ")}]; expected [${conditions}, ${bins}, ${
        nIn + nOut
      }] (conditions x the ${bins} observed bins x ${nIn} held-in + ${nOut} held-out neurons)`,
    );
  }
  const ids = checkIdList(p.conditionIds, "truePsth.conditionIds", conditions, "truePsth.rates");
  checkIdList(p.trialCounts, "truePsth.trialCounts", conditions, "truePsth.rates");
  const row = new Map<number, number>();
  ids.forEach((id, k) => {
    if (row.has(id)) {
      fail(`truePsth.conditionIds has condition ${id} twice (rows ${row.get(id)} and ${k})`);
    }
    row.set(id, k);
  });
  const missing = d.condition.findIndex((c) => !row.has(c));
  if (missing >= 0) {
    fail(
      `condition[${missing}] is ${d.condition[missing]} but truePsth has no row for it ` +
        `(truePsth.conditionIds: ${ids.join(", ")}); expected a PSTH for every condition`,
    );
  }
  if (typeof p.kernelSdMs !== "number" || !(p.kernelSdMs >= 0) || !Number.isFinite(p.kernelSdMs)) {
    fail(
      `truePsth.kernelSdMs must be a positive number of ms (or 0: not smoothed), got ${
        describe(p.kernelSdMs)
      }`,
    );
  }
  for (let i = 0; i < rates.data.length; i++) {
    const v = rates.data[i];
    if ((v >= 0 && v !== Infinity) || Number.isNaN(v)) continue;
    fail(
      `truePsth.rates has ${v} at condition row ${Math.floor(i / (bins * (nIn + nOut)))}, bin ${
        Math.floor(i / (nIn + nOut)) % bins
      }, neuron ${
        i % (nIn + nOut)
      }; expected finite rates >= 0 (or NaN for a condition without trials)`,
    );
  }
}

/** Indices of the trials in one split (or any of several), in dataset order. */
export function trialsInSplit(dataset: NeuralDataset, split: Split | readonly Split[]): number[] {
  const wanted = typeof split === "string" ? [split] : split;
  for (const s of wanted) {
    if (!SPLITS.includes(s)) {
      fail(`unknown split ${describe(s)}; expected one of ${SPLITS.join(", ")}`);
    }
  }
  const out: number[] = [];
  dataset.split.forEach((s, i) => wanted.includes(s) && out.push(i));
  return out;
}

/**
 * A new dataset holding only the given trials (every array, label and truth field). The
 * per-condition `truePsth` is kept whole: it describes the conditions, not the trials.
 */
export function subsetTrials(dataset: NeuralDataset, trials: ArrayLike<number>): NeuralDataset {
  const pick = (a: Array3) => selectTrials(a, trials);
  const labels = Array.from(trials, (i) => i);
  const truth = dataset.truth && {
    ...dataset.truth,
    heldinRates: pick(dataset.truth.heldinRates),
    heldoutRates: pick(dataset.truth.heldoutRates),
    forwardHeldinRates: pick(dataset.truth.forwardHeldinRates),
    forwardHeldoutRates: pick(dataset.truth.forwardHeldoutRates),
    latents: pick(dataset.truth.latents),
  };
  return {
    ...dataset,
    heldinSpikes: pick(dataset.heldinSpikes),
    heldoutSpikes: pick(dataset.heldoutSpikes),
    forwardHeldinSpikes: pick(dataset.forwardHeldinSpikes),
    forwardHeldoutSpikes: pick(dataset.forwardHeldoutSpikes),
    behavior: pick(dataset.behavior),
    lfp: dataset.lfp && pick(dataset.lfp),
    split: labels.map((i) => dataset.split[i]),
    condition: Int32Array.from(labels, (i) => dataset.condition[i]),
    session: Int32Array.from(labels, (i) => dataset.session[i]),
    truth,
  };
}

/** A new dataset with the trials of one split (or several). */
export function splitDataset(
  dataset: NeuralDataset,
  split: Split | readonly Split[],
): NeuralDataset {
  return subsetTrials(dataset, trialsInSplit(dataset, split));
}

/** Per-dimension statistics used to z-score behavior. */
export interface BehaviorScaling {
  /** Mean per behavior dimension. */
  mean: Float64Array;
  /** Standard deviation per dimension (1 where it was 0). */
  std: Float64Array;
  /** The split(s) the statistics came from. */
  fitOn: Split[];
}

/**
 * Mean and standard deviation of each behavior dimension over the trials of `fitOn`
 * (NaN ignored; a constant dimension gets scale 1, as scikit-learn's StandardScaler does).
 * A dimension that is NaN on every such trial is an error.
 */
export function behaviorScaling(
  dataset: NeuralDataset,
  fitOn: Split | readonly Split[] = "train",
): BehaviorScaling {
  const fitSplits = typeof fitOn === "string" ? [fitOn] : [...fitOn];
  const trials = trialsInSplit(dataset, fitSplits);
  if (trials.length === 0) fail(`zscoreBehavior: split ${fitSplits.join("+")} has no trials`);
  const [, time, dims] = dataset.behavior.shape;
  const mean = new Float64Array(dims);
  const std = new Float64Array(dims);
  const column = new Float64Array(trials.length * time);
  for (let k = 0; k < dims; k++) {
    let n = 0;
    for (const i of trials) {
      for (let t = 0; t < time; t++) column[n++] = dataset.behavior.data[(i * time + t) * dims + k];
    }
    const stats = meanStd(column);
    if (stats.count === 0) {
      fail(`behavior "${dataset.behaviorNames[k]}" is NaN on every ${fitSplits.join("+")} trial`);
    }
    mean[k] = stats.mean;
    std[k] = stats.std > 0 ? stats.std : 1;
  }
  return { mean, std, fitOn: fitSplits };
}

/**
 * Z-score behavior with the mean and standard deviation of the train split only, so no
 * statistic of validation or test trials leaks into training. NaN stays NaN. A dimension
 * that is constant on train gets scale 1 (as scikit-learn's StandardScaler does).
 */
export function zscoreBehavior(
  dataset: NeuralDataset,
  fitOn: Split | readonly Split[] = "train",
): { dataset: NeuralDataset; scaling: BehaviorScaling } {
  const scaling = behaviorScaling(dataset, fitOn);
  const { mean, std } = scaling;
  const dims = dataset.behavior.shape[2];
  const source = dataset.behavior.data;
  const data = source instanceof Float64Array
    ? new Float64Array(source.length)
    : new Float32Array(source.length);
  for (let j = 0; j < data.length; j++) {
    const k = j % dims;
    data[j] = (source[j] - mean[k]) / std[k];
  }
  return {
    dataset: { ...dataset, behavior: { data, shape: [...dataset.behavior.shape] } },
    scaling,
  };
}

/**
 * Split trial indices into shuffled minibatches; the order depends only on `seed`.
 * The last batch is smaller unless `dropLast` is set.
 *
 * @example
 * ```ts
 * import { minibatches } from "./dataset.ts";
 * minibatches([0, 1, 2, 3, 4], 2, 7); // e.g. [[3, 0], [4, 1], [2]]
 * ```
 */
export function minibatches(
  trials: ArrayLike<number>,
  batchSize: number,
  seed: number,
  options: { dropLast?: boolean } = {},
): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    fail(`batchSize must be a positive integer, got ${describe(batchSize)}`);
  }
  const order = new Random(seed).shuffle(Array.from(trials));
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (batch.length < batchSize && options.dropLast) break;
    batches.push(batch);
  }
  return batches;
}

/** A short numeric summary of a dataset, for reports and sanity checks. */
export interface DatasetSummary {
  /** The dataset's name. */
  name: string;
  /** Trials per split. */
  trials: Record<Split, number>;
  /** Observed bins per trial. */
  bins: number;
  /** Forward-prediction bins per trial. */
  forwardBins: number;
  /** Bin width, ms. */
  binMs: number;
  /** Number of held-in neurons. */
  heldinNeurons: number;
  /** Number of held-out neurons. */
  heldoutNeurons: number;
  /** Number of behavior dimensions. */
  behaviorDims: number;
  /** Number of distinct conditions. */
  conditions: number;
  /** Number of distinct sessions. */
  sessions: number;
  /** Mean firing rate over all neurons, trials and observed bins, in Hz. */
  meanRateHz: number;
  /** Lowest and highest per-neuron mean rate, in Hz. */
  neuronRateRangeHz: [number, number];
  /** Fraction of behavior entries that are NaN. */
  behaviorNaNFraction: number;
}

/** Summarize a dataset: sizes, splits, conditions, firing rates and missing behavior. */
export function summarizeDataset(dataset: NeuralDataset): DatasetSummary {
  const trials: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const s of dataset.split) trials[s]++;
  const toHz = 1000 / dataset.binMs;
  const rates: number[] = [];
  for (const spikes of [dataset.heldinSpikes, dataset.heldoutSpikes]) {
    const [n, time, channels] = spikes.shape;
    const sums = new Float64Array(channels);
    for (let j = 0; j < spikes.data.length; j++) sums[j % channels] += spikes.data[j];
    for (const s of sums) rates.push((s / Math.max(1, n * time)) * toHz);
  }
  let nan = 0;
  for (const v of dataset.behavior.data) if (Number.isNaN(v)) nan++;
  return {
    name: dataset.name,
    trials,
    bins: dataset.heldinSpikes.shape[1],
    forwardBins: dataset.forwardHeldinSpikes.shape[1],
    binMs: dataset.binMs,
    heldinNeurons: dataset.heldinSpikes.shape[2],
    heldoutNeurons: dataset.heldoutSpikes.shape[2],
    behaviorDims: dataset.behavior.shape[2],
    conditions: new Set(dataset.condition).size,
    sessions: new Set(dataset.session).size,
    meanRateHz: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length),
    neuronRateRangeHz: [Math.min(...rates), Math.max(...rates)],
    behaviorNaNFraction: nan / Math.max(1, dataset.behavior.data.length),
  };
}
