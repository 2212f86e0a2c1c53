/**
 * `runBlendExperiment`: for every data seed, model and model seed, train the teacher
 * (spikes + behavior), the baseline (the same model and recipe, spikes only) and one
 * student per strategy, plus the two controls that could explain a student's gain away:
 *
 * - **self-distillation**: students distilled by each strategy from a teacher of the same
 *   model and recipe trained on spikes only (the baseline itself), so the behavior-specific
 *   effect is *behavior-distilled minus self-distilled*;
 * - **multi-task**: the base model with behavior as an extra training target through a
 *   linear head (behavior never enters its input).
 *
 * Every arm trains with the same recipe (budget, early stopping on val co-bps, plateau
 * schedule), so compute is equal and each run stops when it has converged; runs that spent
 * the whole budget are counted. Each run is scored on the test split with every NLB metric
 * and, on synthetic data, by how well it recovers the true rates and latents. Summaries are
 * mean +- sd over every (data seed, model seed) pair, with paired differences, a sign test
 * and a Wilcoxon signed-rank test. Model selection uses the val split only. Baseline,
 * students and controls of a seed share initial weights, batch order and masks.
 * @module
 */

import type { NeuralDataset } from "../data/dataset.ts";
import { summarizeDataset, trialsInSplit } from "../data/dataset.ts";
import { ArgumentError, describe } from "../errors.ts";
import { attachDisplay, htmlTable } from "../html.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io.ts";
import { signTest, summarize, wilcoxonSignedRank } from "../math.ts";
import {
  evaluateNLB,
  type EvaluateNLBOptions,
  type NLBRecord,
  truthRates,
} from "../metrics/nlb.ts";
import { truthRecovery } from "../metrics/truth.ts";
import { fitSmoothingBaseline, type PenaltySelection } from "../models/smoothing.ts";
import type { SequenceModel } from "../models/model.ts";
import { behaviorTargetObjective } from "../train/multitask.ts";
import { predict } from "../train/predict.ts";
import { fit, type FitOptions, type FitResult } from "../train/trainer.ts";
import {
  buildModel,
  distillStudent,
  type FeatureLayer,
  type ModelSpec,
  type TeacherTargets,
  teacherTargets,
  trainTeacher,
} from "./blend.ts";
import { STRATEGIES, type StrategyName } from "./strategies.ts";
import type { Role } from "../plot/comparison.ts";

/** The NLB metrics an experiment reports, in order. */
export const BLEND_METRICS = ["coBps", "velR2", "psthR2", "fpBps"] as const;
/** Ground-truth recovery metrics, reported on synthetic data (test split). */
export const TRUTH_METRICS = ["heldinR2", "heldoutR2", "latentR2"] as const;
/** Every metric a run can carry. */
export const RUN_METRICS = [...BLEND_METRICS, ...TRUTH_METRICS] as const;
/** One of `RUN_METRICS`. */
export type BlendMetric = typeof RUN_METRICS[number];

export type { Role } from "../plot/comparison.ts";

/** Which controls an experiment runs beside the behavior-distilled students. */
export interface ControlOptions {
  /** Students distilled from a spikes-only teacher (the baseline), one per strategy. Default true. */
  selfDistillation?: boolean;
  /** The multi-task arm (behavior as a training target). Default true. */
  multitask?: boolean;
  /** Weight of the multi-task arm's behavior MSE (see `behaviorTargetObjective`). Default 0.1. */
  multitaskWeight?: number;
}

