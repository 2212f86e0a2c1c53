import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { installWasmSum, uninstallWasmSum } from "../../lib/kernels/wasm_sum.ts";

await initBackend("wasm");

/** Values in [-1, 1) from a formula, with a float64 reference sum computed here. */
function values(size: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => (((i * 37) % 257) - 128) / 128);
}

/** Sum over the leading `lead` axes in float64, by definition. */
function reference(data: Float32Array, shape: number[], lead: number): number[] {
  const columns = shape.slice(lead).reduce((a, b) => a * b, 1);
  const out = new Array(columns).fill(0);
  data.forEach((v, i) => (out[i % columns] += v));
  return out;
}

Deno.test("Sum over leading axes equals the float64 sum, keeps dims when asked", () => {
  for (
    const [shape, axis] of [[[300, 7], [0]], [[64, 30, 16], [0, 1]], [[64, 30, 16], 0], [[
      100,
      3,
      1,
    ], [1, 0]]] as [number[], number | number[]][]
  ) {
    const data = values(shape.reduce((a, b) => a * b, 1));
    const lead = Array.isArray(axis) ? axis.length : 1;
    const x = tf.tensor(data, shape);
    const sum = tf.sum(x, axis), kept = tf.sum(x, axis, true);
    const expected = reference(data, shape, lead);
    const got = Array.from(sum.dataSync());
    got.forEach((v, i) =>
      assert.ok(Math.abs(v - expected[i]) <= 1e-6 * (1 + Math.abs(expected[i])), `${shape} ${i}`)
    );
    assert.deepEqual(sum.shape, shape.slice(lead));
    assert.deepEqual(kept.shape, [...shape.slice(0, lead).map(() => 1), ...shape.slice(lead)]);
    for (const t of [x, sum, kept]) t.dispose();
  }
});

Deno.test("Sum: other reductions and the bias gradient agree with tfjs's own kernel", () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(values(200 * 6), [200, 6]);
      const bias = tf.zeros([6]);
      const grad = tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(x, b))))(bias);
      return [tf.sum(x, 1), tf.sum(x), tf.sum(tf.cast(x, "int32"), 0), grad].map((t) => ({
        shape: t.shape,
        dtype: t.dtype,
        data: Array.from(t.dataSync()),
      }));
    });
  const ours = run();
  assert.equal(uninstallWasmSum(), true);
  let theirs;
  try {
    theirs = run();
  } finally {
    assert.equal(installWasmSum(), true);
  }
  for (let i = 0; i < ours.length; i++) {
    assert.deepEqual(ours[i].shape, theirs[i].shape);
    assert.equal(ours[i].dtype, theirs[i].dtype);
    ours[i].data.forEach((v, j) =>
      assert.ok(Math.abs(v - theirs[i].data[j]) <= 1e-4 * (1 + Math.abs(v)))
    );
  }
  assert.equal(installWasmSum(), false);
});
