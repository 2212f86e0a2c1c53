import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { countParameters, createModel, type ModelConfigInput } from "../../lib/models/model.ts";

await initBackend("wasm");

const SHAPE = { heldinNeurons: 6, heldoutNeurons: 3, bins: 16, forwardBins: 4 };
const SMALL: ModelConfigInput = {
  kind: "ndt",
  ...SHAPE,
  dModel: 8,
  layers: 1,
  heads: 2,
  feedForward: 16,
  attendBack: 3,
  attendForward: 2,
};

function counts(batch: number, seed = 1): tf.Tensor3D {
  const values = new Float32Array(batch * SHAPE.bins * SHAPE.heldinNeurons);
  for (let j = 0; j < values.length; j++) {
    values[j] = Math.floor(2.5 * (1 + Math.sin(j * seed * 0.37)));
  }
  return tf.tensor3d(values, [batch, SHAPE.bins, SHAPE.heldinNeurons]);
}

async function run(
  model: ReturnType<typeof createModel>,
  heldin: tf.Tensor3D,
  training = false,
  seed = 0,
  privileged?: tf.Tensor3D,
): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward({ heldin, privileged }, { training, seed }).logRates);
  const values = await out.data() as Float32Array;
  out.dispose();
  return values;
}

Deno.test("ndt: outputs cover every neuron over observed and forward bins", () => {
  const model = createModel(SMALL);
  const x = counts(3);
  tf.tidy(() => {
    const out = model.forward({ heldin: x }, { training: false });
    assert.deepEqual(out.logRates.shape, [3, 20, 9]);
    assert.deepEqual(out.latents.shape, [3, 20, 8]);
    assert.equal(out.hidden.length, 1);
  });
  assert.equal(model.latentDim, 8);
  // embedding 6*8+8, position 20*8, per layer: 2 norms (32) + qkv 8*24+24 + out 8*8+8 +
  // ff 8*16+16 + 16*8+8, final norm 16, readout 8*9+9
  const expected = 56 + 160 + (32 + 216 + 72 + 144 + 136) + 16 + 81;
  assert.equal(countParameters(model), expected);
  x.dispose();
  model.dispose();
});

Deno.test("ndt: eval is deterministic; training noise follows the seed", async () => {
  const model = createModel({ ...SMALL, dropout: 0.3 });
  const x = counts(2);
  assert.deepEqual(await run(model, x), await run(model, x));
  const a = await run(model, x, true, 1), b = await run(model, x, true, 1);
  const c = await run(model, x, true, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, await run(model, x));
  x.dispose();
  model.dispose();
});

Deno.test("ndt: the config seed fixes the initial weights", async () => {
  const read = async (seed: number) => {
    const model = createModel({ ...SMALL, seed });
    const w = await model.weights.get("layers.0.attention.qkv.weight")!.data();
    model.dispose();
    return w;
  };
  assert.deepEqual(await read(3), await read(3));
  assert.notDeepEqual(await read(3), await read(4));
});

Deno.test("ndt: attention is local: a change at one bin reaches only its window", async () => {
  // One layer: token i attends bins i-3..i+2, so a change at bin 8 can only reach outputs
  // at bins 6..11 (those whose window contains 8).
  const model = createModel(SMALL);
  const x = counts(1);
  const changed = tf.tidy(() => {
    const values = x.arraySync();
    values[0][8] = values[0][8].map((v) => v + 3);
    return tf.tensor3d(values);
  });
  const a = await run(model, x), b = await run(model, changed);
  const width = 9;
  const moved: number[] = [];
  for (let t = 0; t < 20; t++) {
    let diff = 0;
    for (let c = 0; c < width; c++) {
      diff = Math.max(diff, Math.abs(a[t * width + c] - b[t * width + c]));
    }
    if (diff > 1e-6) moved.push(t);
  }
  assert.deepEqual(moved, [6, 7, 8, 9, 10, 11]);
  x.dispose();
  changed.dispose();
  model.dispose();
});

