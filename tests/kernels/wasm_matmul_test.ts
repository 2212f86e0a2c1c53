import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { uninstallWasmBlasMatMul } from "../../lib/kernels/wasm_blas.ts";
import { installWasmMatMul, uninstallWasmMatMul } from "../../lib/kernels/wasm_matmul.ts";
import { assertClose, CASES, product, reference, values } from "./matmul_reference.ts";

// initBackend("wasm") installs the fast kernel (unless BLEND_WASM_MATMUL=naive, which
// these tests override by installing it themselves).
await initBackend("wasm");
// This file tests the XNNPACK kernel: take off the BLAS one that initBackend may stack on it.
uninstallWasmBlasMatMul();
installWasmMatMul();

/** Run `body` with tfjs's own (naive) kernel, then put the fast one back. */
function withNaive<T>(body: () => T): T {
  assert.equal(uninstallWasmMatMul(), true);
  try {
    return body();
  } finally {
    assert.equal(installWasmMatMul(), true);
  }
}

/** Run `body` on the cpu backend, then switch back to wasm. */
async function onCpu<T>(body: () => T): Promise<T> {
  await tf.setBackend("cpu");
  try {
    return body();
  } finally {
    await tf.setBackend("wasm");
  }
}

Deno.test("fast wasm matMul equals the naive kernel and a float64 reference", () => {
  for (const c of CASES) {
    const fast = product(c);
    const exact = reference(c);
    assert.deepEqual(fast.shape, exact.shape, `${c.name}: shape`);
    assertClose(fast.data, exact.data, 1e-5, `${c.name} fast vs float64`);
    if (c.crossed) continue;
    const naive = withNaive(() => product(c));
    assert.deepEqual(naive.shape, exact.shape, `${c.name}: naive shape`);
    assertClose(fast.data, naive.data, 1e-5, `${c.name} fast vs naive`);
  }
});

Deno.test("fast wasm matMul equals the cpu backend", async () => {
  for (const c of CASES.filter((c) => !c.name.includes("large") && !c.crossed)) {
    const fast = product(c);
    const cpu = await onCpu(() => product(c));
    assert.deepEqual(fast.shape, cpu.shape, c.name);
    assertClose(fast.data, cpu.data, 1e-5, `${c.name} fast vs cpu`);
  }
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("fast wasm matMul splits large batched products and only those", () => {
  // Count calls of the naive kernel, which the fast kernel captures at install time: one
  // per product, or one per batch entry when a batched product is split.
  uninstallWasmMatMul();
  const original = tf.getKernel("BatchMatMul", "wasm")!;
  let calls = 0;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: unknown) => {
      calls++;
      return (original.kernelFunc as (a: unknown) => tf.TensorInfo)(args);
    }) as tf.KernelFunc,
  });
  installWasmMatMul();
  try {
    const counts: Record<string, number> = {};
    for (const c of CASES) {
      calls = 0;
      product(c);
      counts[c.name] = calls;
    }
    assert.equal(counts["3-D large batched (sliced)"], 4);
    assert.equal(counts["3-D large batched transposeB"], 3);
    assert.equal(counts["3-D large batched transposeA"], 3);
    assert.equal(counts["4-D large batched (sliced)"], 6);
    // Crossed broadcasts are split whatever their size (tfjs's kernel gets them wrong).
    assert.equal(counts["crossed broadcast, small"], 9);
    assert.equal(counts["crossed broadcast, large"], 9);
    for (const [name, count] of Object.entries(counts)) {
      if (!name.includes("large") && !name.includes("crossed")) assert.equal(count, 1, name);
    }
    // The attention gradients below: split at 100 bins x 64 wide, not at 12 x 8.
    calls = 0;
    gradients(12, 8);
    const small = calls;
    calls = 0;
    gradients(100, 64);
    // Batch 3: every split product (QK^T, weights x V and their gradients) costs 3 calls, not 1.
    assert.ok(calls >= small + 2 * 6, `${calls} naive calls vs ${small}`);
  } finally {
    uninstallWasmMatMul();
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel(original);
    installWasmMatMul();
  }
});

