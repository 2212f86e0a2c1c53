import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { Random } from "../../lib/random.ts";
import {
  correlationLoss,
  correlationMatrices,
  createStrategy,
  frozen,
  hardLoss,
  softLoss,
  STRATEGIES,
} from "../../lib/distill/strategies.ts";

await initBackend("wasm");

const [B, T, N, W] = [2, 6, 4, 3];

function randomArray(size: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: size }, () => random.normal());
}

function tensor3(data: Float32Array, shape = [B, T, N]): tf.Tensor3D {
  return tf.tensor3d(data, shape as [number, number, number]);
}

const S = randomArray(B * T * N, 1), TT = randomArray(B * T * N, 2);
const at = (a: Float32Array, b: number, t: number, n: number) => a[(b * T + t) * N + n];

async function scalar(x: tf.Scalar): Promise<number> {
  const v = (await x.data())[0];
  x.dispose();
  return v;
}

Deno.test("hardLoss is the mean squared difference", async () => {
  let want = 0;
  for (let i = 0; i < S.length; i++) want += (S[i] - TT[i]) ** 2;
  want /= S.length;
  const got = await scalar(hardLoss(tensor3(S), tensor3(TT)));
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
});

Deno.test("softLoss is T^2 KL(softmax(t/T) || softmax(s/T)) over neurons, by hand", async () => {
  const temperature = 2;
  let want = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const soft = (a: Float32Array) => {
        const e = Array.from({ length: N }, (_, n) => Math.exp(at(a, b, t, n) / temperature));
        const z = e.reduce((x, y) => x + y, 0);
        return e.map((v) => v / z);
      };
      const p = soft(TT), q = soft(S);
      for (let n = 0; n < N; n++) want += p[n] * Math.log(p[n] / q[n]);
    }
  }
  want = (want / (B * T)) * temperature * temperature;
  const got = await scalar(softLoss(tensor3(S), tensor3(TT), temperature));
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.throws(() => softLoss(tensor3(S), tensor3(TT), 0), /temperature must be a positive/);
});

Deno.test("correlationMatrices are Pearson correlations over time, trial by trial", async () => {
  const got = await correlationMatrices(tensor3(S)).data();
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const xi = Array.from({ length: T }, (_, t) => at(S, b, t, i));
        const xj = Array.from({ length: T }, (_, t) => at(S, b, t, j));
        const mi = xi.reduce((a, c) => a + c) / T, mj = xj.reduce((a, c) => a + c) / T;
        let cov = 0, vi = 0, vj = 0;
        for (let t = 0; t < T; t++) {
          cov += (xi[t] - mi) * (xj[t] - mj);
          vi += (xi[t] - mi) ** 2;
          vj += (xj[t] - mj) ** 2;
        }
        const want = cov / Math.sqrt(vi * vj);
        assert.ok(Math.abs(got[(b * N + i) * N + j] - want) < 1e-4, `${b} ${i} ${j}`);
      }
    }
  }
  // A constant neuron correlates with nothing (no NaN).
  const flat = await correlationMatrices(tf.ones([1, T, 2]) as tf.Tensor3D).data();
  assert.deepEqual(Array.from(flat), [0, 0, 0, 0]);
});

Deno.test("every strategy's loss is zero for identical outputs and positive otherwise", async () => {
  const features = randomArray(B * T * W, 3), other = randomArray(B * T * W, 4);
  for (const name of STRATEGIES) {
    const strategy = createStrategy(name, { studentWidth: W, teacherWidth: W });
    const same = strategy.loss(
      { logRates: tensor3(S), features: tensor3(features, [B, T, W]) },
      { logRates: tensor3(S), features: tensor3(features, [B, T, W]) },
    );
    assert.ok(Math.abs(await scalar(same.distill)) < 1e-6, `${name} on identical outputs`);
    const differ = strategy.loss(
      { logRates: tensor3(S), features: tensor3(features, [B, T, W]) },
      { logRates: tensor3(TT), features: tensor3(other, [B, T, W]) },
    );
    const parts = await Promise.all(Object.values(differ.terms).map((t) => t.data()));
    const total = await scalar(differ.distill);
    assert.ok(total > 0.01, `${name}: ${total}`);
    const sum = parts.reduce((a, p) => a + p[0], 0);
    assert.ok(Math.abs(sum - total) < 1e-5, `${name}: the terms sum to the loss`);
    strategy.dispose();
  }
});

Deno.test("gradients reach the student's outputs and never the teacher's", () => {
  const features = randomArray(B * T * W, 5);
  for (const name of STRATEGIES) {
    const strategy = createStrategy(name, { studentWidth: W, teacherWidth: W });
    const f = tensor3(features, [B, T, W]);
    const [gs, gt] = tf.grads((s: tf.Tensor, t: tf.Tensor) =>
      strategy.loss(
        { logRates: s as tf.Tensor3D, features: f },
        { logRates: t as tf.Tensor3D, features: tf.mul(f, 0.5) as tf.Tensor3D },
      ).distill
    )([tensor3(S), tensor3(TT)]);
    assert.ok(tf.max(tf.abs(gs)).dataSync()[0] > 1e-4, `${name}: student gradient`);
    assert.equal(tf.max(tf.abs(gt)).dataSync()[0], 0, `${name}: teacher gradient`);
    strategy.dispose();
  }
  const g = tf.grad((x: tf.Tensor) => tf.sum(frozen(x)))(tf.ones([3]));
  assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0]);
});

Deno.test("feature: the projection starts as the identity for equal widths, Glorot otherwise", () => {
  const same = createStrategy("feature", { studentWidth: 3, teacherWidth: 3 });
  assert.deepEqual(
    Array.from(same.variables.get("projection.weight")!.dataSync()),
    Array.from(tf.eye(3).dataSync()),
  );
  const wide = createStrategy("feature", { studentWidth: 4, teacherWidth: 6, seed: 1 });
  const w = wide.variables.get("projection.weight")!;
  assert.deepEqual(w.shape, [4, 6]);
  const limit = Math.sqrt(6 / 10);
  assert.ok(w.dataSync().every((v) => Math.abs(v) <= limit && v !== 0));
  assert.equal(createStrategy("hard").variables.size, 0);
  same.dispose();
  wide.dispose();
});

Deno.test("strategies reject bad input with messages naming it", () => {
  assert.throws(
    () => createStrategy("sharp" as never),
    (e) =>
      e instanceof ArgumentError && /hard, soft, feature, correlation, got "sharp"/.test(e.message),
  );
  assert.throws(() => createStrategy("feature", { studentWidth: 3 }), /teacherWidth/);
  assert.throws(() => createStrategy("hard", { auxiliaryWeight: -1 }), /auxiliaryWeight/);
  assert.throws(
    () => hardLoss(tf.zeros([1, 2, 3]), tf.zeros([1, 2, 4])),
    /student's output has shape \[1,2,3\] but the teacher's has \[1,2,4\]/,
  );
  assert.throws(
    () => correlationLoss(tf.zeros([1, 2, 3]), tf.zeros([1, 3, 3])),
    /correlation/,
  );
  const feature = createStrategy("feature", { studentWidth: 3, teacherWidth: 3 });
  assert.throws(
    () => feature.loss({ logRates: tensor3(S) }, { logRates: tensor3(S) }),
    /needs features/,
  );
  feature.dispose();
});
