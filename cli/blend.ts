/**
 * The `blend` command line: `deno run cli/blend.ts <command> [options]`.
 * @module
 */

import { parseArgs } from "node:util";
import { describeMatMul, initBackend } from "../lib/backend.ts";
import { type NeuralDataset, summarizeDataset } from "../lib/data/dataset.ts";
import { reachDataset, type ReachOptions } from "../lib/data/synthetic/reach.ts";
import { NLB_PRESETS } from "../lib/data/nlb_presets.ts";
import { describeNWB, formatNWBInfo } from "../lib/data/nwb_info.ts";
import { loadDataset } from "../lib/data/store.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { evaluateNLB, type RateSet, truthRates } from "../lib/metrics/nlb.ts";
import { COMPACT_MODELS, createModel, MODEL_KINDS, type ModelKind } from "../lib/models/model.ts";
import { fitSmoothingBaseline } from "../lib/models/smoothing.ts";
import { dataShape } from "../lib/train/batch.ts";
import { predict } from "../lib/train/predict.ts";
import { fit } from "../lib/train/trainer.ts";
import type { ModelSpec } from "../lib/distill/blend.ts";
import {
  type BlendResults,
  type DataReferences,
  formatResultsTable,
  writeResults,
} from "../lib/distill/experiment.ts";
import {
  datasetFromSpec,
  type DataSpec,
  runBlendExperimentInWorkers,
} from "../lib/distill/parallel.ts";
import { STRATEGIES, type StrategyName } from "../lib/distill/strategies.ts";
import { saveExperimentFigures } from "../lib/plot/report.ts";

const HELP = `blend: neural population dynamics with behavior as a guide

Usage: deno run --allow-read --allow-write=out --allow-env --allow-ffi cli/blend.ts <command> [options]
       (--allow-ffi lets training use the system's OpenBLAS, about twice as fast on a CPU)

Commands:
  demo      BLEND on the built-in synthetic reaching data, behavior weakly expressed in
            the spikes: for 2 seeds (one per core), train a teacher that sees spikes plus
            hand velocity, the baseline (same model and recipe, spikes only), a student
            distilled from the teacher (soft), and the two controls: a student distilled
            from the baseline (self-distillation) and a multi-task model with behavior as a
            training target. Every run trains to convergence (early stopping on val).
            Prints the smoothing floor and the true-rate ceiling, every metric as mean ± sd
            with the paired difference to the baseline, and the behavior-specific effect
            (behavior-distilled minus self-distilled); writes results.json, results.csv
            and figures (SVG and PNG). About 9 minutes on 2 cores with OpenBLAS.

  distill   The same experiment with every choice open (model, strategies, seeds, alpha,
            temperature, privileged signal, data).

  info      What is inside an NWB file (units, held-out count, trials and splits,
            time series with rates, lengths and NaN fractions) or a saved dataset.
            Usage: info <file>

  train     Train a sequence model (ndt, lfads or rnn) on the synthetic reaching
            dataset with early stopping on the val split, score it on the test split
            with every NLB metric beside the true rates and the smoothing baseline, and
            save the best checkpoint (safetensors) and the scores.

Options (demo):
  --trials N       trials (default 600)
  --seeds N        model seeds (default 2)
  --data-seeds N   data draws (default 1)
  --epochs N       epoch budget per model (default: the recipe's, 400; early stopping ends
                   runs before it)
  --workers N      parallel workers (default: the number of cores)
  --out DIR        where results and figures go (default out)

Options (distill):
  --data SRC          "reach" (the built-in synthetic data, default), an NWB file
                      (.nwb) or a dataset saved by saveDataset
  --preset NAME       NLB preset for an NWB file: mc_maze, mc_rtt, area2_bump,
                      dmfc_rsg, mc_maze_large, mc_maze_medium, mc_maze_small
  --bin-ms N          bin width for an NWB file, 5 or 20 (default 20)
  --model NAME        ndt | rnn | lfads (default ndt)
  --size S            small (compact, fast; default) or full (the published sizes)
  --strategy S        all (default), or a comma-separated list of
                      hard, soft, feature, correlation
  --seeds N           model seeds 0..N-1 (default 3)
  --data-seeds N      data draws of the built-in data 0..N-1 (default 1)
  --workers N         parallel workers (default: the number of cores)
  --epochs N          epoch budget per model (default: the recipe's)
  --trials N          trials of the built-in data (default 1000)
  --expression X      behaviorExpression of the built-in data (default 0.5)
  --alpha A[,A...]    weight of the masked-modeling loss in students (default 0.5);
                      a list sweeps it, one student per value
  --temperature T[,T...]  softmax temperature of soft (default 2); a list sweeps it
  --privileged P      behavior (default) or condition (one-hot reach target)
  --batch-size N      trials per step (default: the recipe's, 32)
  --lr X              peak learning rate (default: the recipe's, 0.005)
  --out DIR           where results and figures go (default out/distill)

Options (train):
  --model NAME   ndt | lfads | rnn (default ndt)
  --epochs N     epoch budget (default: the recipe's)
  --trials N     trials (default 1000)
  --bin-ms N     bin width, 5 or 20 ms (default 20)
  --seed N       seed of the data and of training (default 0)
  --out DIR      checkpoints go to DIR/<model>/best and DIR/<model>/last, scores to
                 DIR/<model>/scores.json (default out)
  -h, --help     show this help
`;

