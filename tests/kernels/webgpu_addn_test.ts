import assert from "node:assert/strict";
import { initBackend, probeAdapter } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";

// tfjs's own WebGPU AddN dropped inputs past the adapter's binding limit (8 scalars summing
// to 108 gave 45 on Mesa's adapter); blend's kernel must sum them all.
const webgpuUsable = (await probeAdapter()) !== null || Boolean(Deno.env.get("CI"));

Deno.test({
  name: "addN on webgpu sums every input, however many, and leaks nothing",
  ignore: !webgpuUsable,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await initBackend("webgpu");
    try {
      for (const k of [1, 2, 4, 5, 8, 13, 30]) {
        const xs = Array.from({ length: k }, (_, i) => tf.fill([3], i + 1));
        const before = tf.memory().numTensors;
        const sum = tf.addN(xs);
        assert.equal(tf.memory().numTensors, before + 1, `${k} inputs: one new tensor`);
        const expected = (k * (k + 1)) / 2;
        assert.deepEqual(
          Array.from(await sum.data()),
          [expected, expected, expected],
          `${k} inputs`,
        );
        tf.dispose([sum, ...xs]);
      }
    } finally {
      await initBackend("wasm");
    }
  },
});
