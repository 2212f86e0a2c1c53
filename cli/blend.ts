/**
 * The `blend` command line: `deno run cli/blend.ts <command> [options]`.
 * @module
 */

import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend.ts";
import { concat3, selectTrials } from "../lib/array.ts";
import { type NeuralDataset, summarizeDataset, trialsInSplit } from "../lib/data/dataset.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { evaluateNLB, type RateSet, truthRates, velR2 } from "../lib/metrics/nlb.ts";
import { createModel, MODEL_KINDS, type ModelKind } from "../lib/models/model.ts";
import { fitSmoothingBaseline } from "../lib/models/smoothing.ts";
import { dataShape } from "../lib/train/batch.ts";
import { predict } from "../lib/train/predict.ts";
import { fit } from "../lib/train/trainer.ts";
import type { Array3 } from "../lib/array.ts";

const HELP = `blend: neural population dynamics with behavior as a guide

Usage: deno run --allow-read --allow-write=out --allow-env cli/blend.ts <command> [options]

Commands:
  demo      Make the synthetic reaching dataset with behavior strongly and weakly
            expressed in the spikes; score hand-velocity decoding (vel R2) from the true
            rates and from the spikes, and the true rates' co-bps and psth R2.

  train     Train a sequence model (ndt, lfads or rnn) on the synthetic reaching
            dataset with early stopping on the val split, score it on the test split
            with every NLB metric beside the true rates and the smoothing baseline, and
            save the best checkpoint (safetensors) and the scores.

Options (demo):
  --trials N     trials per dataset (default 2295, as MC_Maze)
  --seed N       random seed (default 0)
  --out DIR      where to write demo.json (default out)

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

async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { trials: { type: "string" }, seed: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const trials = integerOption(values.trials, "trials", 2295, 10);
  const seed = integerOption(values.seed, "seed", 0, 0);
  const outDir = values.out ?? "out";

  const backend = await initBackend();
  console.log(`backend: ${backend.backend} (${backend.reason})\n`);
  console.log(
    "Synthetic reaching, scored on the test split with the NLB metrics: vel R2 (ridge, 5-fold CV\n" +
      "penalty) from the true rates and from the spike counts, and the true rates' co-bps and psth R2",
  );
  console.log(
    "behaviorExpression  generate_s  mean_rate_Hz  R2_true_rates  R2_spikes  co-bps_true  psth_R2_true",
  );
  const rows = [];
  for (const behaviorExpression of [1, 0.25]) {
    const start = performance.now();
    const dataset = reachDataset({ trials, seed, behaviorExpression });
    const generateSeconds = (performance.now() - start) / 1000;
    const truth = dataset.truth!;
    const r2TrueRates = decodeBehaviorR2(
      dataset,
      concat3([truth.heldinRates, truth.heldoutRates], 2),
    );
    const r2Spikes = decodeBehaviorR2(
      dataset,
      concat3([dataset.heldinSpikes, dataset.heldoutSpikes], 2),
    );
    const summary = summarizeDataset(dataset);
    // The ceiling a model can reach: the true rates scored with every NLB metric.
    const ceiling = evaluateNLB(dataset, {
      train: truthRates(dataset, "train"),
      eval: truthRates(dataset, "test"),
    });
    rows.push({
      behaviorExpression,
      generateSeconds,
      r2TrueRates,
      r2Spikes,
      summary,
      trueRatesNLB: ceiling,
    });
    console.log(
      [
        String(behaviorExpression).padEnd(18),
        generateSeconds.toFixed(2).padStart(10),
        summary.meanRateHz.toFixed(1).padStart(12),
        r2TrueRates.toFixed(3).padStart(13),
        r2Spikes.toFixed(3).padStart(9),
        ceiling.coBps!.toFixed(3).padStart(11),
        ceiling.psthR2!.toFixed(3).padStart(12),
      ].join("  "),
    );
  }
  console.log(
    "\nWith behavior weakly expressed, the true rates still carry it but single-bin spikes" +
      "\nhide it: the regime where a teacher given behavior should help a student model.",
  );
  const path = `${outDir}/demo.json`;
  await writeJsonAtomic(path, { backend, trials, seed, rows });
  console.log(`\nwrote ${path}`);
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
    `backend ${backend.backend}; ${summary.trials.train}/${summary.trials.val}/${summary.trials.test} ` +
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

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { demo, train };

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
