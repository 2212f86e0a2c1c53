import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import {
  applyAttention,
  attention,
  disposeLocalAttention,
  localAttention,
  ParameterStore,
} from "../../lib/models/layers.ts";
import { createModel, type ModelConfigInput, resolveConfig } from "../../lib/models/model.ts";

await initBackend("wasm");

/** Largest absolute difference relative to the largest magnitude of `expected`. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

/** Output and gradients of every weight (and of the input) of one attention layer. */
function attentionResults(
  kernel: "dense" | "banded",
  shape: { batch: number; time: number; width: number; heads: number },
  back: number,
  forward: number,
  block?: number,
): { output: Float32Array; grads: Map<string, Float32Array> } {
  const store = new ParameterStore(7);
  const layer = attention(store, "attn", shape.width, shape.heads);
  const local = localAttention(shape.time, back, forward, kernel, block);
  assert.equal(local.kind, kernel);
  const x = randomTensor([shape.batch, shape.time, shape.width], 1) as tf.Tensor3D;
  const target = randomTensor([shape.batch, shape.time, shape.width], 2);
  const input = tf.variable(x, true, `attention_test_x_${kernel}_${Math.random()}`);
  const weights = [...store.variables.values(), input];
  const output = tf.tidy(() => applyAttention(layer, x, local, 0.1, false, 0)).dataSync();
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(applyAttention(layer, input as tf.Tensor3D, local, 0.1, false, 0), target)),
    weights,
  );
  const names = new Map([...store.variables].map(([name, v]) => [v.name, name]));
  names.set(input.name, "input");
  const result = new Map<string, Float32Array>();
  for (const [key, g] of Object.entries(grads)) {
    result.set(names.get(key)!, g.dataSync() as Float32Array);
  }
  tf.dispose([value, ...Object.values(grads), x, target, input]);
  disposeLocalAttention(local);
  store.dispose();
  return { output: output as Float32Array, grads: result };
}

function assertSame(
  shape: { batch: number; time: number; width: number; heads: number },
  back: number,
  forward: number,
  block?: number,
): void {
  const dense = attentionResults("dense", shape, back, forward);
  const banded = attentionResults("banded", shape, back, forward, block);
  const what = `T=${shape.time} back ${back} forward ${forward} block ${block ?? "auto"}`;
  const outputError = relativeError(banded.output, dense.output);
  assert.ok(outputError < 1e-4, `${what}: output differs by ${outputError}`);
  assert.equal(banded.grads.size, dense.grads.size);
  for (const [name, g] of dense.grads) {
    const error = relativeError(banded.grads.get(name)!, g);
    assert.ok(error < 1e-4, `${what}: gradient of ${name} differs by ${error}`);
  }
}

Deno.test("attention: banded equals dense, T not a multiple of the block", () => {
  const shape = { batch: 3, time: 37, width: 16, heads: 2 };
  assertSame(shape, 8, 4); // the automatic block
  assertSame(shape, 8, 4, 16); // 3 blocks, the last one 11 bins of padding
  assertSame(shape, 8, 4, 5); // a window spanning three blocks
  assertSame(shape, 0, 0, 4); // the diagonal only
  assertSame(shape, 40, 40, 8); // a window wider than the sequence
});

Deno.test("attention: banded equals dense at MC_Maze's length", () => {
  assertSame({ batch: 2, time: 180, width: 32, heads: 2 }, 8, 4);
});

Deno.test("attention: auto picks banded only for a window small against the length", () => {
  const cases: [number, number, number, string][] = [
    [180, 8, 4, "banded"],
    [20, 8, 4, "dense"],
    [180, 100, 100, "dense"],
  ];
  for (const [time, back, forward, kind] of cases) {
    const local = localAttention(time, back, forward);
    assert.equal(local.kind, kind, `T=${time} back ${back} forward ${forward}`);
    disposeLocalAttention(local);
  }
  assert.throws(
    () => localAttention(10, 2, 2, "sparse" as "auto"),
    (e) => e instanceof ArgumentError && /attention kernel must be one of/.test(e.message),
  );
});

const NDT: ModelConfigInput & { kind: "ndt" } = {
  kind: "ndt",
  heldinNeurons: 6,
  heldoutNeurons: 3,
  bins: 30,
  forwardBins: 7,
  dModel: 16,
  layers: 2,
  heads: 2,
  feedForward: 16,
  attendBack: 8,
  attendForward: 4,
};

async function ndtResults(kernel: "dense" | "banded", training: boolean) {
  const model = createModel({ ...NDT, attentionKernel: kernel, attentionDropout: 0.3 });
  const heldin = tf.tidy(() =>
    tf.floor(tf.mul(tf.exp(randomTensor([3, 30, 6], 3)), 1.5))
  ) as tf.Tensor3D;
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward({ heldin }, { training, seed: 4 }).logRates;
    return tf.mean(tf.sub(tf.exp(out), tf.mul(tf.exp(tf.neg(out)), 2))) as tf.Scalar;
  }, [...model.weights.values()]);
  const names = new Map([...model.weights].map(([name, v]) => [v.name, name]));
  const result = new Map<string, Float32Array>();
  for (const [key, g] of Object.entries(grads)) {
    result.set(names.get(key)!, await g.data() as Float32Array);
  }
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads), heldin]);
  model.dispose();
  return { loss, grads: result };
}

Deno.test("attention: an NDT trains the same with either kernel (no dropout)", async () => {
  const dense = await ndtResults("dense", false), banded = await ndtResults("banded", false);
  assert.ok(Math.abs(banded.loss - dense.loss) <= 1e-4 * Math.abs(dense.loss));
  assert.equal(banded.grads.size, dense.grads.size);
  for (const [name, g] of dense.grads) {
    const error = relativeError(banded.grads.get(name)!, g);
    assert.ok(error < 1e-4, `gradient of ${name} differs by ${error}`);
  }
});

Deno.test("attention: banded attention dropout is seeded and leaves finite gradients", async () => {
  const a = await ndtResults("banded", true), b = await ndtResults("banded", true);
  assert.equal(a.loss, b.loss);
  const eval_ = await ndtResults("banded", false);
  assert.notEqual(a.loss, eval_.loss);
  for (const [name, g] of a.grads) {
    assert.ok(g.every(Number.isFinite), `${name} has a non-finite gradient`);
    assert.deepEqual(g, b.grads.get(name));
  }
});

Deno.test("attention: configs saved before attentionKernel existed build with auto", () => {
  const config = resolveConfig(NDT);
  assert.equal(config.kind === "ndt" && config.attentionKernel, "auto");
  const model = createModel({ ...NDT });
  model.dispose();
  assert.throws(
    () => createModel({ ...NDT, attentionKernel: "sparse" } as unknown as ModelConfigInput),
    /attention kernel must be one of auto, dense, banded/,
  );
});