/** Options of `runBlendExperiment`. */
export interface BlendExperimentOptions {
  /**
   * The data (train, val and test splits; behavior for the teacher), or a function that
   * draws a dataset for a data seed (then `dataSeeds` draws several).
   */
  dataset: NeuralDataset | ((dataSeed: number) => NeuralDataset);
  /** Data seeds, a count or a list, when `dataset` is a function. Default 1 (seed 0). */
  dataSeeds?: number | number[];
  /** Models to wrap. Default `["ndt"]`. */
  models?: ModelSpec[];
  /** Strategies to distill with. Default: every one. */
  strategies?: StrategyName[];
  /** Model seeds: a count (seeds 0..n-1) or a list. Default 3. */
  seeds?: number | number[];
  /** Weight of the base loss in students; a list sweeps it (one arm per value). Default 0.5. */
  alpha?: number | number[];
  /** Temperature of `soft`; a list sweeps it (soft arms only). Default 2. */
  temperature?: number | number[];
  /** Weight of the feature / correlation term added to `hard`. Default 1. */
  auxiliaryWeight?: number;
  /** Layer the `feature` strategy matches. Default "latents". */
  featureLayer?: FeatureLayer;
  /** The teacher's privileged signal. Default "behavior". */
  privileged?: "behavior" | "condition";
  /** The controls. Default: both. */
  controls?: ControlOptions;
  /**
   * Training settings shared by every run (the seed and label are set per run); anything
   * left out comes from the model's recipe (`RECIPES`).
   */
  fit?: Omit<FitOptions, "seed" | "objective" | "checkpointDir" | "resume" | "label">;
  /** Scoring settings (the eval split defaults to "test"). */
  evaluate?: EvaluateNLBOptions;
  /** Write `results.json` and `results.csv` here, after every run. */
  outDir?: string;
  /** Called after every run (to print or plot as results arrive). */
  onRun?: (run: RunRecord) => void;
  /** Called once per data seed with the references (smoothing floor, true-rate ceiling). */
  onReferences?: (references: DataReferences) => void;
}

/** One trained and scored model. */
export interface RunRecord {
  /** Model name. */
  model: string;
  /** Arm name: `teacher`, `baseline`, a strategy, `self <strategy>` or `multitask`. */
  arm: string;
  /** The student's strategy (null for arms that are not distilled). */
  strategy: StrategyName | null;
  /** The student's alpha (null for arms that are not distilled). */
  alpha: number | null;
  /** The student's temperature (soft students only, else null). */
  temperature: number | null;
  /** The arm's role. */
  role: Role;
  /** The seed of its weights, batches, masks and dropout. */
  seed: number;
  /** The seed of the data it trained and was scored on. */
  dataSeed: number;
  /** Test-split scores (null where the data has no such metric). */
  scores: Record<BlendMetric, number | null>;
  /** How training went. */
  fit: {
    status: FitResult["status"];
    converged: boolean;
    epochsRun: number;
    bestEpoch: number | null;
    bestValidation: Record<string, number> | null;
    seconds: number;
  };
  /** Per-epoch training loss, logged terms and validation metrics. */
  curves: {
    epoch: number;
    trainLoss: number;
    terms: Record<string, number>;
    validation: Record<string, number> | null;
  }[];
}

/** What every arm of one data seed is read against. */
export interface DataReferences {
  /** The data seed. */
  dataSeed: number;
  /** The dataset's name. */
  dataset: string;
  /** The NLB smoothing baseline's test scores (the floor a network should beat). */
  smoothing: Record<BlendMetric, number | null>;
  /** The true rates' test scores (synthetic data only: the ceiling). */
  trueRates: Record<BlendMetric, number | null> | null;
  /** The smoothing baseline's GLM penalty and how it was chosen. */
  smoothingSelection: PenaltySelection;
}

/** A paired comparison over (data seed, model seed) pairs. */
export interface PairedDifference {
  /** Mean of the differences. */
  meanDiff: number;
  /** Sample s.d. of the differences. */
  sdDiff: number;
  /** Pairs where the arm is better. */
  wins: number;
  /** Pairs where the arm is worse. */
  losses: number;
  /** Pairs where they are equal. */
  ties: number;
  /** Two-sided sign test. */
  pSign: number;
  /** Two-sided Wilcoxon signed-rank test. */
  pWilcoxon: number;
}

/** One arm's metric over seeds, and its paired difference to the baseline. */
export interface ArmSummary {
  /** Model name. */
  model: string;
  /** Arm name. */
  arm: string;
  /** Its role. */
  role: Role;
  /** The metric. */
  metric: BlendMetric;
  /** Runs scored (data seeds x model seeds). */
  n: number;
  /** Mean over runs. */
  mean: number;
  /** Sample s.d. over runs (n - 1). */
  sd: number;
  /** Each run's value, in run order. */
  values: number[];
  /** Runs that stopped because validation stopped improving (the rest spent the budget). */
  converged: number;
  /** Arm minus baseline, pair by pair. Null for the baseline and the references. */
  vsBaseline: PairedDifference | null;
}

