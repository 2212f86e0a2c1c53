/**
 * The `blend` command line: `deno run cli/blend.ts <command> [options]`.
 * @module
 */

import { parseArgs } from "node:util";
import { describeMatMul, initBackend } from "../lib/backend.ts";
import { concat3, selectTrials } from "../lib/array.ts";
import { type NeuralDataset, summarizeDataset, trialsInSplit } from "../lib/data/dataset.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { NLB_PRESETS } from "../lib/data/nlb_presets.ts";
import { loadNWB } from "../lib/data/nwb.ts";
import { describeNWB, formatNWBInfo } from "../lib/data/nwb_info.ts";
import { loadDataset } from "../lib/data/store.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import {
  evaluateNLB,
  type NLBRecord,
  type RateSet,
  truthRates,
  velR2,
} from "../lib/metrics/nlb.ts";
import { createModel, MODEL_KINDS, type ModelKind } from "../lib/models/model.ts";
import { fitSmoothingBaseline } from "../lib/models/smoothing.ts";
import { dataShape } from "../lib/train/batch.ts";
import { predict } from "../lib/train/predict.ts";
import { fit } from "../lib/train/trainer.ts";
import type { Array3 } from "../lib/array.ts";
import type { ModelSpec } from "../lib/distill/blend.ts";
import {
  type BlendResults,
  formatResultsTable,
  runBlendExperiment,
  writeResults,
} from "../lib/distill/experiment.ts";
import { STRATEGIES, type StrategyName } from "../lib/distill/strategies.ts";
import { saveExperimentFigures } from "../lib/plot/report.ts";

