import assert from "node:assert/strict";
import { type Array3, selectTrials } from "../../lib/array.ts";
import { type NeuralDataset, type Split, trialsInSplit } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { truthRates } from "../../lib/metrics/nlb.ts";
import { type TruthPrediction, truthRecovery } from "../../lib/metrics/truth.ts";
import { Random } from "../../lib/random.ts";

function assertArgumentError(f: () => unknown, ...texts: string[]) {
  assert.throws(
    f,
    (e: unknown) => e instanceof ArgumentError && texts.every((t) => e.message.includes(t)),
    `expected an ArgumentError containing ${texts.map((t) => JSON.stringify(t)).join(", ")}`,
  );
}

function close(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

// ---------------------------------------------------------------------------------------
// A hand-made dataset whose rates are closed-form formulas. The references come from
// Debian's python (/usr/bin/python3: numpy 1.24, scikit-learn 1.2), never from this code:
//
//   import numpy as np
//   from sklearn.metrics import r2_score
//   i = np.arange(6)[:, None, None]; t = np.arange(4)[None, :, None]
//   test = [1, 3, 5]
//   def heldin(c): return 0.5 + 0.3*np.sin(1.3*i + 0.7*t + c) + 0.1*c
//   def heldout(c): return 1 + 0.5*np.cos(0.9*i + 1.1*t + 2*c) + 0.2*c
//   def noise(c): return 0.5*(c + 1)*0.2*np.sin(2.7*i + 3.1*t + 1.7*c + 0.5)
//   for name, f, C in [("heldin", heldin, np.arange(2)[None, None, :]),
//                      ("heldout", heldout, np.arange(3)[None, None, :])]:
//       true = f(C) + 0*i + 0*t; pred = true + noise(C)
//       yt = true[test].reshape(-1, true.shape[2]); yp = pred[test].reshape(-1, true.shape[2])
//       print(name, r2_score(yt, yp), r2_score(yt, yp, multioutput="variance_weighted"),
//             r2_score(yt, yp, multioutput="raw_values").tolist())
// ---------------------------------------------------------------------------------------
const HAND_REFERENCE = {
  heldin: { r2: 0.7010796068352529, pooled: 0.7098098099781563 },
  heldout: { r2: 0.8171686621197477, pooled: 0.817578311592296 },
  heldinPerNeuron: [0.8865365631464869, 0.5156226505240189],
  heldoutPerNeuron: [0.9559777208803257, 0.847395739221971, 0.6481325262569464],
};

const HAND_SPLIT: Split[] = ["train", "test", "train", "test", "val", "test"];

function formula(
  trials: number[],
  bins: number,
  channels: number,
  f: (i: number, t: number, c: number) => number,
): Array3<Float64Array> {
  const data = new Float64Array(trials.length * bins * channels);
  trials.forEach((i, b) => {
    for (let t = 0; t < bins; t++) {
      for (let c = 0; c < channels; c++) data[(b * bins + t) * channels + c] = f(i, t, c);
    }
  });
  return { data, shape: [trials.length, bins, channels] };
}

const heldinRate = (i: number, t: number, c: number) =>
  0.5 + 0.3 * Math.sin(1.3 * i + 0.7 * t + c) + 0.1 * c;
const heldoutRate = (i: number, t: number, c: number) =>
  1 + 0.5 * Math.cos(0.9 * i + 1.1 * t + 2 * c) + 0.2 * c;
const noise = (i: number, t: number, c: number) =>
  0.5 * (c + 1) * 0.2 * Math.sin(2.7 * i + 3.1 * t + 1.7 * c + 0.5);

function handDataset(): NeuralDataset {
  const all = [0, 1, 2, 3, 4, 5];
  const zeros = (time: number, channels: number) => formula(all, time, channels, () => 0);
  return {
    name: "hand",
    binMs: 10,
    heldinSpikes: zeros(4, 2),
    heldoutSpikes: zeros(4, 3),
    forwardHeldinSpikes: zeros(1, 2),
    forwardHeldoutSpikes: zeros(1, 3),
    behavior: zeros(4, 0),
    behaviorNames: [],
    heldinNames: ["a", "b"],
    heldoutNames: ["c", "d", "e"],
    split: HAND_SPLIT,
    condition: new Int32Array(6),
    session: new Int32Array(6),
    behaviorLagMs: 0,
    truth: {
      heldinRates: formula(all, 4, 2, heldinRate),
      heldoutRates: formula(all, 4, 3, heldoutRate),
      forwardHeldinRates: zeros(1, 2),
      forwardHeldoutRates: zeros(1, 3),
      latents: formula(all, 5, 1, (i, t) => i + t),
      latentNames: ["z"],
      behaviorLatents: [],
    },
  };
}

Deno.test("truthRecovery: rates plus known noise give scikit-learn's R2", () => {
  const data = handDataset();
  const test = [1, 3, 5];
  const evalRates: TruthPrediction = {
    heldin: formula(test, 4, 2, (i, t, c) => heldinRate(i, t, c) + noise(i, t, c)),
    heldout: formula(test, 4, 3, (i, t, c) => heldoutRate(i, t, c) + noise(i, t, c)),
    trials: test,
  };
  const record = truthRecovery(data, { eval: evalRates });
  assert.equal(record.dataset, "hand");
  assert.equal(record.evalSplit, "test");
  assert.equal(record.evalTrials, 3);
  close(record.heldinR2, HAND_REFERENCE.heldin.r2, 1e-12, "held-in R2");
  close(record.heldoutR2, HAND_REFERENCE.heldout.r2, 1e-12, "held-out R2");
  close(record.heldin.r2VarianceWeighted, HAND_REFERENCE.heldin.pooled, 1e-12, "held-in pooled");
  close(record.heldout.r2VarianceWeighted, HAND_REFERENCE.heldout.pooled, 1e-12, "pooled");
  HAND_REFERENCE.heldinPerNeuron.forEach((r, c) =>
    close(record.heldin.r2PerNeuron[c], r, 1e-12, `held-in neuron ${c}`)
  );
  HAND_REFERENCE.heldoutPerNeuron.forEach((r, c) =>
    close(record.heldout.r2PerNeuron[c], r, 1e-12, `held-out neuron ${c}`)
  );
  // No latents: no latent score, and a note that says why.
  assert.equal(record.latentR2, null);
  assert.equal(record.latents, null);
  assert.ok(record.notes.some((n) => n.includes("latents")), record.notes.join("; "));
  // Another eval split: the val trial (4) scored against its own truth.
  const val = truthRecovery(data, {
    eval: {
      heldin: formula([4], 4, 2, heldinRate),
      heldout: formula([4], 4, 3, heldoutRate),
    },
  }, { evalSplit: "val" });
  assert.equal(val.evalTrials, 1);
  assert.equal(val.heldinR2, 1);
  assert.equal(val.heldoutR2, 1);
});

// ---------------------------------------------------------------------------------------
// The synthetic reach task.
// ---------------------------------------------------------------------------------------
const DATA = reachDataset({
  trials: 120,
  heldinNeurons: 12,
  heldoutNeurons: 5,
  bins: 30,
  forwardBins: 6,
  binMs: 20,
  moveOnsetBin: 8,
  seed: 5,
});
const TRAIN = trialsInSplit(DATA, "train"), TEST = trialsInSplit(DATA, "test");
const LATENTS = DATA.truth!.latents; // trials x (30 + 6) x L
const L = LATENTS.shape[2];

/** `latents · M + offset` over every bin of the given trials, with a fixed random M. */
function transformed(trials: number[], width: number, seed: number): Array3<Float32Array> {
  const rng = new Random(seed);
  const m = Float64Array.from({ length: L * width }, () => rng.normal());
  const offset = Float64Array.from({ length: width }, () => rng.normal(0, 3));
  const source = selectTrials(LATENTS, trials);
  const [n, time] = source.shape;
  const out = new Float32Array(n * time * width);
  for (let r = 0; r < n * time; r++) {
    for (let w = 0; w < width; w++) {
      let v = offset[w];
      for (let k = 0; k < L; k++) v += source.data[r * L + k] * m[k * width + w];
      out[r * width + w] = v;
    }
  }
  return { data: out, shape: [n, time, width] };
}

function randomLatents(trials: number, time: number, width: number, seed: number) {
  const rng = new Random(seed);
  const data = Float32Array.from({ length: trials * time * width }, () => rng.normal());
  return { data, shape: [trials, time, width] as [number, number, number] };
}

Deno.test("truthRecovery: the true rates score 1", () => {
  const record = truthRecovery(DATA, {
    train: truthRates(DATA, "train"),
    eval: truthRates(DATA, "test"),
  });
  assert.equal(record.heldinR2, 1);
  assert.equal(record.heldoutR2, 1);
  assert.equal(record.heldin.r2VarianceWeighted, 1);
  assert.equal(record.heldout.r2VarianceWeighted, 1);
  assert.equal(record.heldin.r2PerNeuron.length, 12);
  assert.equal(record.heldout.r2PerNeuron.length, 5);
  assert.equal(record.evalTrials, TEST.length);
  // Each neuron's train mean is a worse prediction: R2 <= 0 for every neuron.
  const means = truthRates(DATA, "train").heldout;
  const perNeuron = new Float64Array(5);
  for (let j = 0; j < means.data.length; j++) perNeuron[j % 5] += means.data[j];
  const flat = {
    heldin: truthRates(DATA, "test").heldin,
    heldout: {
      data: Float64Array.from(
        { length: TEST.length * 30 * 5 },
        (_, j) => perNeuron[j % 5] / (TRAIN.length * 30),
      ),
      shape: [TEST.length, 30, 5] as [number, number, number],
    },
  };
  const record2 = truthRecovery(DATA, { eval: flat });
  assert.ok(record2.heldout.r2PerNeuron.every((r) => r <= 0.01), `${record2.heldout.r2PerNeuron}`);
});

Deno.test("truthRecovery: latents that are a linear map of the true latents score ~1", () => {
  const rates = truthRates(DATA, "test");
  for (const width of [L, L + 4]) {
    const record = truthRecovery(DATA, {
      train: { ...truthRates(DATA, "train"), latents: transformed(TRAIN, width, 1) },
      eval: { ...rates, latents: transformed(TEST, width, 1) },
    });
    const latents = record.latents!;
    assert.ok(record.latentR2! > 0.9999, `width ${width}: latent R2 ${record.latentR2}`);
    assert.equal(latents.r2PerLatent.length, L);
    assert.deepEqual(latents.latentNames, DATA.truth!.latentNames);
    assert.equal(latents.width, width);
    assert.equal(latents.trainRows, TRAIN.length * 30);
    assert.equal(latents.evalRows, TEST.length * 30);
    assert.equal(latents.cvScores.length, latents.alphas.length);
    assert.ok(latents.alphas.includes(latents.alpha));
  }
  // Observed bins only are accepted, and give the same score.
  const observed = (a: Array3<Float32Array>): Array3<Float32Array> => {
    const [n, , w] = a.shape;
    const out = new Float32Array(n * 30 * w);
    for (let i = 0; i < n; i++) out.set(a.data.subarray(i * 36 * w, (i * 36 + 30) * w), i * 30 * w);
    return { data: out, shape: [n, 30, w] };
  };
  const full = truthRecovery(DATA, {
    train: { ...rates, latents: transformed(TRAIN, 6, 2) },
    eval: { ...rates, latents: transformed(TEST, 6, 2) },
  });
  const cut = truthRecovery(DATA, {
    train: { ...rates, latents: observed(transformed(TRAIN, 6, 2)) },
    eval: { ...rates, latents: observed(transformed(TEST, 6, 2)) },
  });
  assert.equal(cut.latentR2, full.latentR2);
  // A lower-rank map loses some latents: well below 1.
  assert.ok(full.latentR2! < 0.99, `rank 6 of ${L}: ${full.latentR2}`);
});

Deno.test("truthRecovery: the forward bins of the latents are not used", () => {
  const rates = truthRates(DATA, "test");
  const train = transformed(TRAIN, L, 3), test = transformed(TEST, L, 3);
  const base = truthRecovery(DATA, {
    train: { ...rates, latents: train },
    eval: { ...rates, latents: test },
  });
  for (const a of [train, test]) {
    const w = a.shape[2];
    for (let i = 0; i < a.shape[0]; i++) {
      a.data.fill(1e6, (i * 36 + 30) * w, (i + 1) * 36 * w);
    }
  }
  const garbled = truthRecovery(DATA, {
    train: { ...rates, latents: train },
    eval: { ...rates, latents: test },
  });
  assert.equal(garbled.latentR2, base.latentR2);
});

Deno.test("truthRecovery: random latents score about 0 or below", () => {
  const rates = truthRates(DATA, "test");
  const record = truthRecovery(DATA, {
    train: { ...rates, latents: randomLatents(TRAIN.length, 36, 16, 7) },
    eval: { ...rates, latents: randomLatents(TEST.length, 36, 16, 8) },
  });
  assert.ok(record.latentR2! < 0.02, `latent R2 ${record.latentR2}`);
  assert.ok(record.latentR2! > -0.2, `latent R2 ${record.latentR2}`);
});

Deno.test("truthRecovery: clear errors for no truth, shapes, trials and values", () => {
  const rates = truthRates(DATA, "test");
  const { truth: _, ...noTruth } = DATA;
  assertArgumentError(
    () => truthRecovery({ ...noTruth, name: "recorded" }, { eval: rates }),
    'dataset "recorded" has no truth',
  );
  assertArgumentError(
    () => truthRecovery(DATA, { eval: truthRates(DATA, "train") }),
    "eval.heldin has shape",
    `[${TRAIN.length}, 30, 12]`,
    `expected [${TEST.length}, 30, 12]`,
  );
  assertArgumentError(
    () => truthRecovery(DATA, { eval: { ...rates, heldout: rates.heldin } }),
    "eval.heldout has shape",
    `[${TEST.length}, 30, 12]`,
    `expected [${TEST.length}, 30, 5]`,
  );
  const nan = { data: Float64Array.from(rates.heldout.data), shape: rates.heldout.shape };
  nan.data[5 * 30 * 5 + 2 * 5 + 3] = NaN;
  assertArgumentError(
    () => truthRecovery(DATA, { eval: { ...rates, heldout: nan } }),
    "eval.heldout has NaN at trial 5, bin 2, channel 3",
  );
  assertArgumentError(
    () => truthRecovery(DATA, { eval: { ...rates, trials: TRAIN } }),
    "eval.trials",
    "expected the test split's trials",
  );
  assertArgumentError(
    () => truthRecovery(DATA, { eval: rates }, { evalSplit: "dev" as Split }),
    "evalSplit",
    '"dev"',
  );
  // Latents: the train side is required, its width must match, the bins must fit.
  const latents = transformed(TEST, 6, 1);
  assertArgumentError(
    () => truthRecovery(DATA, { eval: { ...rates, latents } }),
    "needs train.latents",
    "no train predictions",
  );
  assertArgumentError(
    () => truthRecovery(DATA, { train: rates, eval: { ...rates, latents } }),
    "needs train.latents",
    "train without latents",
  );
  assertArgumentError(
    () =>
      truthRecovery(DATA, {
        train: { ...rates, latents: transformed(TRAIN, 5, 1) },
        eval: { ...rates, latents },
      }),
    "train.latents has shape",
    `[${TRAIN.length}, 36, 5]`,
    `expected [${TRAIN.length}, 36, 6]`,
  );
  assertArgumentError(
    () =>
      truthRecovery(DATA, {
        train: { ...rates, latents: transformed(TRAIN, 6, 1) },
        eval: { ...rates, latents: randomLatents(TEST.length, 33, 6, 1) },
      }),
    "eval.latents has shape",
    `[${TEST.length}, 33, 6]`,
    `expected [${TEST.length}, 36, width >= 1]`,
  );
});
