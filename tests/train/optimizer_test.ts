import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError, CheckpointError } from "../../lib/errors.ts";
import {
  AdamW,
  ADAMW_DEFAULTS,
  type AdamWOptions,
  learningRateAt,
} from "../../lib/train/optimizer.ts";
import type { NamedTensor } from "../../lib/train/safetensors.ts";

await initBackend("cpu");

// ---------------------------------------------------------------------------------------
// An independent float64 AdamW (Loshchilov & Hutter): for each weight w with gradient g,
//   g <- g * min(1, clip / ||all g||)           (global-norm clipping)
//   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   w <- w * (1 - lr wd) [rank >= 2 only] - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

interface RefWeight {
  shape: number[];
  w: number[];
  m: number[];
  v: number[];
}

class ReferenceAdamW {
  t = 0;
  constructor(public weights: Map<string, RefWeight>, public o: AdamWOptions) {}

  /** One step; returns the global gradient norm before clipping. */
  apply(gradients: Map<string, number[]>, lr: number): number {
    const o = this.o;
    this.t++;
    let squares = 0;
    for (const g of gradients.values()) for (const x of g) squares += x * x;
    const norm = Math.sqrt(squares);
    const scale = Number.isFinite(o.clipNorm) ? Math.min(1, o.clipNorm / Math.max(norm, 1e-12)) : 1;
    const c1 = 1 - o.beta1 ** this.t, c2 = 1 - o.beta2 ** this.t;
    for (const [name, p] of this.weights) {
      const raw = gradients.get(name);
      if (!raw) continue;
      const decay = p.shape.length >= 2 ? 1 - lr * o.weightDecay : 1;
      for (let i = 0; i < p.w.length; i++) {
        const g = raw[i] * scale;
        p.m[i] = o.beta1 * p.m[i] + (1 - o.beta1) * g;
        p.v[i] = o.beta2 * p.v[i] + (1 - o.beta2) * g * g;
        const update = (p.m[i] / c1) / (Math.sqrt(p.v[i] / c2) + o.epsilon);
        p.w[i] = p.w[i] * decay - lr * update;
      }
    }
    return norm;
  }
}

// Two weights: a 2x3 matrix (decayed) and a length-3 bias (never decayed). Float32-exact
// initial values so tfjs and the reference start from the same numbers.
const INIT: Record<string, { shape: number[]; values: number[] }> = {
  W: { shape: [2, 3], values: [0.5, -1.25, 2, 0.75, -0.5, 1.5] },
  b: { shape: [3], values: [0.25, -0.75, 1] },
};
// Quadratic loss sum(c * (w - target)^2) / 2 per weight, gradient c * (w - target).
const TARGET: Record<string, number[]> = { W: [1, 0, -1, 0.5, 2, 0], b: [0, 1, -0.5] };
const CURVATURE: Record<string, number[]> = { W: [1, 2, 0.5, 3, 1, 0.25], b: [4, 1, 0.5] };

let variableCount = 0;

function tfWeights(): Map<string, tf.Variable> {
  return new Map(
    Object.entries(INIT).map(([name, { shape, values }]) => [
      name,
      tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `${name}_${variableCount++}`)),
    ]),
  );
}

function refWeights(): Map<string, RefWeight> {
  return new Map(
    Object.entries(INIT).map(([name, { shape, values }]) => [
      name,
      { shape, w: [...values], m: values.map(() => 0), v: values.map(() => 0) },
    ]),
  );
}

function tfGradients(weights: Map<string, tf.Variable>, gain = 1): Map<string, tf.Tensor> {
  return new Map(
    [...weights].map(([name, w]) => [
      name,
      tf.tidy(() =>
        tf.mul(
          tf.mul(tf.sub(w, tf.tensor(TARGET[name], w.shape)), tf.tensor(CURVATURE[name], w.shape)),
          gain,
        )
      ),
    ]),
  );
}

function refGradients(weights: Map<string, RefWeight>, gain = 1): Map<string, number[]> {
  return new Map(
    [...weights].map((
      [name, p],
    ) => [name, p.w.map((w, i) => CURVATURE[name][i] * (w - TARGET[name][i]) * gain)]),
  );
}

