import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { behaviorScaling } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { tf } from "../../lib/deps.ts";
import { createModel, type ModelConfigInput } from "../../lib/models/model.ts";
import { dataShape } from "../../lib/train/batch.ts";
import { behaviorTargetObjective } from "../../lib/train/multitask.ts";
import type { LossContext } from "../../lib/train/trainer.ts";

await initBackend("wasm");

const DATA = reachDataset({
  trials: 30,
  heldinNeurons: 8,
  heldoutNeurons: 3,
  bins: 10,
  forwardBins: 2,
  binMs: 20,
  moveOnsetBin: 3,
  seed: 5,
});

function model() {
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

Deno.test("behaviorTargetObjective: base + weight x MSE of the head's output against z-scored behavior, NaN left out", () => {
  // One behavior entry is NaN: it must not count.
  const data = { ...DATA, behavior: { ...DATA.behavior, data: DATA.behavior.data.slice() } };
  data.behavior.data[0] = NaN;
  const m = model();
  const objective = behaviorTargetObjective(m, data, { weight: 0.5 });
  // A zero head predicts 0, so the MSE is the mean square of the z-scored behavior.
  for (const v of objective.variables.values()) v.assign(tf.zerosLike(v));
  const trials = [0, 4, 7];
  const { mean, std } = behaviorScaling(data, "train");
  let sum = 0, count = 0;
  for (const trial of trials) {
    for (let t = 0; t < 10; t++) {
      for (let k = 0; k < 2; k++) {
        const v = data.behavior.data[(trial * 10 + t) * 2 + k];
        if (Number.isNaN(v)) continue;
        sum += ((v - mean[k]) / std[k]) ** 2;
        count++;
      }
    }
  }
  assert.equal(count, 3 * 10 * 2 - 1);
  const [total, behavior] = tf.tidy(() => {
    const outputs = m.forward({ heldin: tf.zeros([3, 10, 8]) }, { training: false });
    const context = { outputs, batch: { trials } } as unknown as LossContext;
    const { total, terms } = objective.loss(context, tf.scalar(1.25));
    return [total.dataSync()[0], terms.behavior.dataSync()[0]];
  });
  assert.ok(
    Math.abs(behavior - sum / count) < 1e-5 * (sum / count),
    `${behavior} vs ${sum / count}`,
  );
  assert.ok(Math.abs(total - (1.25 + 0.5 * behavior)) < 1e-5);
  objective.dispose();
  m.dispose();
});

Deno.test("behaviorTargetObjective rejects a bad weight and data without behavior", () => {
  const m = model();
  assert.throws(() => behaviorTargetObjective(m, DATA, { weight: -1 }), /multitask weight must be/);
  const noBehavior = {
    ...DATA,
    behavior: { data: new Float32Array(0), shape: [30, 10, 0] as [number, number, number] },
    behaviorNames: [],
  };
  assert.throws(
    () => behaviorTargetObjective(m, noBehavior, {}),
    /has no behavior to use as a target/,
  );
  m.dispose();
});
