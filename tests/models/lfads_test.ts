import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { LFADS_DEFAULTS } from "../../lib/models/lfads.ts";
import { createModel, type ModelOutputs, type SequenceModel } from "../../lib/models/model.ts";
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

const SIZES = {
  icEncoderDim: 8,
  icDim: 4,
  generatorDim: 8,
  ciEncoderDim: 4,
  controllerDim: 4,
  inferredInputDim: 2,
  factorDim: 3,
};
const BEHAVIOR = { kind: "behavior" as const, names: ["a", "b"], mean: [0, 0], std: [1, 1] };

function normals(shape: number[], seed: number, scale = 1, offset = 0): number[] {
  const rng = new Random(seed);
  return Array.from(
    { length: shape.reduce((a, b) => a * b, 1) },
    () => offset + scale * rng.normal(),
  );
}

function close(actual: number, expected: number, what: string, tolerance = 1e-5): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

/** Outputs carrying only the posterior parameters the regularizers read. */
function fakeOutputs(auxiliary: Record<string, number[]>, coShape: number[]): ModelOutputs {
  const empty = tf.zeros([BATCH, LENGTH, 1]) as tf.Tensor3D;
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, data] of Object.entries(auxiliary)) {
    tensors[name] = name.startsWith("ic")
      ? tf.tensor2d(data, [coShape[0], data.length / coShape[0]])
      : tf.tensor(data, coShape);
  }
  return { logRates: empty, latents: empty, hidden: [], auxiliary: tensors };
}

/** KL(N(m, s^2) || N(0, p)) = log(sqrt(p) / s) + (s^2 + m^2) / (2p) - 1/2, in float64. */
function klReference(mean: number[], logVar: number[], priorVar: number): number {
  let total = 0;
  for (let i = 0; i < mean.length; i++) {
    const s = Math.sqrt(Math.exp(logVar[i]));
    total += Math.log(Math.sqrt(priorVar) / s) + (s * s + mean[i] ** 2) / (2 * priorVar) - 0.5;
  }
  return total;
}

Deno.test("lfads: output shapes, auxiliary posteriors and weight names", () => {
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES });
  const heldin = counts(BATCH, BINS, HELDIN, 1);
  const out = run(model, { heldin }, true, 1);
  assert.equal(model.latentDim, SIZES.factorDim);
  assert.deepEqual(out.logRates.shape, [BATCH, LENGTH, NEURONS]);
  assert.deepEqual(out.latents.shape, [BATCH, LENGTH, SIZES.factorDim]);
  assert.deepEqual(out.hidden.map((h) => h.shape), [
    [BATCH, LENGTH, SIZES.generatorDim],
    [BATCH, LENGTH, SIZES.factorDim],
  ]);
  const aux = Object.fromEntries(Object.entries(out.auxiliary).map(([k, v]) => [k, v.shape]));
  assert.deepEqual(aux, {
    icMean: [BATCH, SIZES.icDim],
    icLogVar: [BATCH, SIZES.icDim],
    coMean: [BATCH, LENGTH, SIZES.inferredInputDim],
    coLogVar: [BATCH, LENGTH, SIZES.inferredInputDim],
  });
  // Forward bins are predicted and finite.
  const forward = tf.tidy(() => out.logRates.slice([0, BINS, 0], [BATCH, FORWARD, NEURONS]));
  assert.ok(forward.dataSync().every(Number.isFinite));
  assert.ok(tf.tidy(() => tf.moments(forward).variance.dataSync()[0]) > 0);
  const names = [...model.weights.keys()];
  assert.deepEqual(names.filter((k) => k.startsWith("readout")), [
    "readout.weight",
    "readout.bias",
  ]);
  assert.ok(names.includes("icEncoder.forward.input.weight"));
  assert.ok(names.includes("controller.recurrent.weight"));
  assert.ok(!names.includes("factors.bias"));
  tf.dispose([...tensorsOf(out), forward, heldin]);
  model.dispose();
});