function disposeAll(tensors: Iterable<tf.Tensor>): void {
  for (const t of tensors) t.dispose();
}

async function values(weights: Map<string, tf.Variable>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, w] of weights) out[name] = Array.from(await w.data());
  return out;
}

function assertClose(actual: number[], expected: number[], tolerance: number, label: string) {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    assert.ok(
      error <= tolerance * Math.max(1, Math.abs(expected[i])),
      `${label}[${i}]: ${actual[i]} vs ${expected[i]} (error ${error})`,
    );
  }
}

/** Run `steps` AdamW steps in tfjs and in the reference; compare weights after each. */
async function compareWithReference(
  options: AdamWOptions,
  steps: number,
  gain: (step: number) => number,
  lr: (step: number) => number,
): Promise<void> {
  const weights = tfWeights();
  const ref = new ReferenceAdamW(refWeights(), options);
  const opt = new AdamW(weights, options);
  try {
    for (let s = 0; s < steps; s++) {
      const grads = tfGradients(weights, gain(s));
      const expectedNorm = ref.apply(refGradients(ref.weights, gain(s)), lr(s));
      const norm = opt.apply(grads, lr(s));
      const n = (await norm.data())[0];
      norm.dispose();
      disposeAll(grads.values());
      assert.ok(Math.abs(n - expectedNorm) <= 1e-5 * expectedNorm, `norm ${n} vs ${expectedNorm}`);
      assert.equal(opt.step, s + 1);
      const got = await values(weights);
      for (const [name, p] of ref.weights) assertClose(got[name], p.w, 2e-6, `step ${s} ${name}`);
    }
  } finally {
    opt.dispose();
    disposeAll(weights.values());
  }
}

Deno.test("learningRateAt: linear warmup, then a cosine from the peak", () => {
  const peak = 2, warmup = 4, total = 14;
  // Warmup: peak * (step + 1) / warmup, reaching the peak at the last warmup step.
  assert.deepEqual(
    [0, 1, 2, 3].map((s) => learningRateAt(s, total, peak, warmup)),
    [0.5, 1, 1.5, 2],
  );
  // First step after warmup: the peak (cosine at progress 0).
  assert.equal(learningRateAt(warmup, total, peak, warmup), peak);
  // Halfway through the decay (progress 1/2): the mean of peak and floor.
  assert.ok(Math.abs(learningRateAt(9, total, peak, warmup, 0.1) - peak * 0.55) < 1e-12);
  assert.ok(Math.abs(learningRateAt(9, total, peak, warmup) - 1) < 1e-12);
  // Closed form in between: progress = (step - warmup) / (total - warmup).
  const p = 3 / 10;
  assert.ok(
    Math.abs(
      learningRateAt(7, total, peak, warmup, 0.2) -
        peak * (0.2 + 0.8 * 0.5 * (1 + Math.cos(Math.PI * p))),
    ) < 1e-12,
  );
  // No warmup: the peak at step 0.
  assert.equal(learningRateAt(0, 10, 1e-3, 0), 1e-3);
});

Deno.test("learningRateAt: decays to minFactor * peak, never increasing after warmup", () => {
  for (const minFactor of [0, 0.05, 0.5]) {
    const peak = 1e-3, warmup = 5, total = 40;
    const floor = peak * minFactor;
    let previous = Infinity;
    for (let s = 0; s < total; s++) {
      const lr = learningRateAt(s, total, peak, warmup, minFactor);
      assert.ok(lr > 0 && lr <= peak + 1e-18, `step ${s}: ${lr}`);
      if (s >= warmup) {
        assert.ok(lr <= previous, `step ${s}: ${lr} > ${previous}`);
        assert.ok(lr >= floor - 1e-18, `step ${s}: ${lr} below the floor`);
      } else assert.ok(lr < previous || s === 0);
      previous = s >= warmup ? lr : Infinity;
    }
    // The last step (total - 1) is at most one cosine step above the floor; the end of the
    // schedule (step = total) and anything past it is exactly the floor.
    const span = total - warmup;
    const last = learningRateAt(total - 1, total, peak, warmup, minFactor);
    const oneStep = peak * (1 - minFactor) * 0.5 * (1 - Math.cos(Math.PI / span));
    assert.ok(last - floor <= oneStep + 1e-15, `last ${last}, floor ${floor}`);
    for (const s of [total, total + 5]) {
      assert.ok(Math.abs(learningRateAt(s, total, peak, warmup, minFactor) - floor) < 1e-18);
    }
  }
});