Deno.test("ndt: sinusoidal positions have no position weights and still train", async () => {
  const model = createModel({ ...SMALL, positions: "sinusoidal" });
  assert.equal(model.weights.has("position"), false);
  const x = counts(2);
  const values = await run(model, x);
  assert.ok(values.every(Number.isFinite));
  x.dispose();
  model.dispose();
});

Deno.test("ndt: the teacher variant uses its privileged input", async () => {
  const teacher = createModel({
    ...SMALL,
    privilegedDim: 2,
    privileged: { kind: "behavior", names: ["vx", "vy"], mean: [0, 0], std: [1, 1] },
  });
  const x = counts(2);
  const p1 = tf.zeros([2, SHAPE.bins, 2]) as tf.Tensor3D;
  const p2 = tf.ones([2, SHAPE.bins, 2]) as tf.Tensor3D;
  assert.notDeepEqual(await run(teacher, x, false, 0, p1), await run(teacher, x, false, 0, p2));
  assert.throws(
    () => tf.tidy(() => teacher.forward({ heldin: x }, { training: false }).logRates),
    ArgumentError,
  );
  const student = createModel(SMALL);
  assert.throws(
    () =>
      tf.tidy(() => student.forward({ heldin: x, privileged: p1 }, { training: false }).logRates),
    /privileged input was given to a model without one/,
  );
  assert.equal(teacher.weights.get("embedding.weight")!.shape[0], 8);
  for (const t of [x, p1, p2]) t.dispose();
  teacher.dispose();
  student.dispose();
});

Deno.test("ndt: every weight gets a finite, non-zero gradient", () => {
  const model = createModel({ ...SMALL, dropout: 0.1 });
  const x = counts(2);
  const y = tf.tidy(() =>
    tf.floor(tf.mul(tf.exp(tf.randomNormal([2, 20, 9], 0, 0.5, "float32", 5)), 1))
  );
  const { value, grads } = tf.variableGrads(() => {
    const logRates = model.forward({ heldin: x }, { training: true, seed: 3 }).logRates;
    return tf.mean(tf.sub(tf.exp(logRates), tf.mul(y, logRates))) as tf.Scalar;
  }, [...model.weights.values()]);
  const names = new Map([...model.weights].map(([name, v]) => [v.name, name]));
  assert.equal(Object.keys(grads).length, model.weights.size);
  for (const [key, g] of Object.entries(grads)) {
    const values = g.dataSync();
    assert.ok(values.every(Number.isFinite), `${names.get(key)} has a non-finite gradient`);
    assert.ok(values.some((v) => v !== 0), `${names.get(key)} has a zero gradient`);
  }
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

Deno.test("ndt: bad options are refused with the field named", () => {
  assert.throws(
    () => createModel({ ...SMALL, dModel: 9 } as ModelConfigInput),
    /not divisible by 2 heads/,
  );
  assert.throws(() => createModel({ ...SMALL, dropout: 1.2 } as ModelConfigInput), /dropout/);
  assert.throws(
    () => createModel({ ...SMALL, layer: 3 } as unknown as ModelConfigInput),
    /unknown field\(s\) layer/,
  );
  assert.throws(
    () => createModel({ ...SMALL, bins: 0 } as ModelConfigInput),
    /bins must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => createModel({ ...SMALL, privilegedDim: 2 } as ModelConfigInput),
    /privilegedDim is 2 but privileged describes nothing/,
  );
  assert.throws(
    () => createModel({ ...SMALL, kind: "gpt" } as unknown as ModelConfigInput),
    /kind must be one of ndt, rnn, lfads/,
  );
});

Deno.test("ndt: building, running and disposing leaves no tensors behind", async () => {
  const before = tf.memory().numTensors;
  const model = createModel(SMALL);
  const x = counts(2);
  await run(model, x, true, 1);
  x.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