Deno.test("lfads: without a controller the generator runs on no input", () => {
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES, controller: false });
  const heldin = counts(BATCH, BINS, HELDIN, 2);
  const out = run(model, { heldin }, false);
  assert.deepEqual(out.logRates.shape, [BATCH, LENGTH, NEURONS]);
  assert.deepEqual(Object.keys(out.auxiliary).sort(), ["icLogVar", "icMean"]);
  assert.ok(out.logRates.dataSync().every(Number.isFinite));
  const names = [...model.weights.keys()];
  assert.ok(!names.some((k) => k.startsWith("controller") || k.startsWith("ciEncoder")));
  assert.ok(!names.includes("generator.input.weight"));
  const terms = tf.tidy(() => model.regularizers(out, { epoch: 20, step: 0 }));
  assert.deepEqual(Object.keys(terms).sort(), ["klIc", "l2"]);
  tf.dispose([...tensorsOf(out), terms, heldin]);
  model.dispose();
});

Deno.test("lfads: eval uses posterior means; training noise follows the pass seed", () => {
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES, dropout: 0.3 });
  const heldin = counts(BATCH, BINS, HELDIN, 3);
  assert.deepEqual(values(model, { heldin }, false), values(model, { heldin }, false));
  assert.deepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, true, 5));
  assert.notDeepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, true, 6));
  assert.notDeepEqual(values(model, { heldin }, true, 5), values(model, { heldin }, false));
  model.dispose();
  // Sampling alone (no dropout) makes training passes differ.
  const sampled = createModel({ kind: "lfads", ...SHAPE, ...SIZES, dropout: 0 });
  assert.notDeepEqual(values(sampled, { heldin }, true, 5), values(sampled, { heldin }, true, 6));
  assert.deepEqual(values(sampled, { heldin }, false), values(sampled, { heldin }, false, 9));
  sampled.dispose();
  heldin.dispose();
});

Deno.test("lfads: the config seed fixes the initial weights", () => {
  const a = createModel({ kind: "lfads", ...SHAPE, ...SIZES, seed: 7 });
  const b = createModel({ kind: "lfads", ...SHAPE, ...SIZES, seed: 7 });
  const c = createModel({ kind: "lfads", ...SHAPE, ...SIZES, seed: 8 });
  assert.deepEqual([...a.weights.keys()], [...b.weights.keys()]);
  for (const [name, w] of a.weights) {
    assert.deepEqual(w.dataSync(), b.weights.get(name)!.dataSync(), name);
  }
  const name = "generator.recurrent.weight";
  assert.notDeepEqual(a.weights.get(name)!.dataSync(), c.weights.get(name)!.dataSync());
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("lfads: a teacher reads its privileged input and requires it", () => {
  const model = createModel({
    kind: "lfads",
    ...SHAPE,
    ...SIZES,
    privilegedDim: 2,
    privileged: BEHAVIOR,
  });
  const heldin = counts(BATCH, BINS, HELDIN, 4);
  const p1 = tf.tensor3d(normals([BATCH, BINS, 2], 1), [BATCH, BINS, 2]);
  const p2 = tf.tensor3d(normals([BATCH, BINS, 2], 2), [BATCH, BINS, 2]);
  const out1 = values(model, { heldin, privileged: p1 }, false);
  assert.deepEqual([out1.length, out1[0].length, out1[0][0].length], [BATCH, LENGTH, NEURONS]);
  assert.notDeepEqual(out1, values(model, { heldin, privileged: p2 }, false));
  throwsArgument(() => run(model, { heldin }, false), "privileged");
  tf.dispose([heldin, p1, p2]);
  model.dispose();
});

Deno.test("lfads: KL terms match the closed form, with their scales and normalization", () => {
  const model = createModel({
    kind: "lfads",
    ...SHAPE,
    ...SIZES,
    icPriorVar: 0.1,
    coPriorVar: 0.3,
    klIcScale: 2,
    klCoScale: 0.5,
    klRampStart: 0,
    klRampEpochs: 10,
  });
  const coShape = [BATCH, LENGTH, SIZES.inferredInputDim];
  const posterior = {
    icMean: normals([BATCH, SIZES.icDim], 1),
    icLogVar: normals([BATCH, SIZES.icDim], 2, 0.5, -1),
    coMean: normals(coShape, 3),
    coLogVar: normals(coShape, 4, 0.5, -0.5),
  };
  const outputs = fakeOutputs(posterior, coShape);
  const entries = LENGTH * NEURONS;
  const icFull = 2 * klReference(posterior.icMean, posterior.icLogVar, 0.1) / BATCH / entries;
  const coFull = 0.5 * klReference(posterior.coMean, posterior.coLogVar, 0.3) / BATCH / entries;
  assert.ok(icFull > 0 && coFull > 0);
  const at = (epoch: number) =>
    tf.tidy(() => {
      const terms = model.regularizers(outputs, { epoch, step: epoch * 10 });
      return Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]]));
    });
  const full = at(25);
  assert.deepEqual(Object.keys(full).sort(), ["klCo", "klIc", "l2"]);
  close(full.klIc, icFull, "klIc");
  close(full.klCo, coFull, "klCo");
  // The ramp: 0 at the start, linear, then full.
  const start = at(0);
  assert.equal(start.klIc, 0);
  assert.equal(start.klCo, 0);
  close(at(5).klIc, icFull / 2, "klIc at epoch 5");
  close(at(10).klCo, coFull, "klCo at epoch 10");
  tf.dispose(tensorsOf(outputs));
  model.dispose();
});

