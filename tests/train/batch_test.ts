import assert from "node:assert/strict";
import { type Array3, get3 } from "../../lib/array.ts";
import type { NeuralDataset } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { ArgumentError, DatasetError } from "../../lib/errors.ts";
import { initBackend } from "../../lib/backend.ts";
import {
  createModel,
  type ModelConfigInput,
  type PrivilegedSpec,
  resolveConfig,
} from "../../lib/models/model.ts";
import {
  checkModelFitsData,
  dataShape,
  gatherBatch,
  lossWeights,
  privilegedSignal,
  privilegedSpec,
  privilegedWidth,
} from "../../lib/train/batch.ts";
import { predict } from "../../lib/train/predict.ts";

// moveOnsetBin and conditions must fit 8 bins and 12 trials (the defaults are MC_Maze's).
const SMALL = {
  trials: 12,
  heldinNeurons: 5,
  heldoutNeurons: 3,
  bins: 8,
  forwardBins: 2,
  moveOnsetBin: 3,
  conditions: 3,
  seed: 3,
};
const D = reachDataset(SMALL);
const SHAPE = { heldinNeurons: 5, heldoutNeurons: 3, bins: 8, forwardBins: 2 };

function ndt(extra: Partial<ModelConfigInput> = {}) {
  return resolveConfig({ kind: "ndt", ...dataShape(D), ...extra } as ModelConfigInput);
}

/** A copy of the dataset with another behavior array. */
function withBehavior(dataset: NeuralDataset, behavior: Array3, names: string[]): NeuralDataset {
  return { ...dataset, behavior, behaviorNames: names };
}

/** Train-split mean and population s.d. of one behavior dimension, skipping NaN, in float64. */
function trainStats(dataset: NeuralDataset, k: number, split = "train") {
  const values: number[] = [];
  for (let i = 0; i < dataset.split.length; i++) {
    if (dataset.split[i] !== split) continue;
    for (let t = 0; t < dataset.behavior.shape[1]; t++) {
      const v = get3(dataset.behavior, i, t, k);
      if (!Number.isNaN(v)) values.push(v);
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), count: values.length };
}

