import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { createModel } from "../../lib/models/model.ts";
import { RNN_DEFAULTS } from "../../lib/models/rnn.ts";
import { Random } from "../../lib/random.ts";
import {
  BATCH,
  BINS,
  counts,
  FORWARD,
  HELDIN,
  LENGTH,
  NEURONS,
  poissonLoss,
  run,
  SHAPE,
  tensorsOf,
  throwsArgument,
  values,
} from "./recurrent_helpers.ts";

await initBackend("cpu");

const SIZES = { encoderDim: 8, generatorDim: 8, factorDim: 3 };
const BEHAVIOR = { kind: "behavior" as const, names: ["a", "b"], mean: [0, 0], std: [1, 1] };

function normals(shape: [number, number, number], seed: number): tf.Tensor3D {
  const rng = new Random(seed);
  const values = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rng.normal());
  return tf.tensor3d(values, shape);
}

Deno.test("rnn: output shapes and hidden layers", () => {
  const model = createModel({ kind: "rnn", ...SHAPE, ...SIZES });
  const heldin = counts(BATCH, BINS, HELDIN, 1);
  const out = run(model, { heldin }, false);
  assert.equal(model.latentDim, SIZES.factorDim);
  assert.deepEqual(out.logRates.shape, [BATCH, LENGTH, NEURONS]);
  assert.deepEqual(out.latents.shape, [BATCH, LENGTH, SIZES.factorDim]);
  assert.deepEqual(out.hidden.map((h) => h.shape), [
    [BATCH, LENGTH, 2 * SIZES.encoderDim],
    [BATCH, LENGTH, SIZES.generatorDim],
    [BATCH, LENGTH, SIZES.factorDim],
  ]);
  assert.deepEqual(Object.keys(out.auxiliary), []);
  // Forward bins are predicted, finite, and not a constant copy of nothing.
  const forward = tf.tidy(() => out.logRates.slice([0, BINS, 0], [BATCH, FORWARD, NEURONS]));
  assert.ok(forward.dataSync().every(Number.isFinite));
  assert.ok(tf.tidy(() => tf.moments(forward).variance.dataSync()[0]) > 0);
  assert.deepEqual(
    [...model.weights.keys()].filter((k) => k.startsWith("readout")),
    ["readout.weight", "readout.bias"],
  );
  assert.ok(model.weights.has("encoder.forward.input.weight"));
  tf.dispose([...tensorsOf(out), forward, heldin]);
  model.dispose();
});

Deno.test("rnn: eval is deterministic, training noise follows the pass seed", () => {
  const model = createModel({ kind: "rnn", ...SHAPE, ...SIZES, dropout: 0.3 });
  const heldin = counts(BATCH, BINS, HELDIN, 2);
  assert.deepEqual(values(model, { heldin }, false), values(model, { heldin }, false));
  assert.deepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, true, 5));
  assert.notDeepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, true, 6));
  assert.notDeepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, false));
  heldin.dispose();
  model.dispose();
});

Deno.test("rnn: the config seed fixes the initial weights", () => {
  const a = createModel({ kind: "rnn", ...SHAPE, ...SIZES, seed: 7 });
  const b = createModel({ kind: "rnn", ...SHAPE, ...SIZES, seed: 7 });
  const c = createModel({ kind: "rnn", ...SHAPE, ...SIZES, seed: 8 });
  assert.deepEqual([...a.weights.keys()], [...b.weights.keys()]);
  for (const [name, w] of a.weights) {
    assert.deepEqual(w.dataSync(), b.weights.get(name)!.dataSync(), name);
  }
  const name = "generator.recurrent.weight";
  assert.notDeepEqual(a.weights.get(name)!.dataSync(), c.weights.get(name)!.dataSync());
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("rnn: a teacher reads its privileged input and requires it", () => {
  const model = createModel({
    kind: "rnn",
    ...SHAPE,
    ...SIZES,
    privilegedDim: 2,
    privileged: BEHAVIOR,
  });
  const heldin = counts(BATCH, BINS, HELDIN, 3);
  const p1 = normals([BATCH, BINS, 2], 1), p2 = normals([BATCH, BINS, 2], 2);
  const out1 = values(model, { heldin, privileged: p1 }, false);
  assert.deepEqual(
    [out1.length, out1[0].length, out1[0][0].length],
    [BATCH, LENGTH, NEURONS],
  );
  assert.notDeepEqual(out1, values(model, { heldin, privileged: p2 }, false));
  throwsArgument(() => run(model, { heldin }, false), "privileged");
  tf.dispose([heldin, p1, p2]);
  model.dispose();
});

Deno.test("rnn: gradients reach every weight", () => {
  const model = createModel({ kind: "rnn", ...SHAPE, ...SIZES, l2Scale: 0.01 });
  const heldin = counts(BATCH, BINS, HELDIN, 4);
  const y = counts(BATCH, LENGTH, NEURONS, 5);
  const weights = [...model.weights.values()];
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward({ heldin }, { training: true, seed: 1 });
    return poissonLoss(out.logRates, y);
  }, weights);
  for (const [name, w] of model.weights) {
    const g = grads[w.name];
    assert.ok(g, `no gradient for ${name}`);
    const data = g.dataSync();
    assert.ok(data.every(Number.isFinite), `non-finite gradient for ${name}`);
    assert.ok(data.some((v) => v !== 0), `zero gradient for ${name}`);
  }
  tf.dispose([value, grads, heldin, y]);
  model.dispose();
});

