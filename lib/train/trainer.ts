/**
 * `fit`: train a `SequenceModel` on a `NeuralDataset` by masked modeling, with AdamW,
 * warmup + cosine, gradient clipping, seeded minibatches and masks, early stopping on the
 * validation split (never the scoring split), best-weight keeping, checkpoints, resume,
 * a stop on a non-finite loss, and progress reports.
 * @module
 */

import {
  minibatches,
  type NeuralDataset,
  type Split,
  subsetTrials,
  trialsInSplit,
} from "../data/dataset.ts";
import { tf } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { coBps, fpBps, poissonNLL } from "../metrics/nlb.ts";
import type { ModelInputs, ModelOutputs, SequenceModel } from "../models/model.ts";
import { deriveSeed, Random } from "../random.ts";
import { type Batch, checkModelFitsData, gatherBatch, lossWeights } from "./batch.ts";
import { assignWeights, readCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { maskedPoissonLoss } from "./losses.ts";
import { type MaskingOptions, maskSpikes, resolveMasking } from "./masking.ts";
import { AdamW, learningRateAt } from "./optimizer.ts";
import { recipeFor, type Schedule, type TrainingRecipe } from "./recipe.ts";
import { predict } from "./predict.ts";
import { type ProgressEvent, type ProgressMode, progressReporter } from "./progress.ts";
import type { NamedTensor } from "./safetensors.ts";

/** What an `Objective` sees for one batch. */
export interface LossContext {
  /** The model being trained. */
  model: SequenceModel;
  /** Its outputs for the batch (training mode). */
  outputs: ModelOutputs;
  /** The masked inputs it was given. */
  inputs: ModelInputs;
  /**
   * Every predicted count: batch x (bins + forward) x (heldin + heldout); the unmasked
   * held-in spikes are its first `heldin` channels over the observed bins (and
   * `batch.heldin` as a flat array).
   */
  targets: tf.Tensor3D;
  /** Where the masked-modeling loss is scored (same shape as targets). */
  weights: tf.Tensor3D;
  /** The batch's trials and arrays. */
  batch: Batch;
  /** Where training stands. */
  epoch: number;
  /** Zero-based optimizer step. */
  step: number;
}

/**
 * Extra loss terms trained together with the model (distillation is one). `loss` gets the
 * masked-modeling loss `base` (Poisson NLL plus the model's regularizers) and returns the
 * total to minimize and the named terms to log. Its own weights (`variables`, e.g. a
 * projection) are optimized with the model's.
 */
export interface Objective {
  /** Trainable weights the objective owns, by name. */
  readonly variables?: ReadonlyMap<string, tf.Variable>;
  /** Combine the base loss with the objective's terms. Called inside a gradient tape. */
  loss(
    context: LossContext,
    base: tf.Scalar,
  ): { total: tf.Scalar; terms: Record<string, tf.Scalar> };
}

/**
 * Options of `fit`. Every training setting left out comes from the recipe of the model's
 * kind (`RECIPES` in recipe.ts), so callers that say nothing all train the same way.
 */
export interface FitOptions {
  /** Most epochs (a budget; early stopping usually ends the run first). Default: the recipe's. */
  epochs?: number;
  /** Trials per step. Default: the recipe's. */
  batchSize?: number;
  /** Peak learning rate. Default: the recipe's. */
  learningRate?: number;
  /** AdamW's decoupled weight decay. Default: the recipe's. */
  weightDecay?: number;
  /** Global gradient-norm clip. Default: the recipe's. */
  clipNorm?: number;
  /** Linear warmup, epochs. Default: the recipe's. */
  warmupEpochs?: number;
  /** Linear warmup, steps (overrides `warmupEpochs`). */
  warmupSteps?: number;
  /** `plateau` (fall on a validation plateau) or `cosine` (anneal over the budget). Default: the recipe's. */
  schedule?: Schedule;
  /** Plateau schedule: the rate is multiplied by this on a plateau. Default: the recipe's. */
  decayFactor?: number;
  /** Plateau schedule: epochs without improvement before the rate falls. Default: the recipe's. */
  decayPatience?: number;
  /** The rate never falls below this fraction of the peak. Default: the recipe's. */
  minLearningRateFactor?: number;
  /** Input masking; defaults depend on the architecture (see `MASKING_DEFAULTS`). */
  masking?: Partial<MaskingOptions>;
  /** Seed of batch order, masks and dropout. Default 0. */
  seed?: number;
  /** Split trained on. Default "train". */
  trainSplit?: Split;
  /** Split for early stopping and best-weight choice, or null for none. Default "val". */
  valSplit?: Split | null;
  /** Validation metric to maximize (`coBps`) or minimize (`loss`). Default "coBps". */
  monitor?: "coBps" | "loss";
  /** Stop after this many epochs without improvement. Default: the recipe's. */
  patience?: number;
  /** Write `best/` and `last/` checkpoints under this directory. */
  checkpointDir?: string;
  /** Continue from `checkpointDir/last` when it exists. Default false. */
  resume?: boolean;
  /** Where progress goes. Default "auto" (a bar in a terminal, lines elsewhere). */
  progress?: ProgressMode;
  /** Called with every progress event (a live display in a notebook). */
  onProgress?: (event: ProgressEvent) => void;
  /** A name for the run in progress reports. */
  label?: string;
  /** Stop cleanly at the end of the current epoch when aborted. */
  signal?: AbortSignal;
  /** Extra loss terms (distillation). */
  objective?: Objective;
}

/** One epoch's record. */
export interface EpochRecord {
  /** Zero-based epoch. */
  epoch: number;
  /** Mean total training loss over the epoch's steps. */
  trainLoss: number;
  /** Mean of each logged term. */
  terms: Record<string, number>;
  /** Validation metrics (co-bps, fp-bps, loss per scored entry), or null without validation. */
  validation: Record<string, number> | null;
  /** Learning rate at the epoch's last step. */
  learningRate: number;
  /** Mean gradient norm before clipping. */
  gradNorm: number;
  /** Seconds the epoch took. */
  seconds: number;
  /** `tf.memory().numTensors` at the end of the epoch (constant when nothing leaks). */
  tensors: number;
}

/** How a run ended and what it learned. */
export interface FitResult {
  /**
   * `early-stopped` (validation stopped improving: converged), `completed` (the whole
   * budget was spent while validation may still improve), `diverged` (non-finite loss) or
   * `aborted`.
   */
  status: "completed" | "early-stopped" | "diverged" | "aborted";
  /** True when the run stopped because validation stopped improving. */
  converged: boolean;
  /** The recipe the run trained with (every default filled in). */
  recipe: TrainingRecipe;
  /** The same, in words. */
  message: string;
  /** Epochs finished (including those before a resume). */
  epochsRun: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Seconds of this run. */
  seconds: number;
  /** The monitored metric. */
  monitor: "coBps" | "loss";
  /** The best epoch (whose weights the model holds now), or null without validation. */
  best: { epoch: number; value: number; validation: Record<string, number> } | null;
  /** Every epoch's record. */
  history: EpochRecord[];
}

interface TrainerState {
  epochsDone: number;
  step: number;
  best: FitResult["best"];
  badEpochs: number;
  history: EpochRecord[];
  /** Plateau schedule: the rate's current fraction of the peak. */
  rateScale: number;
  /** Plateau schedule: epochs without improvement since the best or the last fall. */
  sinceDecay: number;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`fit: ${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/**
 * Validation metrics on the validation trials (`valData`, cut out once per fit): Poisson
 * NLL per entry over held-out neurons and forward bins (what the model always predicts),
 * co-bps and fp-bps.
 */
async function validate(
  model: SequenceModel,
  valData: NeuralDataset,
  split: Split,
): Promise<Record<string, number>> {
  const prediction = await predict(model, valData, split);
  let total = 0, entries = 0;
  for (
    const [rates, spikes] of [
      [prediction.heldout, valData.heldoutSpikes],
      [prediction.forwardHeldin, valData.forwardHeldinSpikes],
      [prediction.forwardHeldout, valData.forwardHeldoutSpikes],
    ] as const
  ) {
    if (rates.data.length === 0) continue;
    total += poissonNLL(rates, spikes);
    entries += rates.data.length;
  }
  const out: Record<string, number> = { loss: total / Math.max(1, entries) };
  if (valData.heldoutSpikes.shape[2] > 0) {
    out.coBps = coBps(prediction.heldout, valData.heldoutSpikes);
  }
  if (valData.forwardHeldinSpikes.shape[1] > 0) {
    out.fpBps = fpBps({
      heldinRates: prediction.forwardHeldin,
      heldoutRates: prediction.forwardHeldout,
      heldinSpikes: valData.forwardHeldinSpikes,
      heldoutSpikes: valData.forwardHeldoutSpikes,
    });
  }
  return out;
}

async function snapshot(
  weights: ReadonlyMap<string, tf.Variable>,
): Promise<Map<string, NamedTensor>> {
  const out = new Map<string, NamedTensor>();
  for (const [name, v] of weights) {
    out.set(name, { dtype: "F32", shape: [...v.shape], data: new Float32Array(await v.data()) });
  }
  return out;
}

/** Start the readout's bias at the log of each neuron's mean count, so training starts near the data. */
function initializeReadoutBias(
  model: SequenceModel,
  dataset: NeuralDataset,
  trials: number[],
): void {
  const bias = model.weights.get("readout.bias");
  if (!bias) return;
  const means: number[] = [];
  for (const spikes of [dataset.heldinSpikes, dataset.heldoutSpikes]) {
    const [, bins, channels] = spikes.shape;
    const sums = new Float64Array(channels);
    for (const i of trials) {
      const block = spikes.data.subarray(i * bins * channels, (i + 1) * bins * channels);
      for (let j = 0; j < block.length; j++) sums[j % channels] += block[j];
    }
    for (const s of sums) means.push(Math.log(Math.max(s / (trials.length * bins), 1e-3)));
  }
  tf.tidy(() => bias.assign(tf.tensor1d(means)));
}

/**
 * Train a model by masked modeling. The model ends holding the weights of its best
 * validation epoch (or of its last epoch without validation).
 *
 * @example
 * ```ts
 * import { createModel } from "../models/model.ts";
 * import { dataShape } from "./batch.ts";
 * import { fit } from "./trainer.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 200, heldinNeurons: 30, heldoutNeurons: 10, bins: 40, forwardBins: 10 });
 * const model = createModel({ kind: "ndt", ...dataShape(data), dModel: 32, layers: 2 });
 * const result = await fit(model, data, { epochs: 5, progress: "none" });
 * console.log(result.best);
 * ```
 */
export async function fit(
  model: SequenceModel,
  dataset: NeuralDataset,
  options: FitOptions = {},
): Promise<FitResult> {
  const config = model.config;
  checkModelFitsData(config, dataset);
  const recipe = recipeFor(config.kind, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    warmupEpochs: options.warmupEpochs,
    schedule: options.schedule,
    decayFactor: options.decayFactor,
    decayPatience: options.decayPatience,
    minLearningRateFactor: options.minLearningRateFactor,
    patience: options.patience,
    masking: options.masking,
  });
  const epochs = positiveInteger(recipe.epochs, "epochs");
  const batchSize = positiveInteger(recipe.batchSize, "batchSize");
  const patience = recipe.patience;
  const seed = options.seed ?? 0;
  const monitor = options.monitor ?? "coBps";
  const valSplit = options.valSplit === undefined ? "val" : options.valSplit;
  const masking = resolveMasking(config.kind, recipe.masking);
  const trainTrials = trialsInSplit(dataset, options.trainSplit ?? "train");
  if (trainTrials.length === 0) {
    throw new ArgumentError(`fit: the "${options.trainSplit ?? "train"}" split has no trials`);
  }
  // The validation trials, cut out once (validated after every epoch).
  const valData = valSplit === null
    ? null
    : subsetTrials(dataset, trialsInSplit(dataset, valSplit));
  if (valData && valData.split.length === 0) {
    throw new ArgumentError(
      `fit: the validation split "${valSplit}" has no trials; give valSplit: null to train without one`,
    );
  }
  if (monitor === "coBps" && dataset.heldoutSpikes.shape[2] === 0 && valSplit !== null) {
    throw new ArgumentError(
      `fit: monitor "coBps" needs held-out neurons; this dataset has none (use monitor: "loss")`,
    );
  }
  if (valSplit === "test") {
    console.warn('fit: validating on the test split makes its scores optimistic; prefer "val"');
  }
  const dropLast = trainTrials.length > batchSize;
  const stepsPerEpoch = dropLast ? Math.floor(trainTrials.length / batchSize) : 1;
  const totalSteps = epochs * stepsPerEpoch;
  const warmupSteps = options.warmupSteps ??
    Math.min(totalSteps, Math.ceil(recipe.warmupEpochs * stepsPerEpoch));
  const minFactor = recipe.minLearningRateFactor;
  const peak = recipe.learningRate;
  const rateAt = (step: number) =>
    recipe.schedule === "cosine" || step < warmupSteps
      ? learningRateAt(step, totalSteps, peak, warmupSteps, minFactor)
      : peak * state.rateScale;

  // Every trainable weight: the model's, then the objective's under "objective.".
  const trainable = new Map(model.weights);
  for (const [name, v] of options.objective?.variables ?? []) trainable.set(`objective.${name}`, v);
  const byRegistryName = new Map([...trainable].map(([name, v]) => [v.name, name]));
  const optimizer = new AdamW(trainable, {
    learningRate: peak,
    weightDecay: recipe.weightDecay,
    clipNorm: recipe.clipNorm,
  });

  const report = progressReporter(options.progress ?? "auto");
  const label = options.label ?? `${config.kind}${config.privilegedDim > 0 ? " teacher" : ""}`;
  let state: TrainerState = {
    epochsDone: 0,
    step: 0,
    best: null,
    badEpochs: 0,
    history: [],
    rateScale: 1,
    sinceDecay: 0,
  };
  let bestWeights: Map<string, NamedTensor> | null = null;
  const dir = options.checkpointDir;

  try {
    if (options.resume && dir && await exists(`${dir}/last/config.json`)) {
      const last = await readCheckpoint(`${dir}/last`);
      assignWeights(model, last.weights, `${dir}/last`);
      if (!last.optimizer) {
        throw new ArgumentError(`cannot resume: ${dir}/last has no optimizer state`);
      }
      const objectiveWeights = new Map(
        [...last.optimizer].filter(([k]) => k.startsWith("weight.")).map((
          [k, v],
        ) => [k.slice(7), v]),
      );
      for (const [name, v] of trainable) {
        if (!name.startsWith("objective.")) continue;
        const saved = objectiveWeights.get(name);
        if (saved) tf.tidy(() => v.assign(tf.tensor(saved.data as Float32Array, saved.shape)));
      }
      optimizer.loadState(
        new Map([...last.optimizer].filter(([k]) => !k.startsWith("weight."))),
        `${dir}/last`,
      );
      // Checkpoints from before the plateau schedule lack its two fields.
      state = {
        rateScale: 1,
        sinceDecay: 0,
        ...(last.state as Partial<TrainerState>),
      } as TrainerState;
      if (state.best && await exists(`${dir}/best/config.json`)) {
        bestWeights = (await readCheckpoint(`${dir}/best`)).weights;
      }
    } else {
      initializeReadoutBias(model, dataset, trainTrials);
    }

    const start = performance.now();
    let status: FitResult["status"] = "completed";
    let message = "";
    const stepsAtStart = state.step;
    for (let epoch = state.epochsDone; epoch < epochs; epoch++) {
      const epochStart = performance.now();
      const batches = minibatches(trainTrials, batchSize, deriveSeed(seed, `batches${epoch}`), {
        dropLast,
      });
      const sums: Record<string, number> = {};
      let lossSum = 0, normSum = 0, lr = 0;
      for (let k = 0; k < batches.length; k++) {
        lr = rateAt(state.step);
        const result = await trainStep(model, dataset, batches[k], {
          masking,
          seed: deriveSeed(seed, `step${state.step}`),
          epoch,
          step: state.step,
          objective: options.objective,
          trainable,
          byRegistryName,
          optimizer,
          lr,
        });
        if (!Number.isFinite(result.loss)) {
          status = "diverged";
          const terms = Object.entries(result.terms).map(([n, v]) => `${n} ${v}`).join(", ");
          message =
            `training stopped: the loss became ${result.loss} at epoch ${epoch + 1}, step ${
              state.step + 1
            } (${terms}); ` + (state.best
              ? `the model holds the best weights (epoch ${state.best.epoch + 1})`
              : "no epoch finished, so the weights are those before this step") +
            `. Try a lower learning rate (now ${peak}) or a smaller clipNorm.`;
          break;
        }
        state.step++;
        lossSum += result.loss;
        normSum += result.gradNorm;
        for (const [name, value] of Object.entries(result.terms)) {
          sums[name] = (sums[name] ?? 0) + value;
        }
        const elapsed = (performance.now() - start) / 1000;
        const done = state.step - stepsAtStart;
        emit(
          "step",
          epoch,
          k + 1,
          lossSum / (k + 1),
          mapValues(sums, (v) => v / (k + 1)),
          elapsed,
          (elapsed / done) * (totalSteps - state.step),
        );
      }
      if (status === "diverged") break;

      const validation = valData === null ? null : await validate(model, valData, valSplit!);
      const record: EpochRecord = {
        epoch,
        trainLoss: lossSum / batches.length,
        terms: mapValues(sums, (v) => v / batches.length),
        validation,
        learningRate: lr,
        gradNorm: normSum / batches.length,
        seconds: (performance.now() - epochStart) / 1000,
        tensors: tf.memory().numTensors,
      };
      state.history.push(record);
      state.epochsDone = epoch + 1;
      if (validation) {
        const value = validation[monitor];
        const better = state.best === null ||
          (monitor === "coBps" ? value > state.best.value : value < state.best.value);
        if (better) {
          state.best = { epoch, value, validation };
          state.badEpochs = 0;
          state.sinceDecay = 0;
          bestWeights = await snapshot(model.weights);
          if (dir) await saveCheckpoint(`${dir}/best`, model, { metrics: { epoch, validation } });
        } else {
          state.badEpochs++;
          state.sinceDecay++;
          if (recipe.schedule === "plateau" && state.sinceDecay >= recipe.decayPatience) {
            state.rateScale = Math.max(minFactor, state.rateScale * recipe.decayFactor);
            state.sinceDecay = 0;
          }
        }
      }
      if (dir) {
        const saved = await optimizer.state();
        for (const [name, v] of trainable) {
          if (name.startsWith("objective.")) {
            saved.set(`weight.${name}`, {
              dtype: "F32",
              shape: [...v.shape],
              data: new Float32Array(await v.data()),
            });
          }
        }
        await saveCheckpoint(`${dir}/last`, model, { metrics: record, optimizer: saved, state });
      }
      const elapsed = (performance.now() - start) / 1000;
      const done = state.step - stepsAtStart;
      emit(
        "epoch",
        epoch,
        batches.length,
        record.trainLoss,
        record.terms,
        elapsed,
        (elapsed / done) * (totalSteps - state.step),
      );
      if (validation && state.badEpochs >= patience && epoch + 1 < epochs) {
        status = "early-stopped";
        message = `stopped early: ${monitor} did not improve for ${patience} epochs (best ${
          state.best!.value.toFixed(4)
        } at epoch ${state.best!.epoch + 1})`;
        break;
      }
      if (options.signal?.aborted && epoch + 1 < epochs) {
        status = "aborted";
        message = `aborted after epoch ${epoch + 1} of ${epochs}` +
          (dir ? `; resume from ${dir}/last with resume: true` : "");
        break;
      }
    }
    if (bestWeights) assignWeights(model, bestWeights, "the best epoch's weights");
    if (status === "completed") {
      message = `completed all ${epochs} epochs of the budget (validation may still improve)` +
        (state.best
          ? `; best ${state.best.validation ? monitor : ""} ${
            state.best.value.toFixed(4)
          } at epoch ${state.best.epoch + 1}`
          : "");
    }
    const seconds = (performance.now() - start) / 1000;
    const lastRecord = state.history.at(-1);
    emit(
      "end",
      Math.max(0, state.epochsDone - 1),
      stepsPerEpoch,
      lastRecord?.trainLoss ?? NaN,
      lastRecord?.terms ?? {},
      seconds,
      0,
      message,
    );
    if (status === "diverged") console.warn(`${label}: ${message}`);
    return {
      status,
      converged: status === "early-stopped",
      recipe,
      message,
      epochsRun: state.epochsDone,
      steps: state.step,
      seconds,
      monitor,
      best: state.best,
      history: state.history,
    };
  } finally {
    optimizer.dispose();
  }

  function emit(
    kind: ProgressEvent["kind"],
    epoch: number,
    stepInEpoch: number,
    trainLoss: number,
    terms: Record<string, number>,
    elapsedSeconds: number,
    remainingSeconds: number,
    message?: string,
  ): void {
    const event: ProgressEvent = {
      kind,
      label,
      epoch,
      epochs,
      stepInEpoch,
      stepsPerEpoch,
      trainLoss,
      terms,
      validation: state.history.at(-1)?.validation ?? null,
      best: state.best ? { value: state.best.value, epoch: state.best.epoch } : null,
      elapsedSeconds,
      remainingSeconds,
      message,
    };
    report(event);
    options.onProgress?.(event);
  }
}

function mapValues(
  record: Record<string, number>,
  f: (v: number) => number,
): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

interface StepContext {
  masking: MaskingOptions;
  seed: number;
  epoch: number;
  step: number;
  objective?: Objective;
  trainable: ReadonlyMap<string, tf.Variable>;
  byRegistryName: ReadonlyMap<string, string>;
  optimizer: AdamW;
  lr: number;
}

/** One optimizer step; returns the loss and its terms (the update is skipped when non-finite). */
async function trainStep(
  model: SequenceModel,
  dataset: NeuralDataset,
  trials: number[],
  ctx: StepContext,
): Promise<{ loss: number; terms: Record<string, number>; gradNorm: number }> {
  const config = model.config;
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins, privilegedDim } = config;
  const batch = gatherBatch(dataset, trials, config);
  const size = trials.length;
  const masked = maskSpikes(
    batch.heldin,
    [size, bins, nIn],
    ctx.masking,
    new Random(deriveSeed(ctx.seed, "mask")),
  );
  const weights = lossWeights(masked.scored, config, size);
  let termNames: string[] = [];
  let termValues: tf.Tensor1D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const inputs: ModelInputs = {
      heldin: tf.tensor3d(masked.input, [size, bins, nIn]),
      privileged: batch.privileged
        ? tf.tensor3d(batch.privileged, [size, bins, privilegedDim])
        : undefined,
    };
    const targets = tf.tensor3d(batch.targets, [size, bins + forwardBins, nIn + nOut]);
    const weightTensor = tf.tensor3d(weights, [size, bins + forwardBins, nIn + nOut]);
    const outputs = model.forward(inputs, { training: true, seed: ctx.seed });
    const poisson = maskedPoissonLoss(outputs.logRates, targets, weightTensor);
    const regularizers = model.regularizers(outputs, { epoch: ctx.epoch, step: ctx.step });
    const base = tf.addN([poisson, ...Object.values(regularizers)]) as tf.Scalar;
    let total = base;
    let terms: Record<string, tf.Scalar> = { poisson, ...regularizers };
    if (ctx.objective) {
      const extra = ctx.objective.loss({
        model,
        outputs,
        inputs,
        targets,
        weights: weightTensor,
        batch,
        epoch: ctx.epoch,
        step: ctx.step,
      }, base);
      total = extra.total;
      terms = { ...terms, ...extra.terms };
    }
    termNames = Object.keys(terms);
    termValues = tf.keep(tf.stack(Object.values(terms)) as tf.Tensor1D);
    return total;
  }, [...ctx.trainable.values()]);
  try {
    const loss = (await value.data())[0];
    const termArray = await termValues!.data();
    const terms = Object.fromEntries(termNames.map((n, k) => [n, termArray[k]]));
    if (!Number.isFinite(loss)) return { loss, terms, gradNorm: NaN };
    const named = new Map<string, tf.Tensor>();
    for (const [registryName, g] of Object.entries(grads)) {
      named.set(ctx.byRegistryName.get(registryName)!, g);
    }
    const norm = ctx.optimizer.apply(named, ctx.lr);
    const gradNorm = (await norm.data())[0];
    norm.dispose();
    return { loss, terms, gradNorm };
  } finally {
    value.dispose();
    termValues!.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
}