/**
 * The behavior-specific effect of one strategy on one metric: the behavior-distilled
 * student minus the self-distilled student of the same strategy, pair by pair.
 */
export interface BehaviorEffect extends PairedDifference {
  /** Model name. */
  model: string;
  /** The strategy arm (`hard`, `soft α=0.3`, ...). */
  arm: string;
  /** The metric. */
  metric: BlendMetric;
  /** Pairs compared. */
  n: number;
}

/** What `runBlendExperiment` returns (plain JSON, plus an HTML view in Jupyter). */
export interface BlendResults {
  /** Every setting that produced the numbers. */
  settings: {
    dataset: ReturnType<typeof summarizeDataset>;
    dataSeeds: number[];
    models: ModelSpec[];
    modelNames: string[];
    strategies: StrategyName[];
    seeds: number[];
    alpha: number[];
    temperature: number[];
    auxiliaryWeight: number;
    featureLayer: FeatureLayer;
    privileged: "behavior" | "condition";
    controls: Required<ControlOptions>;
    fit: BlendExperimentOptions["fit"];
    /** The recipe each model trained with (defaults filled in), by model name. */
    recipes: Record<string, FitResult["recipe"]>;
    evalSplit: string;
    selection: string;
    /** Workers the runs were shared among (`runBlendExperimentInWorkers`); 1 when in process. */
    workers?: number;
  };
  /** The smoothing floor and true-rate ceiling of each data seed. */
  references: DataReferences[];
  /** Every run. */
  runs: RunRecord[];
  /** Per model, arm and metric: mean +- sd over runs and the paired difference. */
  summary: ArmSummary[];
  /** Behavior-distilled minus self-distilled, per model, strategy arm and metric. */
  behaviorEffect: BehaviorEffect[];
  /** Seconds the whole experiment took. */
  seconds: number;
}

function seedList(seeds: number | number[] | undefined, name: string, fallback: number): number[] {
  const list = typeof seeds === "number" || seeds === undefined
    ? Array.from({ length: seeds ?? fallback }, (_, i) => i)
    : seeds;
  if (list.length === 0 || list.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new ArgumentError(
      `${name} must be a positive count or a list of integers >= 0, got ${describe(seeds)}`,
    );
  }
  return list;
}

function numberList(
  value: number | number[] | undefined,
  fallback: number,
  name: string,
  valid: (v: number) => boolean,
): number[] {
  const list = value === undefined ? [fallback] : typeof value === "number" ? [value] : value;
  if (list.length === 0 || list.some((v) => typeof v !== "number" || !valid(v))) {
    throw new ArgumentError(
      `${name} must be ${name === "alpha" ? "in [0, 1]" : "positive"} (a number or a list), got ${
        describe(value)
      }${Array.isArray(value) ? ` [${value.join(", ")}]` : ""}`,
    );
  }
  return list;
}

function modelNames(models: ModelSpec[]): string[] {
  const counts = new Map<string, number>();
  return models.map((spec) => {
    const kind = typeof spec === "string" ? spec : spec.kind;
    const k = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, k);
    return k === 1 ? kind : `${kind}#${k}`;
  });
}

function pickScores(record: NLBRecord): Record<BlendMetric, number | null> {
  return {
    coBps: record.coBps,
    velR2: record.velR2,
    psthR2: record.psthR2,
    fpBps: record.fpBps,
    heldinR2: null,
    heldoutR2: null,
    latentR2: null,
  };
}

/**
 * The smoothing floor and, on synthetic data, the true-rate ceiling of a dataset's test
 * split, scored as every arm is. The smoothing baseline selects its penalty on val.
 */
export function dataReferences(
  dataset: NeuralDataset,
  dataSeed = 0,
  evaluate: EvaluateNLBOptions = {},
): DataReferences {
  const evalSplit = evaluate.evalSplit ?? "test", trainSplit = evaluate.trainSplit ?? "train";
  const floor = fitSmoothingBaseline(dataset);
  const floorRates = {
    train: floor.predict(dataset, trainSplit),
    eval: floor.predict(dataset, evalSplit),
  };
  const smoothing = pickScores(evaluateNLB(dataset, floorRates, evaluate));
  let trueRates: DataReferences["trueRates"] = null;
  if (dataset.truth) {
    const truth = { train: truthRates(dataset, trainSplit), eval: truthRates(dataset, evalSplit) };
    trueRates = pickScores(evaluateNLB(dataset, truth, evaluate));
    // Rate recovery only (neither reference has latents), scored as every arm is.
    for (
      const [scores, rates] of [[smoothing, floorRates.eval], [trueRates, truth.eval]] as const
    ) {
      const recovery = truthRecovery(dataset, { eval: rates }, { evalSplit, trainSplit });
      scores.heldinR2 = recovery.heldinR2;
      scores.heldoutR2 = recovery.heldoutR2;
    }
  }
  return {
    dataSeed,
    dataset: dataset.name,
    smoothing,
    trueRates,
    smoothingSelection: floor.selection,
  };
}