class UsageError extends Error {}

function integerOption(value: string | undefined, name: string, fallback: number, min: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/**
 * The built-in synthetic data of `demo` and `distill`: MC_Maze-like reaching at 20 ms bins
 * (700 ms trials, 100 ms forward), 100 held-in and 30 held-out neurons, 600 trials and
 * behavior weakly expressed (0.5) unless told otherwise; each data seed draws a new dataset.
 */
export const BUILT_IN_REACH: Omit<ReachOptions, "seed"> = {
  trials: 600,
  heldinNeurons: 100,
  heldoutNeurons: 30,
  binMs: 20,
  bins: 35,
  forwardBins: 5,
  moveOnsetBin: 12,
  behaviorExpression: 0.5,
};

function syntheticReach(trials: number, behaviorExpression: number): DataSpec {
  return { kind: "reach", options: { ...BUILT_IN_REACH, trials, behaviorExpression } };
}

/**
 * The demo's settings: a compact NDT with the NDT recipe (early stopping, plateau
 * schedule), the soft student and both controls, two seeds (one per core); sized to finish
 * in under 10 minutes on 2 cores.
 */
export const DEMO_SETTINGS = {
  trials: BUILT_IN_REACH.trials!,
  behaviorExpression: BUILT_IN_REACH.behaviorExpression!,
  model: COMPACT_MODELS.ndt as ModelSpec,
  strategies: ["soft"] as StrategyName[],
  seeds: 2,
};

/** Print the references every arm is read against (the smoothing floor, the true rates). */
function printReferences(refs: DataReferences): void {
  const f = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(3));
  const line = (name: string, r: Record<string, number | null>) =>
    console.log(
      `  ${name}: co-bps ${f(r.coBps)}, vel R2 ${f(r.velR2)}, psth R2 ${f(r.psthR2)}, fp-bps ${
        f(r.fpBps)
      }` + (r.heldoutR2 !== null && r.heldoutR2 !== undefined
        ? `, rates R2 vs truth ${f(r.heldinR2)} held-in / ${f(r.heldoutR2)} held-out`
        : ""),
    );
  console.log(`data seed ${refs.dataSeed}: ${refs.dataset}`);
  line("smoothing baseline (floor)", refs.smoothing);
  if (refs.trueRates) line("true rates (ceiling)", refs.trueRates);
}

/** Describe a dataset's size in one line. */
function describeData(dataset: NeuralDataset): void {
  const s = summarizeDataset(dataset);
  console.log(
    `data: ${dataset.name}, ${s.trials.train}/${s.trials.val}/${s.trials.test} train/val/test trials, ` +
      `${s.heldinNeurons}+${s.heldoutNeurons} neurons, ${s.bins}+${s.forwardBins} bins of ${dataset.binMs} ms`,
  );
}

