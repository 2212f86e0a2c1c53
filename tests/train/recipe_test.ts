import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { createModel, MODEL_KINDS, type ModelConfigInput } from "../../lib/models/model.ts";
import { dataShape } from "../../lib/train/batch.ts";
import { recipeFor, RECIPES } from "../../lib/train/recipe.ts";
import { fit } from "../../lib/train/trainer.ts";

await initBackend("wasm");

Deno.test("recipeFor: each kind's recipe, overrides applied, masking merged", () => {
  for (const kind of MODEL_KINDS) assert.deepEqual(recipeFor(kind), RECIPES[kind]);
  const r = recipeFor("ndt", { epochs: 7, masking: { ratio: 0.5 }, learningRate: undefined });
  assert.equal(r.epochs, 7);
  assert.equal(r.learningRate, RECIPES.ndt.learningRate, "undefined leaves the default");
  assert.deepEqual(r.masking, { ...RECIPES.ndt.masking, ratio: 0.5 });
});

Deno.test("recipeFor rejects unknown fields and bad values, naming them", () => {
  assert.throws(
    () => recipeFor("ndt", { epoch: 3 } as never),
    (e: Error) => e instanceof ArgumentError && /unknown field "epoch"/.test(e.message),
  );
  assert.throws(() => recipeFor("ndt", { epochs: 0 }), /recipe.epochs must be an integer >= 1/);
  assert.throws(() => recipeFor("rnn", { decayFactor: 1.5 }), /decayFactor must be in \(0, 1\]/);
  assert.throws(() => recipeFor("rnn", { schedule: "step" as never }), /schedule must be/);
  assert.throws(() => recipeFor("lfads", { learningRate: Number.NaN }), /learningRate must be/);
  assert.throws(() => recipeFor("gru" as never), /model kind must be one of ndt, rnn, lfads/);
});

const DATA = reachDataset({
  trials: 60,
  heldinNeurons: 10,
  heldoutNeurons: 4,
  bins: 12,
  forwardBins: 2,
  binMs: 20,
  moveOnsetBin: 4,
  seed: 1,
});

function tinyNdt() {
  return createModel(
    {
      kind: "ndt",
      dModel: 8,
      layers: 1,
      heads: 2,
      feedForward: 8,
      ...dataShape(DATA),
    } as ModelConfigInput,
  );
}

Deno.test("fit: the plateau schedule halves the rate after decayPatience epochs without improvement", async () => {
  const model = tinyNdt();
  // A learning rate too small to change anything: validation never improves after epoch 1.
  const result = await fit(model, DATA, {
    epochs: 9,
    learningRate: 1e-12,
    warmupEpochs: 0,
    decayPatience: 2,
    decayFactor: 0.5,
    patience: 100,
    minLearningRateFactor: 0.2,
    progress: "none",
  });
  model.dispose();
  const rates = result.history.map((h) => h.learningRate / 1e-12);
  // The rate used in each epoch: it falls after every 2 epochs without a new best, floored at 0.2.
  const bestEpoch = result.best!.epoch;
  assert.ok(bestEpoch <= 1, `best epoch ${bestEpoch}`);
  assert.ok(Math.abs(rates[bestEpoch] - 1) < 1e-9);
  assert.ok(rates.at(-1)! >= 0.2 - 1e-9 && rates.at(-1)! < 0.3, `rates ${rates}`);
  for (let k = 1; k < rates.length; k++) assert.ok(rates[k] <= rates[k - 1] + 1e-12);
  assert.equal(result.status, "completed");
  assert.equal(result.converged, false, "spending the whole budget is not convergence");
  assert.equal(result.recipe.schedule, "plateau");
});

Deno.test("fit: early stopping ends a run on a plateau and reports it converged", async () => {
  const model = tinyNdt();
  const result = await fit(model, DATA, {
    epochs: 50,
    learningRate: 1e-12,
    patience: 3,
    progress: "none",
  });
  model.dispose();
  assert.equal(result.status, "early-stopped");
  assert.equal(result.converged, true);
  assert.ok(result.epochsRun < 10, `${result.epochsRun} epochs`);
  assert.equal(result.recipe.patience, 3);
});

Deno.test("fit: the cosine schedule anneals over the budget", async () => {
  const model = tinyNdt();
  const result = await fit(model, DATA, {
    epochs: 6,
    schedule: "cosine",
    warmupEpochs: 0,
    learningRate: 1e-3,
    minLearningRateFactor: 0,
    progress: "none",
  });
  model.dispose();
  const rates = result.history.map((h) => h.learningRate);
  for (let k = 1; k < rates.length; k++) assert.ok(rates[k] < rates[k - 1]);
  assert.ok(rates.at(-1)! < 0.1 * 1e-3);
});