/**
 * Run BLEND end to end, with its controls, and summarize it. Each run is early stopped on
 * the val split; the test split is only scored. Results are written after every run when
 * `outDir` is given, so a killed experiment keeps what it finished.
 *
 * @example
 * ```ts
 * import { formatResultsTable, runBlendExperiment } from "./experiment.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const results = await runBlendExperiment({
 *   dataset: (seed) => reachDataset({ trials: 300, heldinNeurons: 40, heldoutNeurons: 15, bins: 35, forwardBins: 5, binMs: 20, moveOnsetBin: 12, behaviorExpression: 0.25, seed }),
 *   dataSeeds: 2,
 *   models: [{ kind: "ndt", dModel: 32, layers: 2 }],
 *   strategies: ["hard", "soft"],
 *   seeds: 3,
 *   outDir: "out/blend",
 * });
 * console.log(formatResultsTable(results));
 * ```
 */
export async function runBlendExperiment(options: BlendExperimentOptions): Promise<BlendResults> {
  const start = performance.now();
  const models = options.models ?? ["ndt"];
  if (models.length === 0) throw new ArgumentError("models must name at least one model");
  const strategies = options.strategies ?? [...STRATEGIES];
  for (const s of strategies) {
    if (!STRATEGIES.includes(s)) {
      throw new ArgumentError(`strategies: ${describe(s)} is not one of ${STRATEGIES.join(", ")}`);
    }
  }
  const seeds = seedList(options.seeds, "seeds", 3);
  const dataSeeds = seedList(options.dataSeeds, "dataSeeds", 1);
  if (typeof options.dataset !== "function" && options.dataSeeds !== undefined) {
    throw new ArgumentError(
      "dataSeeds needs dataset to be a function of the data seed (one fixed dataset has one draw)",
    );
  }
  const draw = typeof options.dataset === "function"
    ? options.dataset
    : ((fixed: NeuralDataset) => () => fixed)(options.dataset);
  const alphas = numberList(options.alpha, 0.5, "alpha", (a) => a >= 0 && a <= 1);
  const temperatures = numberList(options.temperature, 2, "temperature", (t) => t > 0);
  const controls: Required<ControlOptions> = {
    selfDistillation: options.controls?.selfDistillation ?? true,
    multitask: options.controls?.multitask ?? true,
    multitaskWeight: options.controls?.multitaskWeight ?? 0.1,
  };
  // One student arm per strategy, alpha and (for soft) temperature.
  const variants = strategies.flatMap((strategy) =>
    alphas.flatMap((alpha) =>
      (strategy === "soft" ? temperatures : [temperatures[0]]).map((temperature) => ({
        strategy,
        alpha,
        temperature,
        arm: strategy + (alphas.length > 1 ? ` α=${alpha}` : "") +
          (strategy === "soft" && temperatures.length > 1 ? ` T=${temperature}` : ""),
      }))
    )
  );
  const auxiliaryWeight = options.auxiliaryWeight ?? 1;
  const featureLayer = options.featureLayer ?? "latents";
  const privileged = options.privileged ?? "behavior";
  const names = modelNames(models);
  const evalSplit = options.evaluate?.evalSplit ?? "test";
  const trainSplit = options.evaluate?.trainSplit ?? "train";
  const runs: RunRecord[] = [];
  const references: DataReferences[] = [];
  const recipes: Record<string, FitResult["recipe"]> = {};
  let firstDataset: NeuralDataset | null = null;

  const settings = (): BlendResults["settings"] => ({
    dataset: summarizeDataset(firstDataset!),
    dataSeeds,
    models,
    modelNames: names,
    strategies,
    seeds,
    alpha: alphas,
    temperature: temperatures,
    auxiliaryWeight,
    featureLayer,
    privileged,
    controls,
    fit: options.fit,
    recipes,
    evalSplit,
    selection: "early stopping and best weights on the val split's co-bps",
  });
  const snapshot = (): BlendResults =>
    assembleResults(settings(), references, runs, (performance.now() - start) / 1000);

  for (const dataSeed of dataSeeds) {
    const dataset = draw(dataSeed);
    firstDataset ??= dataset;
    const trainTrials = trialsInSplit(dataset, options.fit?.trainSplit ?? "train");
    const refs = dataReferences(dataset, dataSeed, options.evaluate);
    references.push(refs);
    options.onReferences?.(refs);

    const score = async (model: SequenceModel) => {
      const train = await predict(model, dataset, trainSplit, { latents: !!dataset.truth });
      const evaluated = await predict(model, dataset, evalSplit, { latents: !!dataset.truth });
      const scores = pickScores(evaluateNLB(dataset, { train, eval: evaluated }, options.evaluate));
      if (dataset.truth) {
        const recovery = truthRecovery(dataset, { train, eval: evaluated }, {
          evalSplit,
          trainSplit,
        });
        scores.heldinR2 = recovery.heldinR2;
        scores.heldoutR2 = recovery.heldoutR2;
        scores.latentR2 = recovery.latentR2;
      }
      return scores;
    };
    const record = async (
      model: SequenceModel,
      result: FitResult,
      m: number,
      arm: Pick<RunRecord, "arm" | "role" | "strategy" | "alpha" | "temperature">,
      seed: number,
    ) => {
      recipes[names[m]] ??= result.recipe;
      const run: RunRecord = {
        model: names[m],
        ...arm,
        seed,
        dataSeed,
        scores: await score(model),
        fit: {
          status: result.status,
          converged: result.converged,
          epochsRun: result.epochsRun,
          bestEpoch: result.best?.epoch ?? null,
          bestValidation: result.best?.validation ?? null,
          seconds: result.seconds,
        },
        curves: result.history.map((h) => ({
          epoch: h.epoch,
          trainLoss: h.trainLoss,
          terms: h.terms,
          validation: h.validation,
        })),
      };
      runs.push(run);
      options.onRun?.(run);
      if (options.outDir) await writeResults(snapshot(), options.outDir);
    };
    const plain = { strategy: null, alpha: null, temperature: null };
    // The students of one teacher: one per strategy variant.
    const distillFrom = async (
      teacher: SequenceModel,
      spec: ModelSpec,
      m: number,
      seed: number,
      fitOptions: FitOptions,
      self: boolean,
    ) => {
      const targets: TeacherTargets = await teacherTargets(teacher, dataset, trainTrials, {
        featureLayer: strategies.includes("feature") ? featureLayer : null,
      });
      for (const v of variants) {
        const arm = self ? `self ${v.arm}` : v.arm;
        const { student, fit: result } = await distillStudent(dataset, spec, teacher, {
          strategy: v.strategy,
          alpha: v.alpha,
          temperature: v.temperature,
          auxiliaryWeight,
          featureLayer,
          fit: { ...fitOptions, label: `${names[m]} ${arm}, data ${dataSeed} seed ${seed}` },
        }, targets);
        try {
          await record(student, result, m, {
            arm,
            role: self ? "self-student" : "student",
            strategy: v.strategy,
            alpha: v.alpha,
            temperature: v.strategy === "soft" ? v.temperature : null,
          }, seed);
        } finally {
          student.dispose();
        }
      }
    };

    for (let m = 0; m < models.length; m++) {
      const spec = models[m];
      for (const seed of seeds) {
        const fitOptions: FitOptions = { ...options.fit, seed };
        const tag = `data ${dataSeed} seed ${seed}`;
        const { teacher, fit: teacherFit } = await trainTeacher(dataset, spec, {
          ...fitOptions,
          label: `${names[m]} teacher, ${tag}`,
        }, privileged);
        try {
          await record(teacher, teacherFit, m, { arm: "teacher", role: "teacher", ...plain }, seed);
          await distillFrom(teacher, spec, m, seed, fitOptions, false);
        } finally {
          teacher.dispose();
        }
        // The baseline, which is also the self-distillation teacher: the same model and
        // recipe, spikes only.
        const baseline = buildModel(spec, dataset, seed);
        try {
          const result = await fit(baseline, dataset, {
            ...fitOptions,
            label: `${names[m]} baseline, ${tag}`,
          });
          await record(baseline, result, m, { arm: "baseline", role: "baseline", ...plain }, seed);
          if (controls.selfDistillation) {
            await distillFrom(baseline, spec, m, seed, fitOptions, true);
          }
        } finally {
          baseline.dispose();
        }
        if (controls.multitask) {
          const model = buildModel(spec, dataset, seed);
          const objective = behaviorTargetObjective(model, dataset, {
            weight: controls.multitaskWeight,
            seed,
          });
          try {
            const result = await fit(model, dataset, {
              ...fitOptions,
              label: `${names[m]} multitask, ${tag}`,
              objective,
            });
            await record(model, result, m, { arm: "multitask", role: "multitask", ...plain }, seed);
          } finally {
            objective.dispose();
            model.dispose();
          }
        }
      }
    }
  }

  const results = snapshot();
  if (options.outDir) await writeResults(results, options.outDir);
  return withDisplay(results);
}

