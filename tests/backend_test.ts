import assert from "node:assert/strict";
import {
  type BackendInfo,
  backendInfo,
  type BackendName,
  describeMatMul,
  initBackend,
  probeAdapter,
} from "../lib/backend.ts";
import { tf } from "../lib/deps.ts";
import { BackendError } from "../lib/errors.ts";
import { Random } from "../lib/random.ts";

// WebGPU tests need an adapter: a GPU, or Mesa's software one (mesa-vulkan-drivers). CI
// installs Mesa, so there a missing adapter fails the test instead of skipping it.
const adapter = await probeAdapter();
const inCI = Boolean(Deno.env.get("CI"));
const webgpuUsable = adapter !== null || inCI;
const gpuTest = { sanitizeOps: false, sanitizeResources: false };

/** Parameters and input of a small pre-norm self-attention block, from a fixed seed. */
function attentionCase(seed: number) {
  const rng = new Random(seed);
  const values = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => scale * rng.normal());
  const [batch, time, width] = [2, 6, 8];
  return {
    shape: [batch, time, width] as const,
    x: values(batch * time * width, 1),
    params: {
      wq: values(width * width, 0.3),
      wk: values(width * width, 0.3),
      wv: values(width * width, 0.3),
      wo: values(width * width, 0.3),
      gamma: values(width, 0.1).map((v) => 1 + v),
      beta: values(width, 0.1),
    },
  };
}

