/**
 * Model acceptance benchmark: NDT and LFADS (and optionally the RNN) at their default
 * sizes, trained with their recipes (early stopping on val, plateau schedule) on the
 * synthetic reaching dataset at MC_Maze's size in 20 ms bins, against the smoothing
 * baseline and the true rates, scored on the test split with every NLB metric and by
 * ground-truth recovery. Writes `out/models.json`.
 *
 *   deno task bench:models   (or: deno run ... bench/models.ts [--epochs N] [--trials 2295] [--models ndt,lfads,rnn])
 * @module
 */

import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend.ts";
import { summarizeDataset } from "../lib/data/dataset.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { evaluateNLB, type NLBRecord, type RateSet, truthRates } from "../lib/metrics/nlb.ts";
import { truthRecovery, type TruthRecoveryRecord } from "../lib/metrics/truth.ts";
import { countParameters, createModel, type ModelKind } from "../lib/models/model.ts";
import { fitSmoothingBaseline } from "../lib/models/smoothing.ts";
import { dataShape } from "../lib/train/batch.ts";
import { predict } from "../lib/train/predict.ts";
import { fit } from "../lib/train/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string" },
    trials: { type: "string", default: "2295" },
    models: { type: "string", default: "ndt,lfads" },
    out: { type: "string", default: "out" },
    seed: { type: "string", default: "0" },
  },
});
// The recipe's budget unless given (early stopping normally ends runs first).
const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
const trials = Number(values.trials), seed = Number(values.seed);
const kinds = values.models!.split(",") as ModelKind[];

const backend = await initBackend();
// Moderate size: MC_Maze's neurons and trial structure at 20 ms bins (NLB's mc_maze_20
// resolution): 2295 trials, 137 + 45 neurons, 35 + 10 bins.
const data = reachDataset({ trials, binMs: 20, bins: 35, forwardBins: 10, moveOnsetBin: 12, seed });
const summary = summarizeDataset(data);
console.log(
  `backend ${backend.backend}; ${summary.trials.train}/${summary.trials.val}/${summary.trials.test} ` +
    `train/val/test trials, ${summary.bins}+${summary.forwardBins} bins of ${summary.binMs} ms, ` +
    `${summary.heldinNeurons}+${summary.heldoutNeurons} neurons`,
);

// Report order: the ceiling, the floor, then the models.
const order = (name: string) => ["true rates", "smoothing"].indexOf(name) >>> 0;

interface Row {
  name: string;
  seconds: number;
  parameters: number | null;
  epochs: number | null;
  converged: boolean | null;
  record: NLBRecord;
  truth: TruthRecoveryRecord;
}
const rows: Row[] = [];
const score = (train: RateSet, test: RateSet) => ({
  record: evaluateNLB(data, { train, eval: test }),
  truth: truthRecovery(data, { train, eval: test }),
});

rows.push({
  name: "true rates",
  seconds: 0,
  parameters: null,
  epochs: null,
  converged: null,
  ...score(truthRates(data, "train"), truthRates(data, "test")),
});

let start = performance.now();
for (const kind of kinds) {
  const model = createModel({ kind, ...dataShape(data), seed });
  start = performance.now();
  const result = await fit(model, data, { epochs, seed, label: kind });
  const seconds = (performance.now() - start) / 1000;
  rows.push({
    name: kind,
    seconds,
    parameters: countParameters(model),
    epochs: result.epochsRun,
    converged: result.converged,
    ...score(
      await predict(model, data, "train", { latents: true }),
      await predict(model, data, "test", { latents: true }),
    ),
  });
  model.dispose();
}

start = performance.now();
const smoothing = fitSmoothingBaseline(data);
rows.push({
  name: "smoothing",
  seconds: (performance.now() - start) / 1000,
  parameters: smoothing.weights.length,
  epochs: null,
  converged: null,
  ...score(smoothing.predict(data, "train"), smoothing.predict(data, "test")),
});

rows.sort((a, b) => order(a.name) - order(b.name));

const truth = rows[0].record, floor = rows[1].record;
const f = (v: number | null, digits = 3) => (v === null ? "-" : v.toFixed(digits));
console.log(
  "\nmodel        co-bps  %truth  vel R2  psth R2  fp-bps  rates R2 in/out  latent R2  seconds  epochs  checks",
);
for (const row of rows) {
  const r = row.record;
  const checks = row.parameters !== null && row.name !== "smoothing"
    ? [
      r.coBps! >= 0.9 * truth.coBps! ? "co-bps>=90% of truth" : "co-bps<90% of truth!",
      r.coBps! > floor.coBps! ? "beats smoothing co-bps" : "below smoothing co-bps!",
      r.velR2! > floor.velR2! ? "beats smoothing vel R2" : "below smoothing vel R2!",
    ].join(", ")
    : "";
  console.log(
    [
      row.name.padEnd(11),
      f(r.coBps).padStart(7),
      `${((100 * r.coBps!) / truth.coBps!).toFixed(0)}%`.padStart(6),
      f(r.velR2).padStart(7),
      f(r.psthR2).padStart(8),
      f(r.fpBps).padStart(7),
      `${f(row.truth.heldinR2)}/${f(row.truth.heldoutR2)}`.padStart(16),
      f(row.truth.latentR2).padStart(10),
      row.seconds.toFixed(0).padStart(8),
      (String(row.epochs ?? "-") + (row.converged === false ? "*" : "")).padStart(7),
      checks,
    ].join("  "),
  );
}
if (rows.some((r) => r.converged === false)) {
  console.log("* spent the whole epoch budget: validation may still have been improving");
}
await writeJsonAtomic(`${values.out}/models.json`, { backend, summary, epochs, rows });
console.log(`\nwrote ${values.out}/models.json`);