/** A results record from its settings, references and runs (summaries computed here). */
export function assembleResults(
  settings: BlendResults["settings"],
  references: DataReferences[],
  runs: RunRecord[],
  seconds: number,
): BlendResults {
  return {
    settings,
    references,
    runs,
    summary: summarizeRuns(runs),
    behaviorEffect: behaviorEffects(runs),
    seconds,
  };
}

function pairKey(run: Pick<RunRecord, "dataSeed" | "seed">): string {
  return `${run.dataSeed ?? 0}:${run.seed}`;
}

/** Paired differences `arm - reference` over the pairs both have, with their tests. */
export function pairedDifference(diffs: readonly number[]): PairedDifference {
  const wins = diffs.filter((d) => d > 0).length;
  const losses = diffs.filter((d) => d < 0).length;
  const d = summarize(diffs);
  return {
    meanDiff: d.mean,
    sdDiff: d.sd,
    wins,
    losses,
    ties: diffs.length - wins - losses,
    pSign: signTest(wins, losses),
    pWilcoxon: wilcoxonSignedRank(diffs).p,
  };
}

function differences(
  mine: readonly RunRecord[],
  reference: ReadonlyMap<string, RunRecord>,
  metric: BlendMetric,
): number[] {
  return mine.flatMap((r) => {
    const a = r.scores[metric];
    const b = reference.get(pairKey(r))?.scores[metric];
    return a === null || a === undefined || b === undefined || b === null ? [] : [a - b];
  });
}

