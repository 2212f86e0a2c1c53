import { behaviorScaling } from "../../lib/data/dataset.ts";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { trialsInSplit } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import type { tf } from "../../lib/deps.ts";
import {
  buildModel,
  distillationObjective,
  distillStudent,
  teacherTargets,
  trainTeacher,
} from "../../lib/distill/blend.ts";
import { createStrategy } from "../../lib/distill/strategies.ts";
import { gatherBatch } from "../../lib/train/batch.ts";
import { predict } from "../../lib/train/predict.ts";
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
  behaviorExpression: 0.25,
  seed: 3,
});
const SPEC = { kind: "ndt", dModel: 16, layers: 1, heads: 2, feedForward: 32 } as const;
const QUIET: FitOptions = { progress: "none", batchSize: 16, learningRate: 3e-3 };
const TRAIN = trialsInSplit(DATA, "train");

async function flatWeights(model: { weights: ReadonlyMap<string, tf.Variable> }) {
  const out: number[] = [];
  for (const v of model.weights.values()) out.push(...await v.data());
  return out;
}

const { teacher } = await trainTeacher(DATA, SPEC, { ...QUIET, epochs: 4 });

Deno.test("teacherTargets: the teacher's eval-mode log-rates and latents, row per trial", async () => {
  const targets = await teacherTargets(teacher, DATA, TRAIN);
  assert.equal(targets.length, 24);
  assert.equal(targets.neurons, 19);
  assert.equal(targets.featureWidth, 16);
  assert.equal(targets.logRates.length, TRAIN.length * 24 * 19);
  // The same numbers predict gives (rates = exp log-rates), trial by trial.
  const rates = await predict(teacher, DATA, TRAIN);
  const row = targets.rows.get(TRAIN[5])!;
  const want = rates.heldout.data[(5 * 20 + 3) * 5 + 2];
  const got = Math.exp(targets.logRates[(row * 24 + 3) * 19 + 14 + 2]);
  assert.ok(Math.abs(got - want) / want < 1e-4, `${got} vs ${want}`);
  const ratesOnly = await teacherTargets(teacher, DATA, TRAIN, { featureLayer: null });
  assert.deepEqual(ratesOnly.logRates, targets.logRates);
  assert.deepEqual([ratesOnly.features.length, ratesOnly.featureWidth], [0, 0]);
  assert.throws(
    () =>
      distillationObjective(
        createStrategy("feature", { studentWidth: 16, teacherWidth: 16 }),
        ratesOnly,
      ),
    /the feature strategy needs the teacher's features/,
  );
  await assert.rejects(
    () => teacherTargets(teacher, DATA, TRAIN, { featureLayer: 7 }),
    /hidden-layer index/,
  );
});

Deno.test("distillStudent trains the student, logs both terms and never changes the teacher", async () => {
  const before = await flatWeights(teacher);
  for (const strategy of ["hard", "soft", "feature", "correlation"] as const) {
    const { student, fit: result } = await distillStudent(DATA, SPEC, teacher, {
      strategy,
      fit: { ...QUIET, epochs: 2 },
    });
    const terms = result.history[0].terms;
    for (const name of ["poisson", "base", "distill"]) {
      assert.ok(name in terms, `${strategy}: ${name}`);
    }
    assert.ok(strategy === "soft" ? "soft" in terms : "hard" in terms, strategy);
    assert.ok(Number.isFinite(result.history[1].trainLoss));
    assert.equal(student.config.privilegedDim, 0, "a student sees spikes only");
    student.dispose();
  }
  assert.deepEqual(await flatWeights(teacher), before, "the teacher's weights are untouched");
});