Deno.test("lfads: the KL ramp's start and a step ramp", () => {
  const coShape = [BATCH, LENGTH, SIZES.inferredInputDim];
  const outputs = fakeOutputs({
    icMean: normals([BATCH, SIZES.icDim], 5),
    icLogVar: normals([BATCH, SIZES.icDim], 6, 0.3),
    coMean: normals(coShape, 7),
    coLogVar: normals(coShape, 8, 0.3),
  }, coShape);
  const klIc = (model: SequenceModel, epoch: number) =>
    tf.tidy(() => model.regularizers(outputs, { epoch, step: 0 }).klIc.dataSync()[0]);
  const delayed = createModel({
    kind: "lfads",
    ...SHAPE,
    ...SIZES,
    klRampStart: 3,
    klRampEpochs: 4,
  });
  const full = klIc(delayed, 100);
  assert.equal(klIc(delayed, 2), 0);
  assert.equal(klIc(delayed, 3), 0);
  close(klIc(delayed, 4), full / 4, "quarter ramp");
  close(klIc(delayed, 7), full, "end of ramp");
  const step = createModel({ kind: "lfads", ...SHAPE, ...SIZES, klRampStart: 2, klRampEpochs: 0 });
  assert.equal(klIc(step, 1), 0);
  close(klIc(step, 2), full, "step ramp");
  tf.dispose(tensorsOf(outputs));
  delayed.dispose();
  step.dispose();
});

Deno.test("lfads: KL is zero when the posterior equals the prior", () => {
  const model = createModel({
    kind: "lfads",
    ...SHAPE,
    ...SIZES,
    icPriorVar: 0.1,
    coPriorVar: 0.5,
  });
  const coShape = [BATCH, LENGTH, SIZES.inferredInputDim];
  const n = BATCH * SIZES.icDim, m = coShape.reduce((a, b) => a * b, 1);
  const outputs = fakeOutputs({
    icMean: new Array(n).fill(0),
    icLogVar: new Array(n).fill(Math.log(0.1)),
    coMean: new Array(m).fill(0),
    coLogVar: new Array(m).fill(Math.log(0.5)),
  }, coShape);
  const terms = tf.tidy(() => model.regularizers(outputs, { epoch: 50, step: 0 }));
  assert.ok(Math.abs(terms.klIc.dataSync()[0]) < 1e-7);
  assert.ok(Math.abs(terms.klCo.dataSync()[0]) < 1e-7);
  // A scale of 0 leaves the term out.
  const off = createModel({ kind: "lfads", ...SHAPE, ...SIZES, klCoScale: 0, l2Scale: 0 });
  const offTerms = tf.tidy(() => off.regularizers(outputs, { epoch: 50, step: 0 }));
  assert.deepEqual(Object.keys(offTerms), ["klIc"]);
  tf.dispose([...tensorsOf(outputs), terms, offTerms]);
  model.dispose();
  off.dispose();
});