/** A small MLP and an attention block; their gradients w.r.t. every input. */
function gradients(time: number, width: number): Float32Array[] {
  return tf.tidy(() => {
    const batch = 3, hidden = 2 * width;
    const x = tf.tensor(values(batch * time * width, 3), [batch, time, width]);
    const wq = tf.tensor(values(width * width, 4), [width, width]).mul(0.3);
    const wk = tf.tensor(values(width * width, 5), [width, width]).mul(0.3);
    const wv = tf.tensor(values(width * width, 6), [width, width]).mul(0.3);
    const w1 = tf.tensor(values(width * hidden, 7), [width, hidden]).mul(0.2);
    const w2 = tf.tensor(values(hidden * width, 8), [hidden, width]).mul(0.2);
    const target = tf.tensor(values(batch * time * width, 9), [batch, time, width]);
    const f = (
      x: tf.Tensor,
      wq: tf.Tensor,
      wk: tf.Tensor,
      wv: tf.Tensor,
      w1: tf.Tensor,
      w2: tf.Tensor,
    ) => {
      // tfjs's matMul gradient does not reduce over broadcast batch dimensions, so the
      // projections multiply the flattened (batch * time) x width input.
      const flat = x.reshape([-1, width]);
      const project = (w: tf.Tensor) => tf.matMul(flat, w).reshape([batch, time, width]);
      const q = project(wq), k = project(wk), v = project(wv);
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(width));
      const attended = tf.matMul(tf.softmax(scores), v);
      const h = tf.relu(tf.matMul(tf.add(x, attended).reshape([-1, width]), w1));
      const y = tf.matMul(h, w2).reshape([batch, time, width]);
      return tf.sum(tf.mul(y, target));
    };
    const grads = tf.grads(f)([x, wq, wk, wv, w1, w2]);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

Deno.test("gradients through the fast kernel equal the naive kernel's and cpu's", async () => {
  // time 12 keeps attention on the naive route; time 100 x width 64 sends its batched
  // products (100 x 64 x 100 per entry) down the sliced route.
  for (const [time, width] of [[12, 8], [100, 64]]) {
    const fast = gradients(time, width);
    const naive = withNaive(() => gradients(time, width));
    const cpu = await onCpu(() => gradients(time, width));
    assert.equal(fast.length, 6);
    fast.forEach((g, i) => {
      assert.ok(g.some((v) => v !== 0), `gradient ${i} is all zero`);
      assertClose(g, naive[i], 1e-4, `time ${time} gradient ${i} fast vs naive`);
      assertClose(g, cpu[i], 1e-4, `time ${time} gradient ${i} fast vs cpu`);
    });
  }
});

Deno.test("the fast kernel leaks no tensors or backend buffers", () => {
  for (const c of CASES) {
    const a = tf.tensor(values(c.a.reduce((x, y) => x * y, 1), 1), c.a);
    const b = tf.tensor(values(c.b.reduce((x, y) => x * y, 1), 2), c.b);
    const before = tf.memory();
    const out = tf.matMul(a, b, c.transposeA, c.transposeB);
    const during = tf.memory();
    assert.equal(during.numTensors, before.numTensors + 1, c.name);
    assert.equal(during.numDataBuffers, before.numDataBuffers + 1, c.name);
    out.dispose();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors, c.name);
    assert.equal(after.numDataBuffers, before.numDataBuffers, c.name);
    tf.dispose([a, b]);
  }
  // Gradients too (every matMul gradient uses transpose flags).
  const before = tf.memory();
  gradients(100, 64);
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
});

Deno.test("install / uninstall return whether they changed anything", () => {
  try {
    assert.equal(installWasmMatMul(), false, "already installed");
    const fast = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
    assert.equal(uninstallWasmMatMul(), true);
    assert.notEqual(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc, fast);
    assert.equal(uninstallWasmMatMul(), false, "already uninstalled");
    // Products still work on tfjs's own kernel.
    assert.deepEqual(product(CASES[0]).shape, [5, 3]);
    assert.equal(installWasmMatMul(), true);
    assert.notEqual(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc, fast); // a new closure
    assert.equal(installWasmMatMul(), false);
  } finally {
    installWasmMatMul(); // leave the fast kernel in place for later tests
  }
  assert.equal(installWasmMatMul(), false);
});