interface ExperimentArgs {
  data: DataSpec;
  dataSeeds: number;
  /** Workers sharing the runs (default: every core). */
  workers?: number;
  models: ModelSpec[];
  strategies: StrategyName[];
  seeds: number;
  /** Recipe overrides the user gave (the rest comes from the model's recipe). */
  recipe: { epochs?: number; batchSize?: number; learningRate?: number };
  alpha: number[];
  temperature: number[];
  privileged: "behavior" | "condition";
  outDir: string;
}

/** Run a BLEND experiment, print a line per run and the table, write results and figures. */
async function experiment(args: ExperimentArgs): Promise<BlendResults> {
  const backend = await initBackend();
  console.log(`backend: ${backend.backend} (${backend.reason})`);
  const products = describeMatMul(backend);
  if (products) console.log(`matrix products: ${products}`);
  describeData(await datasetFromSpec(args.data, 0));
  const f = (v: number | null) => (v === null ? "-" : v.toFixed(3));
  const workers = Math.min(
    args.workers ?? navigator.hardwareConcurrency ?? 1,
    args.dataSeeds * args.seeds,
  );
  console.log(
    `${workers} worker(s), each training one (data seed, model seed) pair at a time` +
      "\n",
  );
  const results = await runBlendExperimentInWorkers({
    data: args.data,
    dataSeeds: args.dataSeeds,
    models: args.models,
    strategies: args.strategies,
    seeds: args.seeds,
    alpha: args.alpha,
    temperature: args.temperature,
    privileged: args.privileged,
    fit: { ...args.recipe, progress: "none" },
  }, {
    workers,
    outDir: args.outDir,
    onReferences: printReferences,
    onRun: (run) => {
      console.log(
        `${run.model} ${run.arm.padEnd(12)} data ${run.dataSeed} seed ${run.seed}: co-bps ${
          f(run.scores.coBps)
        }  vel R2 ${f(run.scores.velR2)}  psth R2 ${f(run.scores.psthR2)}  fp-bps ${
          f(run.scores.fpBps)
        }` + (run.scores.heldoutR2 !== null
          ? `  rates R2 ${f(run.scores.heldinR2)}/${f(run.scores.heldoutR2)}`
          : "") +
          `  (${run.fit.seconds.toFixed(0)} s, best epoch ${
            (run.fit.bestEpoch ?? -1) + 1
          } of ${run.fit.epochsRun}${run.fit.converged ? "" : ", budget spent: not converged"})`,
      );
    },
  });
  console.log(
    `\ntest split, mean ± sd over ${args.dataSeeds} data seed(s) x ${results.settings.seeds.length} ` +
      `model seeds; Δ = arm − baseline of the same seeds (pairs better / pairs)\n`,
  );
  console.log(formatResultsTable(results));
  await writeResults(results, args.outDir);
  await writeJsonAtomic(`${args.outDir}/references.json`, results.references);
  const figures = await saveExperimentFigures(results, args.outDir);
  console.log(
    `\n${results.seconds.toFixed(0)} s in all; wrote ${args.outDir}/results.json, ` +
      `${args.outDir}/results.csv and ${figures.join(", ")}`,
  );
  return results;
}

async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      trials: { type: "string" },
      seeds: { type: "string" },
      "data-seeds": { type: "string" },
      epochs: { type: "string" },
      workers: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const d = DEMO_SETTINGS;
  console.log(
    "BLEND demo: a teacher sees spikes plus hand velocity; students see spikes only and learn\n" +
      "from it. The baseline is the same model trained alone; two controls could explain a\n" +
      "student's gain away: students of a spikes-only teacher (self-distillation) and a\n" +
      "multi-task model with behavior as a training target. Behavior is weakly expressed in\n" +
      "the spikes (behaviorExpression " + d.behaviorExpression + ").\n",
  );
  await experiment({
    data: syntheticReach(
      integerOption(values.trials, "trials", d.trials, 30),
      d.behaviorExpression,
    ),
    dataSeeds: integerOption(values["data-seeds"], "data-seeds", 1, 1),
    workers: optionalInteger(values.workers, "workers", 1),
    models: [d.model],
    strategies: d.strategies,
    seeds: integerOption(values.seeds, "seeds", d.seeds, 1),
    recipe: { epochs: optionalInteger(values.epochs, "epochs", 1) },
    alpha: [0.5],
    temperature: [2],
    privileged: "behavior",
    outDir: values.out ?? "out",
  });
}