Deno.test("AdamW: one step equals the float64 reference (decay on matrices only)", async () => {
  await compareWithReference(
    { ...ADAMW_DEFAULTS, learningRate: 0.1, weightDecay: 0.2, clipNorm: Infinity },
    1,
    () => 1,
    () => 0.1,
  );
});

Deno.test("AdamW: several steps with decay, clipping and a changing rate", async () => {
  // Gradient norms around 3..6 with clip 2.5: clipping is active on some steps.
  await compareWithReference(
    { learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1, clipNorm: 2.5 },
    8,
    (s) => (s % 3 === 0 ? 1.5 : 0.5),
    (s) => 0.05 * (1 - s / 10),
  );
});

Deno.test("AdamW: the first step with zero gradients only decays the matrices", async () => {
  const weights = tfWeights();
  const opt = new AdamW(weights, { weightDecay: 0.5, clipNorm: 1 });
  const grads = new Map([...weights].map(([name, w]) => [name, tf.zerosLike(w)]));
  const norm = opt.apply(grads, 0.1);
  assert.equal((await norm.data())[0], 0);
  const got = await values(weights);
  assertClose(got.W, INIT.W.values.map((w) => w * (1 - 0.1 * 0.5)), 1e-7, "W");
  assert.deepEqual(got.b, INIT.b.values);
  norm.dispose();
  disposeAll(grads.values());
  opt.dispose();
  disposeAll(weights.values());
});

Deno.test("AdamW: a weight without a gradient is left alone", async () => {
  const weights = tfWeights();
  const opt = new AdamW(weights, { weightDecay: 0.5 });
  const all = tfGradients(weights);
  const grads = new Map([["b", all.get("b")!]]);
  opt.apply(grads, 0.1).dispose();
  const got = await values(weights);
  assert.deepEqual(got.W, INIT.W.values);
  assert.notDeepEqual(got.b, INIT.b.values);
  disposeAll(all.values());
  opt.dispose();
  disposeAll(weights.values());
});

Deno.test("AdamW with weightDecay 0 and no clipping matches tf.train.adam", async () => {
  const lr = 0.05;
  const ours = tfWeights(), theirs = tfWeights();
  const opt = new AdamW(ours, {
    learningRate: lr,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    weightDecay: 0,
    clipNorm: Infinity,
  });
  const adam = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  const ref = new ReferenceAdamW(refWeights(), { ...opt.options });
  for (let s = 0; s < 6; s++) {
    const grads = tfGradients(ours);
    opt.apply(grads, lr).dispose();
    disposeAll(grads.values());
    const theirGrads = tfGradients(theirs);
    adam.applyGradients(
      [...theirs].map(([name, w]) => ({ name: w.name, tensor: theirGrads.get(name)! })),
    );
    disposeAll(theirGrads.values());
    ref.apply(refGradients(ref.weights), lr);
    const a = await values(ours), b = await values(theirs);
    for (const name of Object.keys(INIT)) {
      // tfjs keeps beta^t in float32 and forms 1 - beta2^t there (relative error ~1e-5 of
      // the correction once beta2^t is near 1), so it drifts from exact Adam by ~1e-6 per
      // step at this rate; blend's corrections are float64. Hence 1e-5 against tfjs, and
      // 2e-6 against the float64 reference.
      assertClose(a[name], b[name], 1e-5, `step ${s} ${name} vs tf.train.adam`);
      assertClose(a[name], ref.weights.get(name)!.w, 2e-6, `step ${s} ${name} vs reference`);
      const exact = ref.weights.get(name)!.w;
      const error = (x: number[]) => x.reduce((e, xi, i) => e + Math.abs(xi - exact[i]), 0);
      assert.ok(error(a[name]) < error(b[name]), `step ${s} ${name}: tfjs is closer to exact`);
    }
  }
  adam.dispose();
  opt.dispose();
  disposeAll(ours.values());
  disposeAll(theirs.values());
});