Deno.test("lfads: l2 is the scaled mean square of the recurrent weights", () => {
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES, l2Scale: 0.5 });
  const heldin = counts(BATCH, BINS, HELDIN, 9);
  const out = run(model, { heldin }, false);
  let sum = 0, count = 0;
  for (const [name, w] of model.weights) {
    if (!name.endsWith(".recurrent.weight")) continue;
    for (const v of w.dataSync()) sum += v * v;
    count += w.size;
  }
  const { icEncoderDim: ie, ciEncoderDim: ce, controllerDim: cd, generatorDim: gd } = SIZES;
  assert.equal(count, 2 * ie * 3 * ie + 2 * ce * 3 * ce + cd * 3 * cd + gd * 3 * gd);
  const l2 = tf.tidy(() => model.regularizers(out, { epoch: 0, step: 0 }).l2.dataSync()[0]);
  assert.ok(l2 > 0);
  close(l2, 0.5 * sum / count, "l2");
  tf.dispose([...tensorsOf(out), heldin]);
  model.dispose();
});

for (const controller of [true, false]) {
  Deno.test(`lfads: gradients reach every weight in training (controller ${controller})`, () => {
    const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES, controller });
    const heldin = counts(BATCH, BINS, HELDIN, 10);
    const y = counts(BATCH, LENGTH, NEURONS, 11);
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
}

Deno.test("lfads: Adam steps reduce the Poisson loss", () => {
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES, dropout: 0 });
  const heldin = counts(BATCH, BINS, HELDIN, 12);
  const y = counts(BATCH, LENGTH, NEURONS, 12);
  const loss = () => poissonLoss(model.forward({ heldin }, { training: false }).logRates, y);
  const optimizer = tf.train.adam(0.01);
  const before = tf.tidy(() => loss().dataSync()[0]);
  for (let i = 0; i < 25; i++) {
    optimizer.minimize(loss, false, [...model.weights.values()]);
  }
  const after = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(after < 0.9 * before, `loss ${before} -> ${after}`);
  optimizer.dispose();
  tf.dispose([heldin, y]);
  model.dispose();
});

Deno.test("lfads: no tensors leak from forward, regularizers or dispose", () => {
  const start = tf.memory().numTensors;
  const model = createModel({ kind: "lfads", ...SHAPE, ...SIZES });
  const heldin = counts(BATCH, BINS, HELDIN, 13);
  const before = tf.memory().numTensors;
  for (const training of [true, false]) {
    const out = run(model, { heldin }, training, 2);
    const terms = tf.tidy(() => model.regularizers(out, { epoch: 3, step: 30 }));
    tf.dispose([...tensorsOf(out), terms]);
    assert.equal(tf.memory().numTensors, before);
  }
  heldin.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

Deno.test("lfads: bad options throw an ArgumentError naming the field", () => {
  const bad = (options: Record<string, unknown>) => () =>
    createModel({ kind: "lfads", ...SHAPE, ...options } as Parameters<typeof createModel>[0]);
  throwsArgument(bad({ dropout: 1.5 }), "dropout");
  throwsArgument(bad({ dropout: 1 }), "dropout");
  throwsArgument(bad({ icDim: 0 }), "icDim");
  throwsArgument(bad({ generatorDim: 3.5 }), "generatorDim");
  throwsArgument(bad({ inferredInputDim: -1 }), "inferredInputDim");
  throwsArgument(bad({ factorDim: 0 }), "factorDim");
  throwsArgument(bad({ clip: 0 }), "clip");
  throwsArgument(bad({ icPriorVar: 0 }), "icPriorVar");
  throwsArgument(bad({ coPriorVar: -1 }), "coPriorVar");
  throwsArgument(bad({ klIcScale: -1 }), "klIcScale");
  throwsArgument(bad({ klRampEpochs: Number.NaN }), "klRampEpochs");
  throwsArgument(bad({ l2Scale: -0.1 }), "l2Scale");
  throwsArgument(bad({ controller: "yes" }), "controller");
  assert.equal(LFADS_DEFAULTS.controller, true);
});
