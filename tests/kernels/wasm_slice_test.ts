import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { installWasmSlice, uninstallWasmSlice } from "../../lib/kernels/wasm_slice.ts";

await initBackend("wasm");

/** Distinct float32-exact values, so a misplaced element cannot go unnoticed. */
function ramp(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => i * 0.5 - 7), shape);
}

/** Run `body` with tfjs's own kernels, then put blend's back. */
function withTfjsKernels<T>(body: () => T): T {
  assert.equal(uninstallWasmSlice(), true);
  try {
    return body();
  } finally {
    assert.equal(installWasmSlice(), true);
  }
}

const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [10], begin: [3], size: [4] },
  { shape: [6, 9], begin: [1, 2], size: [4, 5] }, // rows of a column block
  { shape: [6, 9], begin: [2, 0], size: [3, 9] }, // whole rows: one run
  { shape: [4, 5, 6], begin: [1, 0, 2], size: [2, 5, 3] },
  { shape: [3, 4, 5, 6], begin: [0, 1, 0, 0], size: [3, 2, 5, 6] }, // banded attention's shape
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 2, 1, 3], size: [1, 3, 2, 3, 2] }, // rank 5
  { shape: [4, 5], begin: [1, 1], size: [0, 3] }, // empty
];

Deno.test("Slice equals tfjs's own kernel element for element, any rank", () => {
  for (const c of cases) {
    const run = () =>
      tf.tidy(() => {
        const out = tf.slice(ramp(c.shape), c.begin, c.size);
        return { shape: out.shape, data: Array.from(out.dataSync()) };
      });
    const ours = run();
    assert.deepEqual(ours, withTfjsKernels(run), JSON.stringify(c));
    assert.deepEqual(ours.shape, c.size);
  }
});

Deno.test("SplitV and Unpack equal tfjs's own kernels; their gradients too", () => {
  const run = () =>
    tf.tidy(() => {
      const x = ramp([4, 3, 10]);
      const pieces = tf.split(x, [2, 5, 3], 2);
      const rows = tf.unstack(x, 1);
      const grad = tf.grad((t: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.split(t, [2, 5, 3], 2)[1],
            tf.unstack(t, 1)[0].expandDims(1).slice([0, 0, 0], [4, 1, 5]),
          ),
        )
      )(x);
      return [...pieces, ...rows, grad].map((t) => ({
        shape: t.shape,
        data: Array.from(t.dataSync()),
      }));
    });
  const ours = run();
  assert.deepEqual(ours, withTfjsKernels(run));
  assert.deepEqual(ours.map((o) => o.shape).slice(0, 6), [
    [4, 3, 2],
    [4, 3, 5],
    [4, 3, 3],
    [4, 10],
    [4, 10],
    [4, 10],
  ]);
});

Deno.test("Slice of int32 and bool tensors keeps the type; no tensor leaks", () => {
  const before = tf.memory().numTensors;
  const ints = tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], "int32");
  const bools = tf.tensor([[1, 0, 1], [0, 1, 1]], [2, 3], "bool");
  const a = tf.slice(ints, [0, 1], [2, 2]), b = tf.slice(bools, [1, 0], [1, 3]);
  assert.equal(a.dtype, "int32");
  assert.deepEqual(Array.from(a.dataSync()), [2, 3, 5, 6]);
  assert.equal(b.dtype, "bool");
  assert.deepEqual(Array.from(b.dataSync()), [0, 1, 1]);
  for (const t of [ints, bools, a, b]) t.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(installWasmSlice(), false, "initBackend installed it already");
});