/**
 * Mean +- sd over runs per model, arm and metric, with the paired difference to the
 * baseline of the same data seed and model seed.
 */
export function summarizeRuns(runs: readonly RunRecord[]): ArmSummary[] {
  const out: ArmSummary[] = [];
  const keys = [...new Map(runs.map((r) => [`${r.model}\u0000${r.arm}`, r])).values()];
  for (const { model, arm, role } of keys) {
    const mine = runs.filter((r) => r.model === model && r.arm === arm);
    const baseline = new Map(
      runs.filter((r) => r.model === model && r.role === "baseline").map((r) => [pairKey(r), r]),
    );
    for (const metric of RUN_METRICS) {
      const scored = mine.filter((r) =>
        r.scores[metric] !== null && r.scores[metric] !== undefined
      );
      if (scored.length === 0) continue;
      const values = scored.map((r) => r.scores[metric]!);
      const { mean, sd, n } = summarize(values);
      let vsBaseline: ArmSummary["vsBaseline"] = null;
      if (role !== "baseline") {
        const diffs = differences(scored, baseline, metric);
        if (diffs.length > 0) vsBaseline = pairedDifference(diffs);
      }
      const converged = scored.filter((r) => r.fit.converged ?? r.fit.status === "early-stopped")
        .length;
      out.push({ model, arm, role, metric, n, mean, sd, values, converged, vsBaseline });
    }
  }
  return out;
}