Deno.test("AdamW clipping: huge gradients update like the clipped gradients", async () => {
  // Step 1 with a moderate gradient, step 2 with a gradient 1e4 times larger. With clip
  // 1, the result must equal feeding the pre-clipped gradients to an unclipped optimizer;
  // without clipping the huge gradient dominates the second moment and the result differs.
  const clipped = tfWeights(), preclipped = tfWeights(), unclipped = tfWeights();
  const base = { learningRate: 0.1, weightDecay: 0.1 };
  const a = new AdamW(clipped, { ...base, clipNorm: 1 });
  const b = new AdamW(preclipped, { ...base, clipNorm: Infinity });
  const c = new AdamW(unclipped, { ...base, clipNorm: Infinity });
  for (const gain of [0.1, 1e4]) {
    const g = tfGradients(clipped, gain); // all three hold the same weights so far
    const trueNorm = Math.sqrt(
      [...g.values()].reduce((s, t) => s + (t.square().sum().dataSync()[0]), 0),
    );
    const scale = Math.min(1, 1 / trueNorm);
    const scaled = new Map([...g].map(([name, t]) => [name, tf.mul(t, scale)]));
    const na = a.apply(g, 0.1), nb = b.apply(scaled, 0.1), nc = c.apply(g, 0.1);
    // The returned norm is the norm before clipping.
    assert.ok(Math.abs(na.dataSync()[0] - trueNorm) <= 1e-5 * trueNorm);
    assert.ok(Math.abs(nb.dataSync()[0] - Math.min(trueNorm, 1)) <= 1e-5);
    disposeAll([na, nb, nc, ...g.values(), ...scaled.values()]);
  }
  const va = await values(clipped), vb = await values(preclipped), vc = await values(unclipped);
  for (const name of Object.keys(INIT)) {
    assertClose(va[name], vb[name], 1e-6, name);
  }
  assert.ok(
    Object.keys(INIT).some((name) => va[name].some((x, i) => Math.abs(x - vc[name][i]) > 1e-3)),
    "clipping changed nothing",
  );
  for (const o of [a, b, c]) o.dispose();
  for (const w of [clipped, preclipped, unclipped]) disposeAll(w.values());
});

Deno.test("AdamW: the returned norm is the global norm of every gradient", () => {
  const weights = tfWeights();
  const opt = new AdamW(weights, { clipNorm: 0.5 });
  const grads = new Map<string, tf.Tensor>([
    ["W", tf.tensor([[3, 0, 0], [0, 0, 4]])],
    ["b", tf.tensor([12, 0, 0])],
  ]);
  const norm = opt.apply(grads, 0.01);
  assert.equal(norm.rank, 0);
  assert.equal(norm.dataSync()[0], 13); // sqrt(9 + 16 + 144)
  disposeAll([norm, ...grads.values()]);
  opt.dispose();
  disposeAll(weights.values());
});