Deno.test("rnn: Adam steps reduce the Poisson loss", () => {
  const model = createModel({ kind: "rnn", ...SHAPE, ...SIZES, dropout: 0 });
  const heldin = counts(BATCH, BINS, HELDIN, 6);
  const y = counts(BATCH, LENGTH, NEURONS, 6);
  const loss = () => poissonLoss(model.forward({ heldin }, { training: true }).logRates, y);
  const optimizer = tf.train.adam(0.01);
  const before = tf.tidy(() => loss().dataSync()[0]);
  for (let i = 0; i < 30; i++) {
    optimizer.minimize(loss, false, [...model.weights.values()]);
  }
  const after = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(after < 0.9 * before, `loss ${before} -> ${after}`);
  optimizer.dispose();
  tf.dispose([heldin, y]);
  model.dispose();
});

Deno.test("rnn: no tensors leak from forward, regularizers or dispose", () => {
  const start = tf.memory().numTensors;
  const model = createModel({ kind: "rnn", ...SHAPE, ...SIZES, l2Scale: 0.5 });
  const heldin = counts(BATCH, BINS, HELDIN, 7);
  const before = tf.memory().numTensors;
  const out = run(model, { heldin }, true, 2);
  const terms = tf.tidy(() => model.regularizers(out, { epoch: 3, step: 30 }));
  assert.deepEqual(Object.keys(terms), ["l2"]);
  tf.dispose([...tensorsOf(out), terms]);
  assert.equal(tf.memory().numTensors, before);
  heldin.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

Deno.test("rnn: regularizers are empty by default and l2 is the scaled mean square", () => {
  const plain = createModel({ kind: "rnn", ...SHAPE, ...SIZES });
  const heldin = counts(BATCH, BINS, HELDIN, 8);
  const out = run(plain, { heldin }, false);
  assert.deepEqual(plain.regularizers(out, { epoch: 0, step: 0 }), {});
  const scaled = createModel({ kind: "rnn", ...SHAPE, ...SIZES, l2Scale: 0.25 });
  let sum = 0, count = 0;
  for (const [name, w] of scaled.weights) {
    if (!name.endsWith(".recurrent.weight")) continue;
    for (const v of w.dataSync()) sum += v * v;
    count += w.size;
  }
  assert.equal(count, 2 * 8 * 24 + 8 * 24);
  const l2 = tf.tidy(() => scaled.regularizers(out, { epoch: 0, step: 0 }).l2.dataSync()[0]);
  assert.ok(Math.abs(l2 - 0.25 * sum / count) < 1e-6, `${l2} vs ${0.25 * sum / count}`);
  tf.dispose([...tensorsOf(out), heldin]);
  plain.dispose();
  scaled.dispose();
});

Deno.test("rnn: bad options throw an ArgumentError naming the field", () => {
  const bad = (options: Record<string, unknown>) => () =>
    createModel({ kind: "rnn", ...SHAPE, ...options } as Parameters<typeof createModel>[0]);
  throwsArgument(bad({ dropout: 1 }), "dropout");
  throwsArgument(bad({ dropout: -0.1 }), "dropout");
  throwsArgument(bad({ encoderDim: 0 }), "encoderDim");
  throwsArgument(bad({ generatorDim: 2.5 }), "generatorDim");
  throwsArgument(bad({ factorDim: -3 }), "factorDim");
  throwsArgument(bad({ clip: 0 }), "clip");
  throwsArgument(bad({ l2Scale: -1 }), "l2Scale");
  assert.ok(Object.keys(RNN_DEFAULTS).includes("l2Scale"));
});