/** Behavior-distilled minus self-distilled students, per model, strategy arm and metric. */
export function behaviorEffects(runs: readonly RunRecord[]): BehaviorEffect[] {
  const out: BehaviorEffect[] = [];
  const students = [
    ...new Map(
      runs.filter((r) => r.role === "student").map((r) => [`${r.model}\u0000${r.arm}`, r]),
    ).values(),
  ];
  for (const { model, arm } of students) {
    const self = new Map(
      runs.filter((r) => r.model === model && r.role === "self-student" && r.arm === `self ${arm}`)
        .map((r) => [pairKey(r), r]),
    );
    if (self.size === 0) continue;
    const mine = runs.filter((r) => r.model === model && r.arm === arm);
    for (const metric of RUN_METRICS) {
      const diffs = differences(mine, self, metric);
      if (diffs.length === 0) continue;
      out.push({ model, arm, metric, n: diffs.length, ...pairedDifference(diffs) });
    }
  }
  return out;
}

const METRIC_LABELS: Record<BlendMetric, string> = {
  coBps: "co-bps",
  velR2: "vel R2",
  psthR2: "psth R2",
  fpBps: "fp-bps",
  heldinR2: "held-in rates R2",
  heldoutR2: "held-out rates R2",
  latentR2: "latent R2",
};

/** The metrics present in a results record, in `RUN_METRICS` order. */
function metricsPresent(results: BlendResults): BlendMetric[] {
  return RUN_METRICS.filter((m) => results.summary.some((s) => s.metric === m));
}

function cellText(s: ArmSummary | undefined): string {
  return s ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : "-";
}

function diffText(s: ArmSummary | undefined): string {
  const v = s?.vsBaseline;
  if (!v) return "";
  const sign = v.meanDiff >= 0 ? "+" : "";
  return `${sign}${v.meanDiff.toFixed(3)} (${v.wins}/${v.wins + v.losses + v.ties})`;
}

function referenceText(values: (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return "-";
  const { mean, sd, n } = summarize(present);
  return n > 1 ? `${mean.toFixed(3)} ± ${sd.toFixed(3)}` : mean.toFixed(3);
}

/**
 * The results as rows of text: the references (smoothing floor, true-rate ceiling), then
 * one row per model and arm with mean ± sd and Δ vs the baseline (pairs better / pairs),
 * and how many runs converged (stopped on a validation plateau) of all.
 */
export function resultsTableRows(results: BlendResults): string[][] {
  const metrics = metricsPresent(results);
  const header = [
    "model",
    "arm",
    ...metrics.flatMap((m) => [METRIC_LABELS[m], `Δ ${METRIC_LABELS[m]}`]),
    "converged",
  ];
  const rows = [header];
  const refs = results.references ?? [];
  for (
    const [name, pick] of [
      ["smoothing (floor)", (r: DataReferences) => r.smoothing],
      ["true rates (ceiling)", (r: DataReferences) => r.trueRates],
    ] as const
  ) {
    if (refs.every((r) => pick(r) === null)) continue;
    rows.push([
      "-",
      name,
      ...metrics.flatMap((m) => [referenceText(refs.map((r) => pick(r)?.[m] ?? null)), ""]),
      "",
    ]);
  }
  const arms = [...new Map(results.summary.map((s) => [`${s.model}\u0000${s.arm}`, s])).values()];
  for (const { model, arm } of arms) {
    const cells = [model, arm];
    let counted: ArmSummary | undefined;
    for (const metric of metrics) {
      const s = results.summary.find((x) =>
        x.model === model && x.arm === arm && x.metric === metric
      );
      counted ??= s;
      cells.push(cellText(s), diffText(s));
    }
    cells.push(counted ? `${counted.converged}/${counted.n}` : "-");
    rows.push(cells);
  }
  return rows;
}

/**
 * The behavior-specific effect as rows of text: per model and strategy, behavior-distilled
 * minus self-distilled (mean ± sd of the pairs, pairs better / pairs, sign and Wilcoxon p).
 */
export function behaviorEffectRows(results: BlendResults): string[][] {
  const metrics = metricsPresent(results);
  const rows = [[
    "model",
    "strategy",
    ...metrics.map((m) => `${METRIC_LABELS[m]}: behavior − self`),
  ]];
  const arms = [
    ...new Map((results.behaviorEffect ?? []).map((e) => [`${e.model}\u0000${e.arm}`, e]))
      .values(),
  ];
  for (const { model, arm } of arms) {
    rows.push([
      model,
      arm,
      ...metrics.map((metric) => {
        const e = results.behaviorEffect.find((x) =>
          x.model === model && x.arm === arm && x.metric === metric
        );
        if (!e) return "-";
        const sign = e.meanDiff >= 0 ? "+" : "";
        return `${sign}${e.meanDiff.toFixed(3)} ± ${e.sdDiff.toFixed(3)} (${e.wins}/${e.n}, ` +
          `p ${e.pSign.toFixed(2)} / ${e.pWilcoxon.toFixed(2)})`;
      }),
    ]);
  }
  return rows;
}

function alignedText(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join(
    "\n",
  );
}

function markdownTable(rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(rows[0]), line(rows[0].map(() => "---")), ...rows.slice(1).map(line)].join("\n");
}