Deno.test("AdamW state() / loadState() continues exactly like an uninterrupted run", async () => {
  const options = { learningRate: 0.05, weightDecay: 0.1, clipNorm: 3 };
  const weights = tfWeights();
  const opt = new AdamW(weights, options);
  const step = (o: AdamW, w: Map<string, tf.Variable>, s: number) => {
    const g = tfGradients(w, 1 + s);
    o.apply(g, 0.05 / (1 + s)).dispose();
    disposeAll(g.values());
  };
  for (let s = 0; s < 3; s++) step(opt, weights, s);
  const state = await opt.state();
  assert.deepEqual([...state.keys()].sort(), ["m.W", "m.b", "step", "v.W", "v.b"]);
  assert.deepEqual(state.get("m.W")!.shape, [2, 3]);
  assert.equal(state.get("m.W")!.dtype, "F32");
  assert.deepEqual(Array.from(state.get("step")!.data as Float64Array), [3]);
  // Moments are nonzero after three steps.
  assert.ok(Array.from(state.get("v.b")!.data as Float32Array).every((x) => x > 0));

  // A second optimizer over copies of the weights, restored from the state.
  const copies = new Map(
    [...weights].map((
      [name, w],
    ) => [name, tf.tidy(() => tf.variable(w.clone(), true, `copy_${name}_${variableCount++}`))]),
  );
  const resumed = new AdamW(copies, options);
  resumed.loadState(state, "test state");
  assert.equal(resumed.step, 3);
  for (let s = 3; s < 6; s++) {
    step(opt, weights, s);
    step(resumed, copies, s);
  }
  assert.equal(resumed.step, 6);
  assert.deepEqual(await values(copies), await values(weights));
  const [s1, s2] = [await opt.state(), await resumed.state()];
  for (const key of s1.keys()) assert.deepEqual(s2.get(key), s1.get(key), key);
  opt.dispose();
  resumed.dispose();
  disposeAll(weights.values());
  disposeAll(copies.values());
});

Deno.test("AdamW loadState rejects a missing or mis-shaped entry, listing each problem", async () => {
  const weights = tfWeights();
  const opt = new AdamW(weights);
  const good = await opt.state();
  const broken = new Map<string, NamedTensor>(good);
  broken.delete("m.b");
  broken.set("v.W", { dtype: "F32", shape: [3, 2], data: new Float32Array(6) });
  broken.delete("step");
  assert.throws(
    () => opt.loadState(broken, "run/optimizer.safetensors"),
    (e: unknown) =>
      e instanceof CheckpointError &&
      e.message.includes("run/optimizer.safetensors") &&
      e.message.includes(`missing "m.b"`) &&
      e.message.includes(`"v.W" has shape [3,2] but the weight has [2,3]`) &&
      e.message.includes(`missing "step"`),
  );
  // A failed load changes nothing.
  assert.equal(opt.step, 0);
  const only = new Map(good);
  only.delete("v.b");
  assert.throws(() => opt.loadState(only, "x"), /missing "v\.b"/);
  opt.loadState(good, "x"); // the untouched state loads
  opt.dispose();
  disposeAll(weights.values());
});

Deno.test("AdamW rejects negative or non-numeric options, naming them", () => {
  const weights = tfWeights();
  for (const key of Object.keys(ADAMW_DEFAULTS) as (keyof AdamWOptions)[]) {
    for (const bad of [-1, NaN]) {
      assert.throws(
        () => new AdamW(weights, { [key]: bad }),
        (e: unknown) =>
          e instanceof ArgumentError && e.message.includes(`optimizer ${key} must be`) &&
          e.message.includes(String(bad)),
        `${key} = ${bad}`,
      );
    }
  }
  assert.throws(
    () => new AdamW(weights, { learningRate: "0.1" as unknown as number }),
    ArgumentError,
  );
  // A decay rate of 1 would zero the bias correction and turn every weight into NaN.
  assert.throws(() => new AdamW(weights, { beta1: 1 }), /optimizer beta1 must be < 1, got 1/);
  assert.throws(() => new AdamW(weights, { beta2: 1.5 }), /optimizer beta2 must be < 1, got 1.5/);
  disposeAll(weights.values());
});

Deno.test("AdamW leaks no tensors", () => {
  const weights = tfWeights();
  const before = tf.memory().numTensors;
  const opt = new AdamW(weights, { weightDecay: 0.1, clipNorm: 1 });
  // Two moments per weight.
  assert.equal(tf.memory().numTensors, before + 4);
  for (let s = 0; s < 3; s++) {
    const grads = tfGradients(weights, 10);
    const norm = opt.apply(grads, 0.01);
    assert.equal(tf.memory().numTensors, before + 4 + 2 + 1); // moments, gradients, norm
    norm.dispose();
    disposeAll(grads.values());
  }
  opt.dispose();
  assert.equal(tf.memory().numTensors, before);
  disposeAll(weights.values());
});
