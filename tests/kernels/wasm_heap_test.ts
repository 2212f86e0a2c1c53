import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { filledTensor } from "../../lib/kernels/wasm_heap.ts";

await initBackend("wasm");

const fill = (values: Float32Array) => values.forEach((_, i) => (values[i] = i * 0.25 - 1));

Deno.test("filledTensor writes the values in place on wasm and as an array on cpu", async () => {
  const before = tf.memory().numTensors;
  const onWasm = filledTensor([2, 3, 4], fill);
  assert.deepEqual(onWasm.shape, [2, 3, 4]);
  assert.equal(onWasm.dtype, "float32");
  const expected = Array.from({ length: 24 }, (_, i) => i * 0.25 - 1);
  assert.deepEqual(Array.from(await onWasm.data()), expected);
  // Inside tidy it is tracked and freed like any tensor.
  tf.tidy(() => {
    filledTensor([1000], fill);
  });
  onWasm.dispose();
  assert.equal(tf.memory().numTensors, before);
  await tf.setBackend("cpu");
  try {
    const onCpu = filledTensor([2, 3, 4], fill);
    assert.deepEqual(Array.from(await onCpu.data()), expected);
    onCpu.dispose();
    assert.deepEqual(filledTensor([0, 3], fill).shape, [0, 3]);
  } finally {
    await tf.setBackend("wasm");
  }
});
