import assert from "node:assert/strict";
import { backendInfo, initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import {
  blasUnavailable,
  installWasmBlasMatMul,
  loadBlas,
  uninstallWasmBlasMatMul,
} from "../../lib/kernels/wasm_blas.ts";
import { assertClose, type Case, CASES, product, reference, values } from "./matmul_reference.ts";

await initBackend("wasm");
const blas = loadBlas();
// CI installs libopenblas0 and the test task grants --allow-ffi; elsewhere say why not.
if (!blas) console.log(`wasm_blas_test: skipped, ${blasUnavailable()}`);
const ignore = !blas;

/** Run `body` with the kernel under the BLAS one (blend's XNNPACK kernel), then restore. */
function withoutBlas<T>(body: () => T): T {
  assert.equal(uninstallWasmBlasMatMul(), true);
  try {
    return body();
  } finally {
    assert.equal(installWasmBlasMatMul(), true);
  }
}

Deno.test({
  name: "initBackend picks the BLAS when it loads and reports it",
  ignore,
  fn() {
    const info = backendInfo();
    assert.equal(info.wasm?.matMul, "blas");
    assert.equal(info.wasm?.blas?.threads, 1);
    assert.match(info.wasm?.blas?.library ?? "", /blas/);
  },
});

Deno.test({
  name: "BLAS matMul equals a float64 reference and the XNNPACK kernel, every layout",
  ignore,
  fn() {
    const extra: Case[] = [
      { name: "2-D x 3-D transposeA (broadcast left)", a: [7, 5], b: [4, 7, 3], transposeA: true },
      {
        name: "3-D x 2-D both transposed",
        a: [4, 7, 5],
        b: [3, 7],
        transposeA: true,
        transposeB: true,
      },
      { name: "training-sized weight gradient", a: [600, 48], b: [600, 32], transposeA: true },
    ];
    for (const c of [...CASES, ...extra]) {
      const ours = product(c);
      const exact = reference(c);
      assert.deepEqual(ours.shape, exact.shape, `${c.name}: shape`);
      assertClose(ours.data, exact.data, 1e-5, `${c.name} BLAS vs float64`);
      assertClose(ours.data, withoutBlas(() => product(c)).data, 1e-5, `${c.name} BLAS vs XNNPACK`);
    }
  },
});

Deno.test({
  name: "BLAS matMul: gradients agree with the XNNPACK kernel; no tensor or buffer leaks",
  ignore,
  fn() {
    const gradients = () =>
      tf.tidy(() => {
        const x = tf.tensor(values(6 * 40 * 24, 3), [6, 40, 24]);
        const w = tf.tensor(values(24 * 16, 4), [24, 16]);
        const f = (x: tf.Tensor, w: tf.Tensor) => {
          // (tfjs's matMul gradient does not reduce broadcast batch dims: flatten, as models do.)
          const h = tf.matMul(x.reshape([-1, 24]), w).reshape([6, 40, 16]); // 2-D, tall
          const scores = tf.matMul(h, h, false, true); // batched, transposed
          return tf.sum(tf.square(tf.matMul(scores, h)));
        };
        return tf.grads(f)([x, w]).map((g) => Array.from(g.dataSync()));
      });
    const before = tf.memory();
    const ours = gradients();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numDataBuffers, before.numDataBuffers);
    const theirs = withoutBlas(gradients);
    ours.forEach((g, i) => assertClose(g, theirs[i], 1e-4, `gradient ${i}`));
  },
});

Deno.test({
  name: "BLAS matMul: products after the wasm heap grows still read the right memory",
  ignore,
  fn() {
    const a = tf.tensor(values(50 * 30, 5), [50, 30]);
    const b = tf.tensor(values(30 * 20, 6), [30, 20]);
    const first = tf.matMul(a, b).dataSync();
    // Allocate enough to force the heap to grow (and its buffer to be replaced).
    const big = tf.zeros([64, 1024, 1024]);
    const again = tf.matMul(a, b).dataSync();
    assert.deepEqual(Array.from(again), Array.from(first));
    for (const t of [a, b, big]) t.dispose();
  },
});

Deno.test({
  name: "BLAS kernel installs once; uninstall puts back the kernel underneath",
  ignore,
  fn() {
    assert.equal(installWasmBlasMatMul(), false, "initBackend installed it");
    assert.equal(uninstallWasmBlasMatMul(), true);
    assert.equal(uninstallWasmBlasMatMul(), false);
    assert.equal(installWasmBlasMatMul(), true);
  },
});