/** An integer option that is left to the recipe when absent. */
function optionalInteger(value: string | undefined, name: string, min: number) {
  return value === undefined ? undefined : integerOption(value, name, 0, min);
}

function numberOption(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

/** A comma-separated list of numbers (a sweep), each in [min, max]. */
function numberListOption(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number[] {
  if (value === undefined) return [fallback];
  return value.split(",").map((part) => numberOption(part, name, fallback, min, max));
}

async function distill(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      model: { type: "string" },
      strategy: { type: "string" },
      seeds: { type: "string" },
      "data-seeds": { type: "string" },
      workers: { type: "string" },
      epochs: { type: "string" },
      trials: { type: "string" },
      expression: { type: "string" },
      alpha: { type: "string" },
      temperature: { type: "string" },
      privileged: { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      preset: { type: "string" },
      "bin-ms": { type: "string" },
      size: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const kind = (values.model ?? "ndt") as ModelKind;
  if (!MODEL_KINDS.includes(kind)) {
    throw new UsageError(`--model must be one of ${MODEL_KINDS.join(", ")}, got "${values.model}"`);
  }
  const strategyArg = values.strategy ?? "all";
  const strategies = strategyArg === "all"
    ? [...STRATEGIES]
    : strategyArg.split(",") as StrategyName[];
  for (const s of strategies) {
    if (!STRATEGIES.includes(s)) {
      throw new UsageError(
        `--strategy must be all or one or more of ${
          STRATEGIES.join(", ")
        } (comma-separated), got "${strategyArg}"`,
      );
    }
  }
  const privileged = values.privileged ?? "behavior";
  if (privileged !== "behavior" && privileged !== "condition") {
    throw new UsageError(`--privileged must be behavior or condition, got "${privileged}"`);
  }
  const size = values.size ?? "small";
  if (size !== "small" && size !== "full") {
    throw new UsageError(`--size must be small or full, got "${size}"`);
  }
  const data = values.data ?? "reach";
  let spec: DataSpec;
  let dataSeeds = 1;
  if (data === "reach") {
    spec = syntheticReach(
      integerOption(values.trials, "trials", 1000, 30),
      numberOption(values.expression, "expression", 0.5, 0, 10),
    );
    dataSeeds = integerOption(values["data-seeds"], "data-seeds", 1, 1);
  } else {
    if (values["data-seeds"] !== undefined) {
      throw new UsageError("--data-seeds applies to the built-in synthetic data only");
    }
    spec = await dataFileSpec(data, values.preset, values["bin-ms"]);
  }
  await experiment({
    data: spec,
    dataSeeds,
    workers: optionalInteger(values.workers, "workers", 1),
    models: [size === "small" ? COMPACT_MODELS[kind] : kind],
    strategies,
    seeds: integerOption(values.seeds, "seeds", 3, 1),
    recipe: {
      epochs: optionalInteger(values.epochs, "epochs", 1),
      batchSize: optionalInteger(values["batch-size"], "batch-size", 1),
      learningRate: values.lr === undefined ? undefined : numberOption(values.lr, "lr", 0, 1e-6, 1),
    },
    alpha: numberListOption(values.alpha, "alpha", 0.5, 0, 1),
    temperature: numberListOption(values.temperature, "temperature", 2, 1e-3, 100),
    privileged,
    outDir: values.out ?? "out/distill",
  });
}

/**
 * A data file, checked: an NWB file (`.nwb`, read with an NLB preset or plain options) or
 * a dataset saved by `saveDataset` (anything else).
 */
async function dataFileSpec(
  path: string,
  preset: string | undefined,
  binMsArg: string | undefined,
): Promise<DataSpec> {
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(
      `--data: no file at "${path}" (give a path, or "reach" for the built-in synthetic data)`,
    );
  }
  if (!path.toLowerCase().endsWith(".nwb")) {
    if (preset !== undefined || binMsArg !== undefined) {
      throw new UsageError("--preset and --bin-ms apply to NWB files only");
    }
    return { kind: "file", path };
  }
  const binMs = integerOption(binMsArg, "bin-ms", 20, 1);
  if (binMs !== 5 && binMs !== 20) throw new UsageError(`--bin-ms must be 5 or 20, got ${binMs}`);
  if (preset !== undefined && !(preset in NLB_PRESETS)) {
    throw new UsageError(
      `--preset must be one of ${Object.keys(NLB_PRESETS).join(", ")}, got "${preset}"`,
    );
  }
  return { kind: "file", path, preset, binMs };
}

async function info(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) {
    throw new UsageError(
      `info takes one file (an .nwb file or a saved dataset), got ${positionals.length}`,
    );
  }
  const [path] = positionals;
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`info: no file at "${path}"`);
  }
  if (path.toLowerCase().endsWith(".nwb")) {
    console.log(formatNWBInfo(await describeNWB(path)));
  } else {
    console.log(JSON.stringify(summarizeDataset(await loadDataset(path)), null, 2));
  }
}

