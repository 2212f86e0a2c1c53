/**
 * `runBlendExperiment`: for every model and seed, train the teacher, the baseline (same
 * model and budget, no teacher) and one student per strategy; score each on the test
 * split with every NLB metric; summarize as mean +- sd over seeds with the paired
 * difference to the baseline and a sign test. Model selection (early stopping, best
 * weights) uses the val split only. Baseline and students of a seed share initial
 * weights, batch order and masks, so a paired difference isolates the teacher's effect.
 * @module
 */

import type { NeuralDataset } from "../data/dataset.ts";
import { summarizeDataset } from "../data/dataset.ts";
import { ArgumentError, describe } from "../errors.ts";
import { attachDisplay, htmlTable } from "../html.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io.ts";
import { signTest, summarize } from "../math.ts";
import { evaluateNLB, type EvaluateNLBOptions } from "../metrics/nlb.ts";
import type { SequenceModel } from "../models/model.ts";
import { predict } from "../train/predict.ts";
import { fit, type FitOptions, type FitResult } from "../train/trainer.ts";
import { trialsInSplit } from "../data/dataset.ts";
import {
  buildModel,
  distillStudent,
  type FeatureLayer,
  type ModelSpec,
  teacherTargets,
  trainTeacher,
} from "./blend.ts";
import { STRATEGIES, type StrategyName } from "./strategies.ts";
import type { Role } from "../plot/comparison.ts";

/** The metrics an experiment reports, in order. */
export const BLEND_METRICS = ["coBps", "velR2", "psthR2", "fpBps"] as const;
/** One of `BLEND_METRICS`. */
export type BlendMetric = typeof BLEND_METRICS[number];

export type { Role } from "../plot/comparison.ts";

/** Options of `runBlendExperiment`. */
export interface BlendExperimentOptions {
  /** The data (train, val and test splits; behavior for the teacher). */
  dataset: NeuralDataset;
  /** Models to wrap. Default `["ndt"]`. */
  models?: ModelSpec[];
  /** Strategies to distill with. Default: every one. */
  strategies?: StrategyName[];
  /** Seeds: a count (seeds 0..n-1) or a list. Default 3. */
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
  /** Training settings shared by every run (the seed and label are set per run). */
  fit?: Omit<FitOptions, "seed" | "objective" | "checkpointDir" | "resume" | "label">;
  /** Scoring settings (the eval split defaults to "test"). */
  evaluate?: EvaluateNLBOptions;
  /** Write `results.json` and `results.csv` here. */
  outDir?: string;
  /** Called after every run (to print or plot as results arrive). */
  onRun?: (run: RunRecord) => void;
}

