import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { subsetTrials, trialsInSplit } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { poissonNLL, truthRates } from "../../lib/metrics/nlb.ts";
import { createModel, type ModelConfigInput, type SequenceModel } from "../../lib/models/model.ts";
import { dataShape, privilegedSpec, privilegedWidth } from "../../lib/train/batch.ts";
import { loadModel, modelWeights, saveCheckpoint } from "../../lib/train/checkpoint.ts";
import { predict } from "../../lib/train/predict.ts";
import { truthRecovery } from "../../lib/metrics/truth.ts";
import { fit, type FitOptions } from "../../lib/train/trainer.ts";

await initBackend("wasm");

const DATA = reachDataset({
  trials: 80,
  heldinNeurons: 14,
  heldoutNeurons: 5,
  bins: 20,
  forwardBins: 4,
  binMs: 20,
  moveOnsetBin: 6,
  seed: 2,
});
const SMALL_NDT = { kind: "ndt", dModel: 16, layers: 1, heads: 2, feedForward: 32 } as const;
const QUIET: FitOptions = { progress: "none", batchSize: 16 };

function ndt(options: Partial<ModelConfigInput> = {}): SequenceModel {
  return createModel({ ...SMALL_NDT, ...dataShape(DATA), ...options } as ModelConfigInput);
}

async function weightsOf(model: SequenceModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of await modelWeights(model)) out.set(name, t.data as Float32Array);
  return out;
}