Deno.test("distillation pulls the student toward the teacher (hard, alpha 0, vs the baseline)", async () => {
  const targets = await teacherTargets(teacher, DATA, TRAIN);
  const distance = async (model: ReturnType<typeof buildModel>) => {
    const p = await predict(model, DATA, TRAIN);
    let sum = 0, count = 0;
    TRAIN.forEach((trial, i) => {
      const row = targets.rows.get(trial)!;
      for (let t = 0; t < 20; t++) {
        for (let n = 0; n < 5; n++) {
          const d = Math.log(p.heldout.data[(i * 20 + t) * 5 + n]) -
            targets.logRates[(row * 24 + t) * 19 + 14 + n];
          sum += d * d;
          count++;
        }
      }
    });
    return sum / count;
  };
  const options = { ...QUIET, epochs: 10, valSplit: null, seed: 1 };
  const baseline = buildModel(SPEC, DATA, 1);
  await fit(baseline, DATA, options);
  const { student } = await distillStudent(DATA, SPEC, teacher, {
    strategy: "hard",
    alpha: 0,
    fit: options,
  }, targets);
  const [b, s] = [await distance(baseline), await distance(student)];
  assert.ok(s < 0.8 * b, `student ${s} vs baseline ${b}`);
  baseline.dispose();
  student.dispose();
});

Deno.test("feature distillation trains its projection", async () => {
  const targets = await teacherTargets(teacher, DATA, TRAIN);
  const strategy = createStrategy("feature", { studentWidth: 16, teacherWidth: 16 });
  const projection = strategy.variables.get("projection.weight")!;
  const start = Array.from(await projection.data());
  const student = buildModel(SPEC, DATA, 2);
  const result = await fit(student, DATA, {
    ...QUIET,
    epochs: 2,
    objective: distillationObjective(strategy, targets, { alpha: 0.5 }),
  });
  const end = Array.from(await projection.data());
  const moved = Math.max(...end.map((v, i) => Math.abs(v - start[i])));
  assert.ok(moved > 1e-4, `the projection moved by ${moved}`);
  assert.ok("feature" in result.history[0].terms);
  student.dispose();
  strategy.dispose();
});

Deno.test("distillationObjective rejects alpha outside [0, 1] and trials without targets", async () => {
  const targets = await teacherTargets(teacher, DATA, TRAIN.slice(0, 3));
  const strategy = createStrategy("hard");
  assert.throws(
    () => distillationObjective(strategy, targets, { alpha: 1.5 }),
    /alpha must be in \[0, 1\], got 1.5/,
  );
  const student = buildModel(SPEC, DATA, 0);
  await assert.rejects(
    () =>
      fit(student, DATA, {
        ...QUIET,
        epochs: 1,
        objective: distillationObjective(strategy, targets),
      }),
    /do not cover trial/,
  );
  student.dispose();
});

Deno.test("a condition teacher takes the one-hot condition", async () => {
  const { teacher: byCondition } = await trainTeacher(
    DATA,
    SPEC,
    { ...QUIET, epochs: 1 },
    "condition",
  );
  assert.equal(byCondition.config.privileged?.kind, "condition");
  assert.equal(byCondition.config.privilegedDim, new Set(DATA.condition).size);
  byCondition.dispose();
});

Deno.test("the teacher's privileged input: observed bins only, z-scored with train statistics, zero in the lag bins, NaN -> 0", () => {
  const batch = gatherBatch(DATA, TRAIN, teacher.config);
  // Observed bins only (the model pads the forward bins with zeros, in training and prediction).
  assert.equal(batch.privileged!.length, TRAIN.length * 20 * 2);
  // Behavior at bin t was measured at t + lag: the last lag bins' behavior lies in the
  // forward window, so the teacher gets zeros there.
  const lagBins = Math.round(DATA.behaviorLagMs / DATA.binMs);
  assert.ok(lagBins > 0 && lagBins < 20, `lag of ${lagBins} bins`);
  const { mean, std } = behaviorScaling(DATA, "train");
  TRAIN.forEach((trial, b) => {
    for (let t = 0; t < 20; t++) {
      for (let k = 0; k < 2; k++) {
        const got = batch.privileged![(b * 20 + t) * 2 + k];
        const want = t >= 20 - lagBins
          ? 0
          : (DATA.behavior.data[(trial * 20 + t) * 2 + k] - mean[k]) / std[k];
        assert.ok(
          Math.abs(got - want) < 1e-5,
          `trial ${trial} bin ${t} dim ${k}: ${got} vs ${want}`,
        );
      }
    }
  });
  const gappy = { ...DATA, behavior: { ...DATA.behavior, data: DATA.behavior.data.slice() } };
  gappy.behavior.data[0] = NaN;
  const first = gatherBatch(gappy, [0], teacher.config).privileged!;
  assert.equal(first[0], 0);
  assert.ok(first.every(Number.isFinite));
});