function assertClose(actual: number, expected: number, tolerance: number, label: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${label}: ${actual} vs ${expected}`,
  );
}

Deno.test("dataShape reads the four sizes", () => {
  assert.deepEqual(dataShape(D), SHAPE);
});

Deno.test("gatherBatch places held-in, held-out and forward counts in targets", () => {
  const trials = [7, 0, 11];
  const config = ndt();
  const batch = gatherBatch(D, trials, config);
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins } = SHAPE;
  const width = nIn + nOut, length = bins + forwardBins;
  assert.deepEqual(batch.trials, trials);
  assert.equal(batch.heldin.length, trials.length * bins * nIn);
  assert.equal(batch.targets.length, trials.length * length * width);
  assert.equal(batch.privileged, undefined);
  let nonzero = 0;
  trials.forEach((trial, b) => {
    for (let t = 0; t < length; t++) {
      for (let c = 0; c < width; c++) {
        const expected = t < bins
          ? c < nIn ? get3(D.heldinSpikes, trial, t, c) : get3(D.heldoutSpikes, trial, t, c - nIn)
          : c < nIn
          ? get3(D.forwardHeldinSpikes, trial, t - bins, c)
          : get3(D.forwardHeldoutSpikes, trial, t - bins, c - nIn);
        assert.equal(batch.targets[(b * length + t) * width + c], expected, `${b} ${t} ${c}`);
        if (expected !== 0) nonzero++;
      }
    }
    for (let t = 0; t < bins; t++) {
      for (let c = 0; c < nIn; c++) {
        assert.equal(batch.heldin[(b * bins + t) * nIn + c], get3(D.heldinSpikes, trial, t, c));
      }
    }
  });
  assert.ok(nonzero > 10, `only ${nonzero} nonzero counts: the check would be vacuous`);
  // The trial list is copied.
  trials[0] = 3;
  assert.equal(batch.trials[0], 7);
});

Deno.test("lossWeights keeps scored held-in entries; held-out and forward weigh 1", () => {
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins } = SHAPE;
  const batchSize = 2, width = nIn + nOut, length = bins + forwardBins;
  const scored = new Float32Array(batchSize * bins * nIn);
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < bins; t++) {
      for (let n = 0; n < nIn; n++) {
        scored[(b * bins + t) * nIn + n] = (b + 2 * t + n) % 3 === 0 ? 1 : 0;
      }
    }
  }
  const weights = lossWeights(scored, ndt(), batchSize);
  assert.equal(weights.length, batchSize * length * width);
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < length; t++) {
      for (let c = 0; c < width; c++) {
        const expected = t < bins && c < nIn ? scored[(b * bins + t) * nIn + c] : 1;
        assert.equal(weights[(b * length + t) * width + c], expected, `${b} ${t} ${c}`);
      }
    }
  }
  // Nothing scored: only held-out and forward entries count.
  const none = lossWeights(new Float32Array(batchSize * bins * nIn), ndt(), batchSize);
  const total = none.reduce((a, v) => a + v, 0);
  assert.equal(total, batchSize * (length * width - bins * nIn));
});

Deno.test("privilegedSpec behavior: train-split mean and s.d.", () => {
  const spec = privilegedSpec(D, "behavior");
  assert.equal(spec.kind, "behavior");
  if (spec.kind !== "behavior") return;
  assert.deepEqual(spec.names, ["hand_vel_x", "hand_vel_y"]);
  assert.equal(privilegedWidth(spec), 2);
  for (let k = 0; k < 2; k++) {
    const s = trainStats(D, k);
    assert.ok(s.count > 0 && s.std > 0);
    assertClose(spec.mean[k], s.mean, 1e-9, `mean ${k}`);
    assertClose(spec.std[k], s.std, 1e-9, `std ${k}`);
  }
  // Statistics of another split are that split's.
  const val = privilegedSpec(D, "behavior", "val");
  if (val.kind !== "behavior") return;
  assertClose(val.mean[0], trainStats(D, 0, "val").mean, 1e-9, "val mean");
  assert.notEqual(val.mean[0], spec.mean[0]);
});

Deno.test("privilegedSignal z-scores behavior and puts 0 for NaN", () => {
  const behavior = { shape: D.behavior.shape, data: Float32Array.from(D.behavior.data) };
  const [, bins, dims] = behavior.shape;
  // NaN at a few (trial, bin, dim) entries, train trials included.
  const nanAt = [[1, 0, 0], [1, 5, 1], [2, 7, 0], [9, 3, 1]];
  for (const [i, t, k] of nanAt) behavior.data[(i * bins + t) * dims + k] = NaN;
  // No lag: no row is zeroed for lying in the forward window (see the lag tests below).
  const d = { ...withBehavior(D, behavior, [...D.behaviorNames]), behaviorLagMs: 0 };
  const spec = privilegedSpec(d, "behavior");
  if (spec.kind !== "behavior") throw new Error("not behavior");
  // NaN entries are skipped by the statistics.
  for (let k = 0; k < dims; k++) {
    assertClose(spec.mean[k], trainStats(d, k).mean, 1e-9, `mean ${k}`);
    assertClose(spec.std[k], trainStats(d, k).std, 1e-9, `std ${k}`);
  }
  const trials = [1, 2, 9, 4];
  const signal = privilegedSignal(d, trials, spec);
  assert.equal(signal.length, trials.length * bins * dims);
  trials.forEach((trial, b) => {
    for (let t = 0; t < bins; t++) {
      for (let k = 0; k < dims; k++) {
        const v = get3(behavior, trial, t, k);
        const expected: number = Number.isNaN(v)
          ? 0
          : Math.fround((v - spec.mean[k]) / spec.std[k]);
        assert.equal(signal[(b * bins + t) * dims + k], expected, `${trial} ${t} ${k}`);
      }
    }
  });
  // Over all train trials (no NaN left) the z-scored signal has mean ~0 and s.d. ~1.
  const train = D.split.flatMap((s, i) => (s === "train" ? [i] : []));
  const noLag = { ...D, behaviorLagMs: 0 };
  const z = privilegedSignal(noLag, train, privilegedSpec(noLag, "behavior"));
  for (let k = 0; k < dims; k++) {
    const column = Array.from({ length: z.length / dims }, (_, j) => z[j * dims + k]);
    const mean = column.reduce((a, b) => a + b, 0) / column.length;
    const sd = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-5, `${mean} ${sd}`);
  }
});

/** The z-scored behavior of some trials (NaN -> 0), every observed bin, as float32. */
function zscored(dataset: NeuralDataset, trials: number[], mean: number[], std: number[]) {
  const [, bins, dims] = dataset.behavior.shape;
  const out = new Float32Array(trials.length * bins * dims);
  trials.forEach((trial, b) => {
    for (let t = 0; t < bins; t++) {
      for (let k = 0; k < dims; k++) {
        const v = get3(dataset.behavior, trial, t, k);
        out[(b * bins + t) * dims + k] = Number.isNaN(v) ? 0 : (v - mean[k]) / std[k];
      }
    }
  });
  return out;
}

// 5 ms bins and a 15 ms lag: behavior row t is the hand at t + 3 bins, so rows 5, 6 and 7
// of the 8 observed bins hold behavior from the forward window.
const LAGGED = reachDataset({ ...SMALL, lagMs: 15 });

Deno.test("privilegedSignal zeroes the last lag bins, whose behavior is in the forward window", () => {
  assert.equal(LAGGED.behaviorLagMs, 15);
  assert.equal(LAGGED.binMs, 5);
  const spec = privilegedSpec(LAGGED, "behavior");
  if (spec.kind !== "behavior") throw new Error("not behavior");
  const trials = [0, 3, 5, 11, 7];
  const [, bins, dims] = LAGGED.behavior.shape;
  const signal = privilegedSignal(LAGGED, trials, spec);
  const expected = zscored(LAGGED, trials, spec.mean, spec.std);
  assert.equal(signal.length, expected.length);
  let nonzero = 0, hidden = 0;
  trials.forEach((trial, b) => {
    for (let t = 0; t < bins; t++) {
      for (let k = 0; k < dims; k++) {
        const j = (b * bins + t) * dims + k;
        if (t >= bins - 3) {
          assert.equal(signal[j], 0, `trial ${trial}, bin ${t}, dim ${k} is in the lag`);
          if (expected[j] !== 0) hidden++;
        } else {
          assert.equal(signal[j], expected[j], `trial ${trial}, bin ${t}, dim ${k}`);
          if (signal[j] !== 0) nonzero++;
        }
      }
    }
  });
  // Neither check is vacuous: the kept rows carry behavior, the zeroed rows had some.
  assert.ok(nonzero > trials.length * (bins - 3), `only ${nonzero} nonzero kept entries`);
  assert.ok(hidden > trials.length, `only ${hidden} nonzero entries were zeroed`);
  // The z-scoring statistics are unchanged: still every observed bin of the train trials.
  for (let k = 0; k < dims; k++) {
    assertClose(spec.mean[k], trainStats(LAGGED, k).mean, 1e-9, `mean ${k}`);
    assertClose(spec.std[k], trainStats(LAGGED, k).std, 1e-9, `std ${k}`);
  }
  // A lag of a whole trial or more zeroes everything (D: 100 ms = 20 bins of 8).
  assert.equal(D.behaviorLagMs, 100);
  const all = privilegedSignal(D, [0, 1, 2], privilegedSpec(D, "behavior"));
  assert.ok(all.every((v) => v === 0));
  // A lag that is not a whole number of bins is rounded: 12 ms at 5 ms bins is 2 bins.
  const rounded = privilegedSignal({ ...LAGGED, behaviorLagMs: 12 }, trials, spec);
  trials.forEach((_, b) => {
    for (let t = 0; t < bins; t++) {
      for (let k = 0; k < dims; k++) {
        const j = (b * bins + t) * dims + k;
        assert.equal(rounded[j], t >= bins - 2 ? 0 : expected[j], `12 ms: bin ${t}`);
      }
    }
  });
});

Deno.test("privilegedSignal with a zero or negative lag keeps every bin", () => {
  const trials = [0, 3, 5, 11, 7];
  for (const lag of [0, -20, -1000]) {
    const d = { ...LAGGED, behaviorLagMs: lag };
    const spec = privilegedSpec(d, "behavior");
    if (spec.kind !== "behavior") throw new Error("not behavior");
    const signal = privilegedSignal(d, trials, spec);
    assert.deepEqual(signal, zscored(d, trials, spec.mean, spec.std), `lag ${lag} ms`);
  }
  // The condition one-hot ignores the lag.
  const spec = privilegedSpec(LAGGED, "condition");
  const lagged = privilegedSignal(LAGGED, trials, spec);
  assert.deepEqual(lagged, privilegedSignal({ ...LAGGED, behaviorLagMs: 0 }, trials, spec));
  assert.equal(lagged.reduce((a, v) => a + v, 0), trials.length * 8);
});

Deno.test("gatherBatch gives a behavior teacher the lag-zeroed privileged signal", () => {
  const spec = privilegedSpec(LAGGED, "behavior");
  const config = resolveConfig({
    kind: "ndt",
    ...dataShape(LAGGED),
    privilegedDim: privilegedWidth(spec),
    privileged: spec,
  } as ModelConfigInput);
  const trials = [4, 2, 9];
  const batch = gatherBatch(LAGGED, trials, config);
  assert.deepEqual(batch.privileged, privilegedSignal(LAGGED, trials, spec));
  const [, bins, dims] = LAGGED.behavior.shape;
  for (let b = 0; b < trials.length; b++) {
    const tail = batch.privileged!.subarray((b * bins + bins - 3) * dims, (b + 1) * bins * dims);
    assert.ok(tail.every((v) => v === 0), `trial ${trials[b]}: the last 3 bins`);
  }
});

Deno.test("a teacher's predictions ignore behavior measured in the forward window", async () => {
  await initBackend("wasm");
  const teacher = createModel({
    kind: "ndt",
    dModel: 8,
    layers: 1,
    heads: 2,
    feedForward: 16,
    ...dataShape(LAGGED),
    privilegedDim: 2,
    privileged: privilegedSpec(LAGGED, "behavior"),
    seed: 4,
  } as ModelConfigInput);
  try {
    const [, bins, dims] = LAGGED.behavior.shape;
    /** LAGGED with behavior bin `t` of every trial shifted by 50 (mm/s). */
    const shifted = (t: number) => {
      const behavior = {
        shape: LAGGED.behavior.shape,
        data: Float32Array.from(LAGGED.behavior.data),
      };
      for (let i = 0; i < LAGGED.split.length; i++) {
        for (let k = 0; k < dims; k++) behavior.data[(i * bins + t) * dims + k] += 50;
      }
      return withBehavior(LAGGED, behavior, [...LAGGED.behaviorNames]);
    };
    const base = await predict(teacher, LAGGED, "test");
    // The same spec (statistics) is kept; only the dataset's behavior changes.
    const inLag = await predict(teacher, shifted(bins - 1), "test");
    assert.deepEqual(inLag.heldout.data, base.heldout.data, "behavior in the lag changed rates");
    assert.deepEqual(inLag.forwardHeldout.data, base.forwardHeldout.data);
    // Not vacuous: behavior at an earlier bin does reach the teacher's rates.
    const seen = await predict(teacher, shifted(1), "test");
    assert.notDeepEqual(seen.forwardHeldout.data, base.forwardHeldout.data);
  } finally {
    teacher.dispose();
  }
});

Deno.test("privilegedSpec behavior rejects no behavior or all-NaN behavior", () => {
  const [trials, bins] = D.behavior.shape;
  const empty = withBehavior(D, { shape: [trials, bins, 0], data: new Float32Array(0) }, []);
  assert.throws(
    () => privilegedSpec(empty, "behavior"),
    (e: unknown) => e instanceof ArgumentError && /has no behavior/.test(e.message),
  );
  const behavior = { shape: D.behavior.shape, data: Float32Array.from(D.behavior.data) };
  for (let j = 1; j < behavior.data.length; j += 2) behavior.data[j] = NaN; // dim 1 all NaN
  assert.throws(
    () => privilegedSpec(withBehavior(D, behavior, [...D.behaviorNames]), "behavior"),
    (e: unknown) =>
      e instanceof DatasetError && /"hand_vel_y" is NaN on every train trial/.test(e.message),
  );
});

Deno.test("privilegedSpec condition: one-hot rows that pick the trial's condition", () => {
  const spec = privilegedSpec(D, "condition");
  if (spec.kind !== "condition") throw new Error("not condition");
  const expected = [...new Set(D.condition)].sort((a, b) => a - b);
  assert.deepEqual(spec.conditions, expected);
  assert.ok(expected.length >= 2);
  assert.equal(privilegedWidth(spec), expected.length);
  const trials = Array.from({ length: D.condition.length }, (_, i) => i);
  const signal = privilegedSignal(D, trials, spec);
  const width = expected.length, bins = SHAPE.bins;
  assert.equal(signal.length, trials.length * bins * width);
  for (const trial of trials) {
    for (let t = 0; t < bins; t++) {
      const row = Array.from(
        signal.subarray((trial * bins + t) * width, (trial * bins + t + 1) * width),
      );
      assert.equal(row.reduce((a, b) => a + b, 0), 1);
      assert.equal(row.indexOf(1), expected.indexOf(D.condition[trial]), `trial ${trial}`);
    }
  }
  // A teacher's batch carries the same signal.
  const config = ndt({ privilegedDim: width, privileged: spec });
  const batch = gatherBatch(D, [4, 2], config);
  assert.deepEqual(batch.privileged, privilegedSignal(D, [4, 2], spec));
});

Deno.test("privilegedSignal throws for a condition the teacher never saw", () => {
  const known = [...new Set(D.condition)].sort((a, b) => a - b);
  const spec: PrivilegedSpec = { kind: "condition", conditions: known.slice(0, -1) };
  const missing = known[known.length - 1];
  const trial = D.condition.indexOf(missing);
  assert.throws(
    () => privilegedSignal(D, [trial], spec),
    (e: unknown) =>
      e instanceof ArgumentError &&
      e.message.includes(`trial ${trial} has condition ${missing}`) &&
      e.message.includes(`knows ${known.length - 1} conditions`),
  );
});

Deno.test("checkModelFitsData names the mismatched field", () => {
  checkModelFitsData(ndt(), D); // fits
  const cases: [Partial<ModelConfigInput>, RegExp][] = [
    [{ heldoutNeurons: 4 }, /heldoutNeurons = 4 but dataset "[^"]*" has 3/],
    [{ heldinNeurons: 6 }, /heldinNeurons = 6 .* has 5/],
    [{ bins: 9 }, /bins = 9 .* has 8/],
    [{ forwardBins: 0 }, /forwardBins = 0 .* has 2/],
  ];
  for (const [extra, message] of cases) {
    assert.throws(
      () => checkModelFitsData(ndt(extra), D),
      (e: unknown) => e instanceof ArgumentError && message.test(e.message),
      JSON.stringify(extra),
    );
  }
  // A behavior teacher must take the dataset's behavior names, in order.
  const spec = privilegedSpec(D, "behavior");
  checkModelFitsData(ndt({ privilegedDim: 2, privileged: spec }), D);
  const swapped = { ...spec, names: ["hand_vel_y", "hand_vel_x"] } as PrivilegedSpec;
  assert.throws(
    () => checkModelFitsData(ndt({ privilegedDim: 2, privileged: swapped }), D),
    (e: unknown) =>
      e instanceof ArgumentError &&
      e.message.includes("[hand_vel_y, hand_vel_x]") &&
      e.message.includes("[hand_vel_x, hand_vel_y]"),
  );
});