/**
 * The results as aligned text tables (for a terminal): every arm, then the
 * behavior-specific effect when the experiment ran the self-distillation control.
 */
export function formatResultsTable(results: BlendResults): string {
  const effect = behaviorEffectRows(results);
  return alignedText(resultsTableRows(results)) +
    (effect.length > 1
      ? "\n\nbehavior-specific effect (pairs better / pairs, p sign / Wilcoxon)\n" +
        alignedText(effect)
      : "");
}

/** The results as Markdown tables (every arm, then the behavior-specific effect). */
export function formatResultsMarkdown(results: BlendResults): string {
  const effect = behaviorEffectRows(results);
  return markdownTable(resultsTableRows(results)) +
    (effect.length > 1 ? "\n\n" + markdownTable(effect) : "");
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The results as CSV, one row per run and metric (tidy: model, arm, role, seed, metric,
 * value), so any table tool can pivot it.
 */
export function resultsCsv(results: BlendResults): string {
  const lines = [
    "model,arm,role,strategy,alpha,temperature,data_seed,seed,metric,value,best_epoch,epochs_run,converged,seconds",
  ];
  for (const r of results.runs) {
    for (const metric of RUN_METRICS) {
      if (r.scores[metric] === undefined) continue;
      lines.push(
        [
          r.model,
          r.arm,
          r.role,
          r.strategy,
          r.alpha,
          r.temperature,
          r.dataSeed,
          r.seed,
          metric,
          r.scores[metric],
          r.fit.bestEpoch === null ? null : r.fit.bestEpoch + 1,
          r.fit.epochsRun,
          r.fit.converged,
          r.fit.seconds.toFixed(1),
        ].map(csvField).join(","),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** Write `results.json` and `results.csv` under `dir` (atomically). */
export async function writeResults(results: BlendResults, dir: string): Promise<void> {
  await writeJsonAtomic(`${dir}/results.json`, results);
  await writeTextAtomic(`${dir}/results.csv`, resultsCsv(results));
}

/** The results as an HTML table. */
export function resultsHtml(results: BlendResults): string {
  const [header, ...rows] = resultsTableRows(results);
  const s = results.settings;
  const caption =
    `BLEND on ${s.dataset.name}: test split, mean ± sd over ${
      (s.dataSeeds ?? [0]).length
    } data seed(s) x ${s.seeds.length} model seeds; Δ = arm − baseline of the same seeds ` +
    `(pairs better / all); alpha ${s.alpha.join(", ")}, T ${
      s.temperature.join(", ")
    }; ${s.selection}; converged = runs stopped on a validation plateau`;
  const [effectHeader, ...effectRows] = behaviorEffectRows(results);
  return htmlTable(header, rows, caption) +
    (effectRows.length > 0
      ? "\n" + htmlTable(
        effectHeader,
        effectRows,
        "Behavior-specific effect: behavior-distilled minus self-distilled student, pair by " +
          "pair (pairs better / pairs, p of the sign / Wilcoxon signed-rank tests)",
      )
      : "");
}

/**
 * Attach the Jupyter display without changing the JSON: the table and, below it, the
 * strategy-comparison figure (every seed and metric).
 */
export function withDisplay(results: BlendResults): BlendResults {
  return attachDisplay(results, async () => {
    // Loaded on first display only: figures are not needed to run experiments.
    const { comparisonFigureSvg } = await import("../plot/report.ts");
    return {
      "text/html": resultsHtml(results) + "\n" + await comparisonFigureSvg(results),
      "text/plain": formatResultsTable(results),
    };
  });
}
