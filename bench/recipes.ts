/**
 * Training recipes, measured: train one model family with its recipe (or with overrides,
 * one change at a time) on the synthetic reach data and print where validation stopped
 * improving, the time it took and the test scores beside the smoothing floor and the true
 * rates. This is how the defaults in `lib/train/recipe.ts` were chosen.
 *
 *   deno run --allow-read --allow-write=out --allow-env --allow-ffi bench/recipes.ts \
 *     [--model ndt|rnn|lfads] [--size small|full] [--trials 600] [--bin-ms 20] [--seeds 0,1]
 *     [--data-seed 0] [--set key=value,...]   (recipe overrides, e.g. schedule=cosine,epochs=100)
 *
 * Writes one JSON line per run to out/recipes.jsonl as runs finish.
 * @module
 */

import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { dataReferences } from "../lib/distill/experiment.ts";
import { buildModel, type ModelSpec } from "../lib/distill/blend.ts";
import { evaluateNLB } from "../lib/metrics/nlb.ts";
import { truthRecovery } from "../lib/metrics/truth.ts";
import { COMPACT_MODELS, type ModelKind } from "../lib/models/model.ts";
import { predict } from "../lib/train/predict.ts";
import { recipeFor, type TrainingRecipe } from "../lib/train/recipe.ts";
import { fit } from "../lib/train/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "ndt" },
    size: { type: "string", default: "small" },
    trials: { type: "string", default: "600" },
    "bin-ms": { type: "string", default: "20" },
    seeds: { type: "string", default: "0" },
    "data-seed": { type: "string", default: "0" },
    expression: { type: "string", default: "0.5" },
    set: { type: "string", default: "" },
    out: { type: "string", default: "out" },
  },
});

const kind = values.model as ModelKind;
const spec: ModelSpec = values.size === "small" ? COMPACT_MODELS[kind] : kind;
const overrides: Record<string, unknown> = {};
for (const pair of values.set.split(",").filter(Boolean)) {
  const [key, value] = pair.split("=");
  if (key.startsWith("masking.")) {
    const masking = (overrides.masking ??= {}) as Record<string, unknown>;
    masking[key.slice(8)] = Number.isNaN(Number(value)) ? value : Number(value);
  } else overrides[key] = Number.isNaN(Number(value)) ? value : Number(value);
}
const recipe = recipeFor(kind, overrides as Partial<TrainingRecipe>);
const binMs = Number(values["bin-ms"]);
const trials = Number(values.trials);
const dataSeed = Number(values["data-seed"]);
const data = reachDataset({
  trials,
  seed: dataSeed,
  heldinNeurons: trials >= 2000 ? 137 : 100,
  heldoutNeurons: trials >= 2000 ? 45 : 30,
  binMs,
  bins: 700 / binMs,
  forwardBins: (trials >= 2000 ? 200 : 100) / binMs,
  moveOnsetBin: Math.round(250 / binMs),
  behaviorExpression: Number(values.expression),
});

const backend = await initBackend();
console.log(`backend ${backend.backend}; ${data.name}; recipe ${JSON.stringify(recipe)}`);
const refs = dataReferences(data, dataSeed);
const f = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(3));
console.log(
  `smoothing: co-bps ${f(refs.smoothing.coBps)} vel R2 ${f(refs.smoothing.velR2)}; ` +
    `true rates: co-bps ${f(refs.trueRates?.coBps)} vel R2 ${f(refs.trueRates?.velR2)}`,
);
await Deno.mkdir(values.out, { recursive: true });
for (const seed of values.seeds.split(",").map(Number)) {
  const model = buildModel(spec, data, seed);
  const result = await fit(model, data, { ...recipe, seed, progress: "none" });
  const train = await predict(model, data, "train", { latents: true });
  const test = await predict(model, data, "test", { latents: true });
  const nlb = evaluateNLB(data, { train, eval: test });
  const truth = truthRecovery(data, { train, eval: test });
  model.dispose();
  const row = {
    model: kind,
    size: values.size,
    trials,
    binMs,
    dataSeed,
    seed,
    set: values.set,
    status: result.status,
    epochsRun: result.epochsRun,
    bestEpoch: (result.best?.epoch ?? -1) + 1,
    seconds: Math.round(result.seconds),
    coBps: nlb.coBps,
    velR2: nlb.velR2,
    psthR2: nlb.psthR2,
    fpBps: nlb.fpBps,
    heldinR2: truth.heldinR2,
    heldoutR2: truth.heldoutR2,
    latentR2: truth.latentR2,
    smoothing: refs.smoothing,
    trueRates: refs.trueRates,
  };
  console.log(
    `${kind} ${values.set || "recipe"} seed ${seed}: ${result.status} after ${result.epochsRun} ` +
      `epochs (best ${row.bestEpoch}), ${row.seconds} s; co-bps ${f(nlb.coBps)} (${
        (100 * nlb.coBps! / refs.trueRates!.coBps!).toFixed(0)
      }% of truth) vel R2 ${f(nlb.velR2)} psth R2 ${f(nlb.psthR2)} fp-bps ${f(nlb.fpBps)} ` +
      `rates R2 ${f(truth.heldinR2)}/${f(truth.heldoutR2)} latent R2 ${f(truth.latentR2)}`,
  );
  await Deno.writeTextFile(`${values.out}/recipes.jsonl`, JSON.stringify(row) + "\n", {
    append: true,
  });
}