async function train(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      epochs: { type: "string" },
      trials: { type: "string" },
      "bin-ms": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const kind = (values.model ?? "ndt") as ModelKind;
  if (!MODEL_KINDS.includes(kind)) {
    throw new UsageError(`--model must be one of ${MODEL_KINDS.join(", ")}, got "${values.model}"`);
  }
  const epochs = optionalInteger(values.epochs, "epochs", 1);
  const trials = integerOption(values.trials, "trials", 1000, 20);
  const seed = integerOption(values.seed, "seed", 0, 0);
  const binMs = integerOption(values["bin-ms"], "bin-ms", 20, 5);
  if (binMs !== 5 && binMs !== 20) throw new UsageError(`--bin-ms must be 5 or 20, got ${binMs}`);
  const dir = `${values.out ?? "out"}/${kind}`;

  const backend = await initBackend();
  // MC_Maze's trial structure (-250..+450 ms around movement onset, 200 ms forward).
  const data = reachDataset({
    trials,
    seed,
    binMs,
    bins: 700 / binMs,
    forwardBins: 200 / binMs,
    moveOnsetBin: Math.round(250 / binMs),
  });
  const summary = summarizeDataset(data);
  console.log(
    `backend ${backend.backend}${
      describeMatMul(backend) ? ` (matrix products: ${describeMatMul(backend)})` : ""
    }; ${summary.trials.train}/${summary.trials.val}/${summary.trials.test} ` +
      `train/val/test trials of ${summary.bins}+${summary.forwardBins} bins (${binMs} ms)`,
  );
  const model = createModel({ kind, ...dataShape(data), seed });
  const result = await fit(model, data, {
    epochs,
    seed,
    checkpointDir: dir,
    label: kind,
  });
  console.log(result.message);
  const score = (rates: { train: RateSet; eval: RateSet }) => evaluateNLB(data, rates);
  const baseline = fitSmoothingBaseline(data);
  const rows = {
    [kind]: score({
      train: await predict(model, data, "train"),
      eval: await predict(model, data, "test"),
    }),
    smoothing: score({
      train: baseline.predict(data, "train"),
      eval: baseline.predict(data, "test"),
    }),
    "true rates": score({ train: truthRates(data, "train"), eval: truthRates(data, "test") }),
  };
  model.dispose();
  console.log("\ntest split      co-bps  vel R2  psth R2  fp-bps");
  for (const [name, r] of Object.entries(rows)) {
    const f = (v: number | null) => (v === null ? "-" : v.toFixed(3)).padStart(7);
    console.log(`${name.padEnd(14)} ${f(r.coBps)} ${f(r.velR2)} ${f(r.psthR2)} ${f(r.fpBps)}`);
  }
  await writeJsonAtomic(`${dir}/scores.json`, { backend, summary, fit: result, scores: rows });
  console.log(`\nwrote ${dir}/best (checkpoint) and ${dir}/scores.json`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  demo,
  train,
  distill,
  info,
};

/** Run one command line; returns the exit code (0 ok, 1 failure, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (
    !command || command === "-h" || command === "--help" || rest.includes("--help") ||
    rest.includes("-h")
  ) {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(
      `unknown command "${command}"; expected one of: ${Object.keys(COMMANDS).join(", ")}\n`,
    );
    console.error(HELP);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`blend ${command}: ${(error as Error).message}`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
