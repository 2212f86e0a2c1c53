import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { installWasmIdentity, uninstallWasmIdentity } from "../../lib/kernels/wasm_identity.ts";

await initBackend("wasm");

Deno.test("copy-free Identity and Cast keep values and survive disposing the source", async () => {
  const before = tf.memory().numTensors;
  const a = tf.tensor([1.5, -2, 3.25, 4], [2, 2]);
  const clone = tf.clone(a);
  const same = tf.cast(a, "float32");
  const ints = tf.cast(a, "int32");
  a.dispose();
  assert.deepEqual(Array.from(await clone.data()), [1.5, -2, 3.25, 4]);
  assert.deepEqual(Array.from(await same.data()), [1.5, -2, 3.25, 4]);
  assert.deepEqual(Array.from(await ints.data()), [1, -2, 3, 4]);
  assert.equal(ints.dtype, "int32");
  for (const t of [clone, same, ints]) t.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("gradients through mul (which casts) agree with tfjs's copying kernels", async () => {
  const run = async () => {
    const x = tf.tensor([0.5, 1, -1.5, 2], [2, 2]);
    const y = tf.tensor([3, -1, 2, 0.25], [2, 2]);
    const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, b), a)))([
      x,
      y,
    ]);
    const out = [Array.from(await gx.data()), Array.from(await gy.data())];
    for (const t of [x, y, gx, gy]) t.dispose();
    return out;
  };
  const fast = await run();
  assert.equal(uninstallWasmIdentity(), true);
  try {
    assert.deepEqual(await run(), fast);
  } finally {
    assert.equal(installWasmIdentity(), true);
  }
  assert.equal(installWasmIdentity(), false);
  assert.deepEqual(fast, [[3, -2, -6, 1], [0.25, 1, 2.25, 4]]);
});