/** Forward output and gradients (w.r.t. every parameter) of the block on the current backend. */
async function runAttention(seed: number): Promise<Record<string, Float32Array>> {
  const c = attentionCase(seed);
  const [batch, time, width] = c.shape;
  const heads = 2, headWidth = width / heads;
  const names = Object.keys(c.params) as (keyof typeof c.params)[];
  const result = tf.tidy(() => {
    const x = tf.tensor3d(c.x, [batch, time, width]);
    const params = names.map((n) =>
      n === "gamma" || n === "beta"
        ? tf.tensor1d(c.params[n])
        : tf.tensor2d(c.params[n], [width, width])
    );
    const block = (...p: tf.Tensor[]) => {
      const [wq, wk, wv, wo, gamma, beta] = p;
      const moments = tf.moments(x, -1, true);
      const normed = x.sub(moments.mean).div(moments.variance.add(1e-5).sqrt()).mul(gamma).add(
        beta,
      );
      const flat = normed.reshape([batch * time, width]);
      const split = (w: tf.Tensor) =>
        flat.matMul(w as tf.Tensor2D).reshape([batch, time, heads, headWidth]).transpose([
          0,
          2,
          1,
          3,
        ]);
      const q = split(wq), k = split(wk), v = split(wv);
      const scores = tf.matMul(q, k, false, true).div(Math.sqrt(headWidth));
      const attended = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([
        batch * time,
        width,
      ]);
      const out = attended.matMul(wo as tf.Tensor2D).reshape([batch, time, width]).add(x);
      return out;
    };
    const output = block(...params);
    const grads = tf.grads((...p: tf.Tensor[]) => block(...p).square().mean())(params);
    return [output, ...grads];
  });
  const arrays = await Promise.all(result.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(result);
  return Object.fromEntries(["output", ...names].map((n, i) => [n, arrays[i]]));
}

/** Largest absolute difference relative to the reference's largest magnitude. */
function relativeError(actual: Float32Array, reference: Float32Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

async function compareWithCpu(backend: BackendName) {
  await initBackend("cpu");
  const reference = await runAttention(11);
  await initBackend(backend);
  const before = tf.memory().numTensors;
  const actual = await runAttention(11);
  assert.equal(tf.memory().numTensors, before, "the attention pass leaked tensors");
  for (const name of Object.keys(reference)) {
    const error = relativeError(actual[name], reference[name]);
    assert.ok(error < 1e-4, `${backend} ${name} differs from cpu by ${error} (relative)`);
    assert.ok(actual[name].every(Number.isFinite), `${backend} ${name} has non-finite values`);
  }
  // The gradient is not trivially zero: the comparison means something.
  assert.ok(reference.wq.some((v) => Math.abs(v) > 1e-4));
}

/**
 * Run `script` in a fresh Deno process with only --allow-read and --allow-env (no FFI, no
 * prompt: stdin is closed) and return its output lines. (`deno eval` would grant every
 * permission, so the script goes to a file.)
 */
async function freshProcessLines(script: string, env: Record<string, string> = {}) {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", file],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(stdout).trim().split("\n");
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("wasm forward pass and gradients of an attention block agree with cpu", async () => {
  await compareWithCpu("wasm");
  await initBackend("wasm");
});

Deno.test({
  name: "webgpu forward pass and gradients of an attention block agree with cpu",
  ignore: !webgpuUsable,
  ...gpuTest,
  fn: async () => {
    await compareWithCpu("webgpu");
    await initBackend("wasm");
  },
});

Deno.test({
  name: "automatic choice skips a software WebGPU adapter and reports why",
  ...gpuTest,
  fn: async () => {
    const info = await initBackend();
    if (adapter && !adapter.isFallback) {
      assert.equal(info.backend, "webgpu");
    } else {
      assert.equal(info.backend, "wasm");
      assert.match(info.reason, adapter ? /software WebGPU adapter/ : /no WebGPU adapter/);
    }
    assert.equal(info.chosenBy, "automatic");
    assert.equal(info.tfjs, "4.22.0");
    assert.deepEqual(backendInfo(), info);
  },
});

Deno.test({
  name: "backendInfo reports the adapter and wasm features",
  ignore: !webgpuUsable,
  ...gpuTest,
  fn: async () => {
    const info = await initBackend("wasm");
    assert.ok(info.adapter, "an adapter was found");
    assert.equal(typeof info.adapter.isFallback, "boolean");
    assert.equal(typeof info.adapter.description, "string");
    assert.ok(info.wasm);
    assert.equal(typeof info.wasm.simd, "boolean");
    assert.ok(info.wasm.threads >= 1);
  },
});

Deno.test("an explicit choice is honoured and an unknown one is an error", async () => {
  const info = await initBackend("cpu");
  assert.equal(info.backend, "cpu");
  assert.equal(info.chosenBy, "argument");
  await assert.rejects(
    // deliberately wrong at run time
    () => initBackend("tpu" as BackendName),
    (error: Error) =>
      error instanceof BackendError &&
      /must be one of webgpu, wasm, cpu, got "tpu"/.test(error.message),
  );
  await initBackend("wasm");
});

Deno.test("BLEND_BACKEND overrides the argument, and a bad value is an error", async () => {
  const saved = Deno.env.get("BLEND_BACKEND");
  try {
    Deno.env.set("BLEND_BACKEND", "cpu");
    const info = await initBackend("wasm");
    assert.equal(info.backend, "cpu");
    assert.equal(info.chosenBy, "BLEND_BACKEND");
    assert.match(info.reason, /BLEND_BACKEND=cpu/);
    Deno.env.set("BLEND_BACKEND", "gpu");
    await assert.rejects(
      () => initBackend(),
      /BLEND_BACKEND must be one of webgpu, wasm, cpu, got "gpu"/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("BLEND_BACKEND");
    else Deno.env.set("BLEND_BACKEND", saved);
    await initBackend("wasm");
  }
});

Deno.test({
  name: "asking for webgpu without an adapter says why it cannot start",
  ignore: adapter !== null,
  fn: async () => {
    await assert.rejects(() => initBackend("webgpu"), /webgpu cannot start/);
  },
});

Deno.test("tfjs's advert for tfjs-node never reaches the console", async () => {
  const warnings: unknown[][] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    await initBackend("cpu");
    tf.tidy(() => tf.tensor([1, 2, 3]).square());
  } finally {
    console.warn = original;
    await initBackend("wasm");
  }
  assert.deepEqual(warnings.filter((w) => String(w[0]).includes("tfjs-node")), []);
});

Deno.test("backend info shows itself in Jupyter as a table", async () => {
  const info = await initBackend("wasm");
  const bundle = (info as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ]();
  assert.match(bundle["text/html"], /<td[^>]*>backend<\/td><td[^>]*>wasm<\/td>/);
  assert.match(bundle["text/html"], /TensorFlow\.js/);
  assert.equal(bundle["text/plain"], `wasm: ${info.reason}`);
});

Deno.test({
  name: "before initBackend, building a model or the smoothing baseline says to call it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const script = `
      const blend = await import("${new URL("../mod.ts", import.meta.url).href}");
      const data = blend.reachDataset({ trials: 20, heldinNeurons: 4, heldoutNeurons: 2, seed: 1 });
      for (const f of [
        () => blend.createModel({ kind: "ndt", ...blend.dataShape(data) }),
        () => blend.fitSmoothingBaseline(data),
      ]) {
        try { f(); console.log("no error"); } catch (e) { console.log(e.name + ": " + e.message); }
      }
    `;
    assert.deepEqual(await freshProcessLines(script), [
      "BackendError: createModel needs a compute backend: call `await initBackend()` first (it picks WebGPU on a GPU, else wasm, else cpu)",
      "BackendError: fitPoissonGLM needs a compute backend: call `await initBackend()` first (it picks WebGPU on a GPU, else wasm, else cpu)",
    ]);
  },
});

Deno.test("describeMatMul names who multiplies matrices, and why not OpenBLAS", () => {
  const base = backendInfo();
  const wasm = { simd: true, multithread: false, threads: 1 };
  const on = (w: BackendInfo["wasm"]) => ({ ...base, backend: "wasm" as const, wasm: w });
  assert.equal(
    describeMatMul(on({
      ...wasm,
      matMul: "blas",
      blas: { library: "libopenblas.so.0", config: "", threads: 1 },
    })),
    "OpenBLAS (libopenblas.so.0, 1 thread)",
  );
  assert.equal(
    describeMatMul(on({
      ...wasm,
      matMul: "fast",
      blas: null,
      blasUnavailable: "no FFI permission (run with --allow-ffi)",
    })),
    "XNNPACK (OpenBLAS not used: no FFI permission (run with --allow-ffi))",
  );
  assert.equal(describeMatMul(on({ ...wasm, matMul: "fast", blas: null })), "XNNPACK");
  assert.match(describeMatMul(on({ ...wasm, matMul: "naive", blas: null }))!, /naive/);
  assert.equal(describeMatMul({ ...base, backend: "cpu" }), null);
});

Deno.test({
  name: "BLEND_WASM_MATMUL: without FFI permission auto says why, blas is an error, typos too",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // A fresh process without --allow-ffi: blend must not prompt, and must say why not.
    const script = `
      const blend = await import("${new URL("../mod.ts", import.meta.url).href}");
      const info = await blend.initBackend("wasm");
      console.log(info.wasm.matMul + " | " + blend.describeMatMul(info));
      for (const choice of ["blas", "fastest"]) {
        Deno.env.set("BLEND_WASM_MATMUL", choice);
        try { await blend.initBackend("wasm"); console.log("no error"); }
        catch (e) { console.log(e.name + ": " + e.message); }
      }
    `;
    assert.deepEqual(await freshProcessLines(script, { BLEND_WASM_MATMUL: "auto" }), [
      "fast | XNNPACK (OpenBLAS not used: no FFI permission (run with --allow-ffi))",
      "BackendError: BLEND_WASM_MATMUL=blas, but no FFI permission (run with --allow-ffi)",
      'BackendError: BLEND_WASM_MATMUL must be "auto", "blas", "fast" or "naive", got "fastest"',
    ]);
  },
});