/** One trained and scored model. */
export interface RunRecord {
  /** Model name (its kind, numbered when a kind repeats). */
  model: string;
  /** `teacher`, `baseline` or the strategy name (with its alpha and T when they are swept). */
  arm: string;
  /** The student's strategy (null for teacher and baseline). */
  strategy: StrategyName | null;
  /** The student's alpha (null for teacher and baseline). */
  alpha: number | null;
  /** The student's temperature (soft students only, else null). */
  temperature: number | null;
  /** The arm's role. */
  role: Role;
  /** The seed of its weights, batches, masks and dropout. */
  seed: number;
  /** Test-split scores (null where the data has no such metric). */
  scores: Record<BlendMetric, number | null>;
  /** How training went. */
  fit: {
    status: FitResult["status"];
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
  /** Seeds scored. */
  n: number;
  /** Mean over seeds. */
  mean: number;
  /** Sample s.d. over seeds (n - 1). */
  sd: number;
  /** Each seed's value, in seed order. */
  values: number[];
  /**
   * Arm minus baseline, seed by seed: mean and s.d. of the differences, how many seeds
   * are better / worse / equal, and the two-sided sign test's p. Null for the baseline.
   */
  vsBaseline: {
    meanDiff: number;
    sdDiff: number;
    wins: number;
    losses: number;
    ties: number;
    pSign: number;
  } | null;
}

/** What `runBlendExperiment` returns (plain JSON, plus an HTML view in Jupyter). */
export interface BlendResults {
  /** Every setting that produced the numbers. */
  settings: {
    dataset: ReturnType<typeof summarizeDataset>;
    models: ModelSpec[];
    modelNames: string[];
    strategies: StrategyName[];
    seeds: number[];
    alpha: number[];
    temperature: number[];
    auxiliaryWeight: number;
    featureLayer: FeatureLayer;
    privileged: "behavior" | "condition";
    fit: BlendExperimentOptions["fit"];
    evalSplit: string;
    selection: string;
  };
  /** Every run. */
  runs: RunRecord[];
  /** Per model, arm and metric: mean +- sd over seeds and the paired difference. */
  summary: ArmSummary[];
  /** Seconds the whole experiment took. */
  seconds: number;
}

function seedList(seeds: number | number[] | undefined): number[] {
  const list = typeof seeds === "number" || seeds === undefined
    ? Array.from({ length: seeds ?? 3 }, (_, i) => i)
    : seeds;
  if (list.length === 0 || list.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new ArgumentError(
      `seeds must be a positive count or a list of integers >= 0, got ${describe(seeds)}`,
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

/**
 * Run BLEND end to end and summarize it. Each run is early stopped on the val split; the
 * test split is only scored.
 *
 * @example
 * ```ts
 * import { formatResultsTable, runBlendExperiment } from "./experiment.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 300, heldinNeurons: 40, heldoutNeurons: 15, bins: 35, forwardBins: 5, binMs: 20, moveOnsetBin: 12, behaviorExpression: 0.25 });
 * const results = await runBlendExperiment({
 *   dataset: data,
 *   models: [{ kind: "ndt", dModel: 32, layers: 2 }],
 *   strategies: ["hard", "feature"],
 *   seeds: 3,
 *   fit: { epochs: 20, batchSize: 32 },
 *   outDir: "out/blend",
 * });
 * console.log(formatResultsTable(results));
 * ```
 */
export async function runBlendExperiment(options: BlendExperimentOptions): Promise<BlendResults> {
  const start = performance.now();
  const dataset = options.dataset;
  const models = options.models ?? ["ndt"];
  if (models.length === 0) throw new ArgumentError("models must name at least one model");
  const strategies = options.strategies ?? [...STRATEGIES];
  for (const s of strategies) {
    if (!STRATEGIES.includes(s)) {
      throw new ArgumentError(`strategies: ${describe(s)} is not one of ${STRATEGIES.join(", ")}`);
    }
  }
  const seeds = seedList(options.seeds);
  const alphas = numberList(options.alpha, 0.5, "alpha", (a) => a >= 0 && a <= 1);
  const temperatures = numberList(options.temperature, 2, "temperature", (t) => t > 0);
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
  const trainTrials = trialsInSplit(dataset, options.fit?.trainSplit ?? "train");
  const runs: RunRecord[] = [];

  const score = async (model: SequenceModel) => {
    const record = evaluateNLB(dataset, {
      train: await predict(model, dataset, options.evaluate?.trainSplit ?? "train"),
      eval: await predict(model, dataset, options.evaluate?.evalSplit ?? "test"),
    }, options.evaluate);
    return Object.fromEntries(BLEND_METRICS.map((m) => [m, record[m]])) as RunRecord["scores"];
  };
  const record = async (
    model: SequenceModel,
    result: FitResult,
    m: number,
    arm: Pick<RunRecord, "arm" | "role" | "strategy" | "alpha" | "temperature">,
    seed: number,
  ) => {
    const run: RunRecord = {
      model: names[m],
      ...arm,
      seed,
      scores: await score(model),
      fit: {
        status: result.status,
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
  };

  for (let m = 0; m < models.length; m++) {
    const spec = models[m];
    for (const seed of seeds) {
      const fitOptions = { ...options.fit, seed };
      const { teacher, fit: teacherFit } = await trainTeacher(dataset, spec, {
        ...fitOptions,
        label: `${names[m]} teacher, seed ${seed}`,
      }, privileged);
      try {
        const plain = { strategy: null, alpha: null, temperature: null };
        await record(teacher, teacherFit, m, { arm: "teacher", role: "teacher", ...plain }, seed);
        const baseline = buildModel(spec, dataset, seed);
        try {
          const result = await fit(baseline, dataset, {
            ...fitOptions,
            label: `${names[m]} baseline, seed ${seed}`,
          });
          await record(baseline, result, m, { arm: "baseline", role: "baseline", ...plain }, seed);
        } finally {
          baseline.dispose();
        }
        // The teacher's features are kept only when a feature student will read them.
        const targets = await teacherTargets(teacher, dataset, trainTrials, {
          featureLayer: strategies.includes("feature") ? featureLayer : null,
        });
        for (const v of variants) {
          const { student, fit: result } = await distillStudent(dataset, spec, teacher, {
            strategy: v.strategy,
            alpha: v.alpha,
            temperature: v.temperature,
            auxiliaryWeight,
            featureLayer,
            fit: { ...fitOptions, label: `${names[m]} ${v.arm}, seed ${seed}` },
          }, targets);
          try {
            await record(student, result, m, {
              arm: v.arm,
              role: "student",
              strategy: v.strategy,
              alpha: v.alpha,
              temperature: v.strategy === "soft" ? v.temperature : null,
            }, seed);
          } finally {
            student.dispose();
          }
        }
      } finally {
        teacher.dispose();
      }
    }
  }

  const results: BlendResults = {
    settings: {
      dataset: summarizeDataset(dataset),
      models,
      modelNames: names,
      strategies,
      seeds,
      alpha: alphas,
      temperature: temperatures,
      auxiliaryWeight,
      featureLayer,
      privileged,
      fit: options.fit,
      evalSplit: options.evaluate?.evalSplit ?? "test",
      selection: "early stopping and best weights on the val split's co-bps",
    },
    runs,
    summary: summarizeRuns(runs),
    seconds: (performance.now() - start) / 1000,
  };
  if (options.outDir) await writeResults(results, options.outDir);
  return withDisplay(results);
}

/** Mean +- sd over seeds per model, arm and metric, with the paired difference to the baseline. */
export function summarizeRuns(runs: readonly RunRecord[]): ArmSummary[] {
  const out: ArmSummary[] = [];
  const keys = [...new Map(runs.map((r) => [`${r.model}\u0000${r.arm}`, r])).values()];
  for (const { model, arm, role } of keys) {
    const mine = runs.filter((r) => r.model === model && r.arm === arm);
    const baseline = new Map(
      runs.filter((r) => r.model === model && r.role === "baseline").map((r) => [r.seed, r]),
    );
    for (const metric of BLEND_METRICS) {
      const scored = mine.filter((r) => r.scores[metric] !== null);
      if (scored.length === 0) continue;
      const values = scored.map((r) => r.scores[metric]!);
      const { mean, sd, n } = summarize(values);
      let vsBaseline: ArmSummary["vsBaseline"] = null;
      if (role !== "baseline") {
        const diffs = scored.flatMap((r) => {
          const b = baseline.get(r.seed)?.scores[metric];
          return b === undefined || b === null ? [] : [r.scores[metric]! - b];
        });
        if (diffs.length > 0) {
          const wins = diffs.filter((d) => d > 0).length;
          const losses = diffs.filter((d) => d < 0).length;
          const d = summarize(diffs);
          vsBaseline = {
            meanDiff: d.mean,
            sdDiff: d.sd,
            wins,
            losses,
            ties: diffs.length - wins - losses,
            pSign: signTest(wins, losses),
          };
        }
      }
      out.push({ model, arm, role, metric, n, mean, sd, values, vsBaseline });
    }
  }
  return out;
}

const METRIC_LABELS: Record<BlendMetric, string> = {
  coBps: "co-bps",
  velR2: "vel R2",
  psthR2: "psth R2",
  fpBps: "fp-bps",
};

function cellText(s: ArmSummary | undefined): string {
  return s ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : "-";
}

function diffText(s: ArmSummary | undefined): string {
  const v = s?.vsBaseline;
  if (!v) return "";
  const sign = v.meanDiff >= 0 ? "+" : "";
  return `${sign}${v.meanDiff.toFixed(3)} (${v.wins}/${v.wins + v.losses + v.ties})`;
}

/** The results as rows of text: one row per model and arm, mean ± sd and Δ vs baseline (wins/seeds). */
export function resultsTableRows(results: BlendResults): string[][] {
  const header = [
    "model",
    "arm",
    ...BLEND_METRICS.flatMap((m) => [METRIC_LABELS[m], `Δ ${METRIC_LABELS[m]}`]),
  ];
  const rows = [header];
  const arms = [...new Map(results.summary.map((s) => [`${s.model}\u0000${s.arm}`, s])).values()];
  for (const { model, arm } of arms) {
    const cells = [model, arm];
    for (const metric of BLEND_METRICS) {
      const s = results.summary.find((x) =>
        x.model === model && x.arm === arm && x.metric === metric
      );
      cells.push(cellText(s), diffText(s));
    }
    rows.push(cells);
  }
  return rows;
}

/** The results as an aligned text table (for a terminal or the README). */
export function formatResultsTable(results: BlendResults): string {
  const rows = resultsTableRows(results);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join(
    "\n",
  );
}

/** The results as a Markdown table. */
export function formatResultsMarkdown(results: BlendResults): string {
  const rows = resultsTableRows(results);
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(rows[0]), line(rows[0].map(() => "---")), ...rows.slice(1).map(line)].join("\n");
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
    "model,arm,role,strategy,alpha,temperature,seed,metric,value,best_epoch,epochs_run,seconds",
  ];
  for (const r of results.runs) {
    for (const metric of BLEND_METRICS) {
      lines.push(
        [
          r.model,
          r.arm,
          r.role,
          r.strategy,
          r.alpha,
          r.temperature,
          r.seed,
          metric,
          r.scores[metric],
          r.fit.bestEpoch === null ? null : r.fit.bestEpoch + 1,
          r.fit.epochsRun,
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
  const caption = `BLEND on ${s.dataset.name}: test split, mean ± sd over ${s.seeds.length} ` +
    `seeds; Δ = arm − baseline of the same seed (seeds better / all); alpha ${
      s.alpha.join(", ")
    }, T ${s.temperature.join(", ")}; ${s.selection}`;
  return htmlTable(header, rows, caption);
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