Deno.test("fit: the loss falls, validation improves, no tensor leaks", async () => {
  const before = tf.memory().numTensors;
  const model = ndt();
  const afterBuild = tf.memory().numTensors;
  const result = await fit(model, DATA, { ...QUIET, epochs: 8, learningRate: 3e-3 });
  const losses = result.history.map((h) => h.trainLoss);
  assert.ok(losses.at(-1)! < losses[0], `train loss ${losses.map((l) => l.toFixed(3))}`);
  const val = result.history.map((h) => h.validation!.loss);
  assert.ok(Math.min(...val) < val[0] - 0.005, `val loss ${val.map((l) => l.toFixed(4))}`);
  const co = result.history.map((h) => h.validation!.coBps);
  assert.ok(Math.max(...co) > co[0] + 0.05, `val co-bps ${co.map((c) => c.toFixed(3))}`);
  assert.equal(result.status, "completed");
  assert.equal(result.best!.value, Math.max(...co));
  // Constant tensor count after every epoch, and nothing left once fit returns.
  assert.equal(new Set(result.history.map((h) => h.tensors)).size, 1);
  assert.equal(tf.memory().numTensors, afterBuild);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("fit: a tiny dataset is overfit (train likelihood beats the true rates)", async () => {
  const tiny = subsetTrials(DATA, trialsInSplit(DATA, "train").slice(0, 6));
  const tinyAll = { ...tiny, split: tiny.split.map(() => "train" as const) };
  const model = ndt({ dModel: 32, feedForward: 64, dropout: 0, attentionDropout: 0 });
  await fit(model, tinyAll, {
    ...QUIET,
    epochs: 300,
    learningRate: 1e-2,
    valSplit: null,
    masking: { mode: "none" },
    weightDecay: 0,
  });
  const rates = await predict(model, tinyAll, "train");
  const truth = truthRates(tinyAll, "train");
  const model_ = poissonNLL(rates.heldout, tinyAll.heldoutSpikes);
  const true_ = poissonNLL(truth.heldout, tinyAll.heldoutSpikes);
  assert.ok(
    model_ < true_,
    `model NLL ${model_.toFixed(1)} should be below the truth's ${true_.toFixed(1)}`,
  );
  model.dispose();
});

Deno.test("fit: a teacher given behavior reaches a lower validation loss than the same model without it", async () => {
  const data = reachDataset({
    trials: 160,
    heldinNeurons: 10,
    heldoutNeurons: 8,
    bins: 20,
    forwardBins: 0,
    binMs: 20,
    moveOnsetBin: 6,
    behaviorExpression: 2,
    seed: 5,
  });
  const base = { ...SMALL_NDT, ...dataShape(data) } as ModelConfigInput;
  const spec = privilegedSpec(data, "behavior");
  const options: FitOptions = { ...QUIET, epochs: 12, learningRate: 3e-3, monitor: "loss" };
  const student = createModel(base);
  const teacher = createModel(
    { ...base, privilegedDim: privilegedWidth(spec), privileged: spec } as ModelConfigInput,
  );
  const s = await fit(student, data, options);
  const t = await fit(teacher, data, options);
  assert.ok(
    t.best!.value < s.best!.value,
    `teacher val loss ${t.best!.value.toFixed(4)} vs without behavior ${s.best!.value.toFixed(4)}`,
  );
  student.dispose();
  teacher.dispose();
});

Deno.test("fit: the same seed gives the same weights; another seed does not", async () => {
  const run = async (seed: number) => {
    const model = ndt();
    await fit(model, DATA, { ...QUIET, epochs: 2, seed });
    const w = await weightsOf(model);
    model.dispose();
    return w;
  };
  const a = await run(1), b = await run(1), c = await run(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("fit: resuming from a checkpoint gives the same weights as an uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options: FitOptions = { ...QUIET, epochs: 4, seed: 3, patience: 100 };
    const whole = ndt();
    const wholeResult = await fit(whole, DATA, options);

    const first = ndt();
    const controller = new AbortController();
    const stopped = await fit(first, DATA, {
      ...options,
      checkpointDir: dir,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === "epoch" && e.epoch === 1) controller.abort();
      },
    });
    assert.equal(stopped.status, "aborted");
    assert.equal(stopped.epochsRun, 2);
    first.dispose();

    const second = ndt({ seed: 99 }); // different initial weights: the checkpoint must win
    const resumed = await fit(second, DATA, { ...options, checkpointDir: dir, resume: true });
    assert.equal(resumed.status, "completed");
    assert.equal(resumed.epochsRun, 4);
    assert.equal(resumed.steps, wholeResult.steps);
    assert.deepEqual(
      resumed.history.map((h) => h.trainLoss),
      wholeResult.history.map((h) => h.trainLoss),
    );
    assert.deepEqual(await weightsOf(second), await weightsOf(whole));
    whole.dispose();
    second.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit: save then load gives identical predictions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = ndt();
    await fit(model, DATA, { ...QUIET, epochs: 2 });
    await saveCheckpoint(dir, model, { metrics: { note: "test" } });
    const { model: loaded, metrics } = await loadModel(dir);
    assert.deepEqual(metrics, { note: "test" });
    const a = await predict(model, DATA, "test"), b = await predict(loaded, DATA, "test");
    assert.deepEqual(b.heldout.data, a.heldout.data);
    assert.deepEqual(b.forwardHeldin.data, a.forwardHeldin.data);
    model.dispose();
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit: a non-finite loss stops training and keeps the best weights", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = ndt();
    const result = await fit(model, DATA, {
      ...QUIET,
      epochs: 5,
      checkpointDir: dir,
      // Poison the loss from the third epoch on.
      objective: {
        loss: (context, base) => ({
          total: context.epoch >= 2 ? tf.mul(base, NaN) as tf.Scalar : base,
          terms: {},
        }),
      },
    });
    assert.equal(result.status, "diverged");
    assert.match(result.message, /loss became NaN at epoch 3, step \d+/);
    assert.match(result.message, /best weights \(epoch [12]\)/);
    assert.equal(result.epochsRun, 2);
    const best = await loadModel(`${dir}/best`);
    assert.deepEqual(await weightsOf(model), await weightsOf(best.model));
    const rates = await predict(model, DATA, "val");
    assert.ok(rates.heldout.data.every(Number.isFinite));
    model.dispose();
    best.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit: early stopping after `patience` epochs without improvement", async () => {
  const model = ndt();
  // With a zero learning rate nothing improves after the first epoch.
  const result = await fit(model, DATA, { ...QUIET, epochs: 10, learningRate: 0, patience: 2 });
  assert.equal(result.status, "early-stopped");
  assert.equal(result.epochsRun, 3);
  assert.equal(result.best!.epoch, 0);
  assert.match(result.message, /did not improve for 2 epochs/);
  model.dispose();
});

Deno.test("fit: progress events reach the callback with losses and validation", async () => {
  const model = ndt();
  const kinds: string[] = [];
  let lastEpoch:
    | { validation: Record<string, number> | null; terms: Record<string, number> }
    | null = null;
  await fit(model, DATA, {
    ...QUIET,
    epochs: 2,
    onProgress: (e) => {
      kinds.push(e.kind);
      if (e.kind === "epoch") lastEpoch = e;
    },
  });
  assert.equal(kinds.filter((k) => k === "epoch").length, 2);
  assert.equal(kinds.at(-1), "end");
  assert.ok(kinds.filter((k) => k === "step").length >= 2);
  assert.ok(Number.isFinite(lastEpoch!.validation!.coBps));
  assert.ok(Number.isFinite(lastEpoch!.terms.poisson));
  model.dispose();
});

Deno.test("fit: bad options and mismatched data give clear errors", async () => {
  const model = ndt();
  await assert.rejects(
    () => fit(model, DATA, { ...QUIET, epochs: 0 }),
    /recipe.epochs must be an integer >= 1, got 0/,
  );
  const noVal = { ...DATA, split: DATA.split.map((s) => (s === "val" ? "train" as const : s)) };
  await assert.rejects(() => fit(model, noVal, QUIET), /validation split "val" has no trials/);
  const other = reachDataset({
    trials: 20,
    heldinNeurons: 9,
    heldoutNeurons: 5,
    bins: 20,
    forwardBins: 4,
    moveOnsetBin: 6,
    seed: 1,
  });
  await assert.rejects(() => fit(model, other, QUIET), ArgumentError);
  await assert.rejects(
    () => fit(model, other, QUIET),
    /built for heldinNeurons = 14 but dataset .* has 9/,
  );
  model.dispose();
});

Deno.test("fit: NDT's default masking trains the predictions at visible bins", async () => {
  // predict() shows the model every bin, so its held-in rates come from the visible path.
  // Masking that zeroes every chosen bin never trains that path; keeping a share of the
  // chosen bins unchanged (the default) does.
  const data = reachDataset({
    trials: 200,
    heldinNeurons: 40,
    heldoutNeurons: 10,
    bins: 20,
    forwardBins: 4,
    binMs: 20,
    moveOnsetBin: 6,
    seed: 2,
  });
  const heldinR2 = async (model: SequenceModel) =>
    truthRecovery(data, { eval: await predict(model, data, "test") }).heldinR2;
  const options = { ...QUIET, epochs: 40, learningRate: 5e-3, patience: 100 };
  const build = () =>
    createModel({ ...SMALL_NDT, ...dataShape(data), dropout: 0.1 } as ModelConfigInput);
  const kept = build();
  await fit(kept, data, { ...options, epochs: 1 });
  const early = await heldinR2(kept);
  await fit(kept, data, options);
  const zeroed = build();
  await fit(zeroed, data, { ...options, masking: { zeroFraction: 1, randomFraction: 0 } });
  const [withKept, withZeroOnly] = [await heldinR2(kept), await heldinR2(zeroed)];
  kept.dispose();
  zeroed.dispose();
  assert.ok(withKept > early + 0.1, `held-in R2 ${early.toFixed(3)} -> ${withKept.toFixed(3)}`);
  assert.ok(
    withKept > withZeroOnly + 0.05,
    `held-in R2 vs the true rates: ${withKept.toFixed(3)} (default) vs ${
      withZeroOnly.toFixed(3)
    } (zero only)`,
  );
});