const HELP = `blend: neural population dynamics with behavior as a guide

Usage: deno run --allow-read --allow-write=out --allow-env --allow-ffi cli/blend.ts <command> [options]
       (--allow-ffi lets training use the system's OpenBLAS, about twice as fast on a CPU)

Commands:
  demo      BLEND on the built-in synthetic reaching data, behavior weakly expressed in
            the spikes: for 3 seeds, train a teacher that sees spikes plus hand velocity,
            the baseline (same model, spikes only) and students distilled from the teacher
            (hard and soft); print every metric as mean ± sd with the paired
            difference to the baseline; write results.json, results.csv and figures
            (SVG and PNG). About 2 minutes on 2 cores with OpenBLAS.

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
  --trials N     trials (default 600)
  --seeds N      seeds (default 3)
  --epochs N     most epochs per model (default 30)
  --out DIR      where results and figures go (default out)

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
  --seeds N           seeds 0..N-1 (default 3)
  --epochs N          most epochs per model (default 40)
  --trials N          trials of the built-in data (default 1000)
  --expression X      behaviorExpression of the built-in data (default 0.5)
  --alpha A[,A...]    weight of the masked-modeling loss in students (default 0.5);
                      a list sweeps it, one student per value
  --temperature T[,T...]  softmax temperature of soft (default 2); a list sweeps it
  --privileged P      behavior (default) or condition (one-hot reach target)
  --batch-size N      trials per step (default 32)
  --lr X              peak learning rate (default 0.002)
  --out DIR           where results and figures go (default out/distill)

Options (train):
  --model NAME   ndt | lfads | rnn (default ndt)
  --epochs N     most epochs (default 40)
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

/** vel R2 (the NLB definition) of behavior from the given features, train -> test trials. */
function decodeBehaviorR2(dataset: NeuralDataset, features: Array3): number {
  const train = trialsInSplit(dataset, "train"), test = trialsInSplit(dataset, "test");
  return velR2({
    trainRates: selectTrials(features, train),
    trainBehavior: selectTrials(dataset.behavior, train),
    evalRates: selectTrials(features, test),
    evalBehavior: selectTrials(dataset.behavior, test),
  }).r2;
}

/**
 * The built-in synthetic data of `demo` and `distill`: MC_Maze-like reaching at 20 ms bins
 * (700 ms trials, 100 ms forward), 100 held-in and 30 held-out neurons.
 */
function syntheticReach(trials: number, seed: number, behaviorExpression: number): NeuralDataset {
  return reachDataset({
    trials,
    seed,
    heldinNeurons: 100,
    heldoutNeurons: 30,
    binMs: 20,
    bins: 35,
    forwardBins: 5,
    moveOnsetBin: 12,
    behaviorExpression,
  });
}

/** The demo's settings: a compact NDT, sized to run in about 5 minutes on 2 cores. */
export const DEMO_SETTINGS = {
  trials: 600,
  behaviorExpression: 0.5,
  model: { kind: "ndt", dModel: 32, layers: 2, heads: 2, feedForward: 64 } as ModelSpec,
  strategies: ["hard", "soft"] as StrategyName[],
  seeds: 3,
  epochs: 30,
  batchSize: 32,
  learningRate: 2e-3,
};

/**
 * Print the references every arm should be read against: the benchmark's smoothing
 * baseline (the floor a neural network should beat) and, for synthetic data, the true
 * rates (the ceiling) and vel R2 from single-bin spikes.
 */
function describeData(dataset: NeuralDataset): Record<string, Record<string, number | null>> {
  const s = summarizeDataset(dataset);
  console.log(
    `data: ${dataset.name}, ${s.trials.train}/${s.trials.val}/${s.trials.test} train/val/test trials, ` +
      `${s.heldinNeurons}+${s.heldoutNeurons} neurons, ${s.bins}+${s.forwardBins} bins of ${dataset.binMs} ms`,
  );
  const pick = (r: NLBRecord) => ({
    coBps: r.coBps,
    velR2: r.velR2,
    psthR2: r.psthR2,
    fpBps: r.fpBps,
  });
  const f = (v: number | null) => (v === null ? "-" : v.toFixed(3));
  const line = (name: string, r: NLBRecord) =>
    console.log(
      `${name}: co-bps ${f(r.coBps)}, vel R2 ${f(r.velR2)}, psth R2 ${f(r.psthR2)}, fp-bps ${
        f(r.fpBps)
      }`,
    );
  const floor = fitSmoothingBaseline(dataset);
  const smoothing = evaluateNLB(dataset, {
    train: floor.predict(dataset, "train"),
    eval: floor.predict(dataset, "test"),
  });
  line("smoothing baseline (floor)", smoothing);
  const references: Record<string, Record<string, number | null>> = { smoothing: pick(smoothing) };
  if (dataset.truth) {
    const ceiling = evaluateNLB(dataset, {
      train: truthRates(dataset, "train"),
      eval: truthRates(dataset, "test"),
    });
    line("true rates (ceiling)", ceiling);
    const spikes = decodeBehaviorR2(
      dataset,
      concat3([dataset.heldinSpikes, dataset.heldoutSpikes], 2),
    );
    console.log(`vel R2 from single-bin spike counts: ${spikes.toFixed(3)}`);
    references.trueRates = pick(ceiling);
    references.spikes = { velR2: spikes };
  }
  console.log("");
  return references;
}

interface ExperimentArgs {
  dataset: NeuralDataset;
  models: ModelSpec[];
  strategies: StrategyName[];
  seeds: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
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
  const references = describeData(args.dataset);
  const terminal = Deno.stdout.isTerminal();
  const results = await runBlendExperiment({
    dataset: args.dataset,
    models: args.models,
    strategies: args.strategies,
    seeds: args.seeds,
    alpha: args.alpha,
    temperature: args.temperature,
    privileged: args.privileged,
    fit: {
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.learningRate,
      progress: terminal ? "bar" : "none",
    },
    onRun: (run) => {
      const f = (v: number | null) => (v === null ? "-" : v.toFixed(3));
      console.log(
        `${run.model} ${run.arm.padEnd(11)} seed ${run.seed}: co-bps ${f(run.scores.coBps)}  ` +
          `vel R2 ${f(run.scores.velR2)}  psth R2 ${f(run.scores.psthR2)}  fp-bps ${
            f(run.scores.fpBps)
          }  (${run.fit.seconds.toFixed(0)} s, best epoch ${(run.fit.bestEpoch ?? -1) + 1})`,
      );
    },
  });
  console.log(
    `\ntest split, mean ± sd over ${results.settings.seeds.length} seeds; Δ = arm − baseline ` +
      `of the same seed (seeds better / seeds)\n`,
  );
  console.log(formatResultsTable(results));
  await writeResults(results, args.outDir);
  await writeJsonAtomic(`${args.outDir}/references.json`, references);
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
      epochs: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const d = DEMO_SETTINGS;
  console.log(
    "BLEND demo: a teacher sees spikes plus hand velocity; students see spikes only and learn\n" +
      "from the teacher; the baseline is the same model trained alone. Behavior is weakly\n" +
      "expressed in the spikes (behaviorExpression " + d.behaviorExpression + ").\n",
  );
  await experiment({
    dataset: syntheticReach(
      integerOption(values.trials, "trials", d.trials, 30),
      0,
      d.behaviorExpression,
    ),
    models: [d.model],
    strategies: d.strategies,
    seeds: integerOption(values.seeds, "seeds", d.seeds, 1),
    epochs: integerOption(values.epochs, "epochs", d.epochs, 1),
    batchSize: d.batchSize,
    learningRate: d.learningRate,
    alpha: [0.5],
    temperature: [2],
    privileged: "behavior",
    outDir: values.out ?? "out",
  });
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
  let dataset: NeuralDataset;
  if (data === "reach") {
    dataset = syntheticReach(
      integerOption(values.trials, "trials", 1000, 30),
      0,
      numberOption(values.expression, "expression", 0.5, 0, 10),
    );
  } else {
    dataset = await readDataFile(data, values.preset, values["bin-ms"]);
  }
  await experiment({
    dataset,
    models: [size === "small" ? SMALL_MODELS[kind] : kind],
    strategies,
    seeds: integerOption(values.seeds, "seeds", 3, 1),
    epochs: integerOption(values.epochs, "epochs", 40, 1),
    batchSize: integerOption(values["batch-size"], "batch-size", 32, 1),
    learningRate: numberOption(values.lr, "lr", 2e-3, 1e-6, 1),
    alpha: numberListOption(values.alpha, "alpha", 0.5, 0, 1),
    temperature: numberListOption(values.temperature, "temperature", 2, 1e-3, 100),
    privileged,
    outDir: values.out ?? "out/distill",
  });
}

/**
 * A dataset from a file: an NWB file (`.nwb`, read with an NLB preset or plain options)
 * or a dataset saved by `saveDataset` (anything else).
 */
async function readDataFile(
  path: string,
  preset: string | undefined,
  binMsArg: string | undefined,
): Promise<NeuralDataset> {
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
    return await loadDataset(path);
  }
  const binMs = integerOption(binMsArg, "bin-ms", 20, 1);
  if (binMs !== 5 && binMs !== 20) throw new UsageError(`--bin-ms must be 5 or 20, got ${binMs}`);
  if (preset !== undefined && !(preset in NLB_PRESETS)) {
    throw new UsageError(
      `--preset must be one of ${Object.keys(NLB_PRESETS).join(", ")}, got "${preset}"`,
    );
  }
  return await loadNWB(path, { preset, binMs });
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

/** Compact versions of each model (the `--size small` of `distill`). */
const SMALL_MODELS: Record<ModelKind, ModelSpec> = {
  ndt: { kind: "ndt", dModel: 32, layers: 2, heads: 2, feedForward: 64 },
  rnn: { kind: "rnn", encoderDim: 32, generatorDim: 48, factorDim: 16 },
  lfads: {
    kind: "lfads",
    icEncoderDim: 32,
    icDim: 32,
    generatorDim: 48,
    ciEncoderDim: 16,
    controllerDim: 16,
    factorDim: 16,
  },
};

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
  const epochs = integerOption(values.epochs, "epochs", 40, 1);
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
    batchSize: 32,
    learningRate: 2e-3,
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
