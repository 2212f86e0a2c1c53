import assert from "node:assert/strict";
import { type Array3, array3, get3, index3 } from "../../lib/array.ts";
import {
  behaviorScaling,
  minibatches,
  type NeuralDataset,
  splitDataset,
  SPLITS,
  subsetTrials,
  summarizeDataset,
  trialsInSplit,
  validateDataset,
  zscoreBehavior,
} from "../../lib/data/dataset.ts";
import { DatasetError } from "../../lib/errors.ts";

const f32 = (shape: [number, number, number], values: number[]): Array3 =>
  array3(shape, new Float32Array(values));

/**
 * A tiny valid dataset: 4 trials (train, val, train, test), 2 bins of 10 ms, 2 held-in and
 * 1 held-out neuron, 1 forward bin, 2 behavior dimensions (the second constant on train),
 * and ground truth with 2 latents over 2 + 1 bins.
 */
function tinyDataset(): NeuralDataset {
  return {
    name: "tiny",
    binMs: 10,
    // trial: [bin 0: ch0, ch1, bin 1: ch0, ch1]
    heldinSpikes: f32([4, 2, 2], [1, 0, 2, 1, 0, 0, 3, 1, 1, 2, 0, 0, 2, 0, 0, 1]),
    heldoutSpikes: f32([4, 2, 1], [0, 1, 1, 0, 0, 0, 2, 0]),
    forwardHeldinSpikes: f32([4, 1, 2], [0, 1, 2, 0, 1, 1, 0, 0]),
    forwardHeldoutSpikes: f32([4, 1, 1], [1, 0, 0, 3]),
    behavior: f32([4, 2, 2], [1, 5, 3, 5, 10, 7, NaN, 7, 5, 5, NaN, 5, -1, 9, 2, 5]),
    behaviorNames: ["vel_x", "grip"],
    heldinNames: ["n0", "n1"],
    heldoutNames: ["h0"],
    split: ["train", "val", "train", "test"],
    condition: new Int32Array([0, 1, 0, 2]),
    session: new Int32Array([0, 0, 1, 1]),
    behaviorLagMs: 20,
    truth: {
      heldinRates: f32([4, 2, 2], [0.5, 0.25, 1, 1, 0, 0.5, 2, 0.5, 1, 1, 0, 0, 1.5, 0, 0, 1]),
      heldoutRates: f32([4, 2, 1], [0.1, 0.9, 1, 0.2, 0, 0, 1.5, 0.1]),
      forwardHeldinRates: f32([4, 1, 2], [0, 1, 2, 0, 1, 1, 0.5, 0]),
      forwardHeldoutRates: f32([4, 1, 1], [1, 0.5, 0, 2]),
      latents: array3([4, 3, 2], Float32Array.from({ length: 24 }, (_, i) => i / 10 - 1)),
      latentNames: ["z0", "z1"],
      behaviorLatents: [0],
    },
  };
}

/** Assert that validating the mutated tiny dataset throws a DatasetError saying `parts`. */
function rejects(mutate: (d: NeuralDataset) => void, ...parts: string[]): void {
  const d = tinyDataset();
  mutate(d);
  assert.throws(() => validateDataset(d), (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected a DatasetError, got ${e}`);
    for (const part of parts) {
      assert.ok(e.message.includes(part), `message "${e.message}" lacks "${part}"`);
    }
    return true;
  });
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} vs ${expected}`,
  );
}

Deno.test("validateDataset accepts the tiny dataset, with and without truth and lfp", () => {
  validateDataset(tinyDataset());
  const noTruth = tinyDataset();
  delete noTruth.truth;
  validateDataset(noTruth);
  const withLfp = tinyDataset();
  withLfp.lfp = f32([4, 2, 3], Array(24).fill(NaN).map((v, i) => (i % 5 ? i * 0.1 : v)));
  validateDataset(withLfp);
});

Deno.test("validateDataset: held-out time bins must match held-in", () => {
  rejects(
    (d) => (d.heldoutSpikes = array3([4, 3, 1])),
    "heldoutSpikes has 3 time bins but heldinSpikes has 2",
  );
});

Deno.test("validateDataset: behavior trials must match held-in", () => {
  rejects((d) => (d.behavior = array3([3, 2, 2])), "behavior has 3 trials but heldinSpikes has 4");
});

Deno.test("validateDataset: forward channels and forward bins must agree", () => {
  rejects(
    (d) => (d.forwardHeldinSpikes = array3([4, 1, 3])),
    "forwardHeldinSpikes has 3 channels but heldinSpikes has 2",
  );
  rejects(
    (d) => (d.forwardHeldoutSpikes = array3([4, 2, 1])),
    "forwardHeldoutSpikes has 2 time bins but forwardHeldinSpikes has 1",
  );
  rejects(
    (d) => (d.forwardHeldoutSpikes = array3([4, 1, 2])),
    "forwardHeldoutSpikes has 2 channels but heldoutSpikes has 1",
  );
});

Deno.test("validateDataset: a malformed array is a DatasetError naming the field", () => {
  rejects(
    (d) => (d.heldinSpikes = undefined as unknown as Array3),
    "heldinSpikes: expected { data, shape",
    "got undefined",
  );
  rejects(
    (d) => (d.behavior = { data: new Float32Array(3), shape: [4, 2, 2] }),
    "behavior: data has 3 values but shape [4, 2, 2] needs 16",
  );
});

Deno.test("validateDataset: negative spike count", () => {
  rejects(
    (d) => (d.heldinSpikes.data[index3(d.heldinSpikes, 1, 1, 0)] = -1),
    "heldinSpikes has a negative count -1 at trial 1, bin 1, channel 0",
    "expected counts >= 0",
  );
});

Deno.test("validateDataset: non-integer spike count", () => {
  rejects(
    (d) => (d.heldoutSpikes.data[index3(d.heldoutSpikes, 2, 0, 0)] = 1.5),
    "heldoutSpikes has a non-integer count 1.5 at trial 2, bin 0, channel 0",
    "expected whole spike counts",
  );
  rejects(
    (d) => (d.forwardHeldinSpikes.data[index3(d.forwardHeldinSpikes, 0, 0, 1)] = Infinity),
    "forwardHeldinSpikes has a non-integer count Infinity at trial 0, bin 0, channel 1",
  );
});

Deno.test("validateDataset: NaN spike count", () => {
  rejects(
    (d) => (d.forwardHeldoutSpikes.data[index3(d.forwardHeldoutSpikes, 3, 0, 0)] = NaN),
    "forwardHeldoutSpikes has NaN at trial 3, bin 0, channel 0",
    "spike counts cannot be missing",
  );
});

Deno.test("validateDataset: infinite behavior (NaN behavior is allowed)", () => {
  rejects(
    (d) => (d.behavior.data[index3(d.behavior, 0, 1, 1)] = Infinity),
    "behavior has Infinity at trial 0, bin 1, channel 1",
  );
  rejects(
    (d) => (d.behavior.data[index3(d.behavior, 3, 0, 0)] = -Infinity),
    "behavior has -Infinity at trial 3, bin 0, channel 0",
  );
  rejects(
    (d) => (d.lfp = f32([4, 2, 1], [0, 0, 0, 0, 0, Infinity, 0, 0])),
    "lfp has Infinity at trial 2, bin 1, channel 0",
  );
  rejects((d) => (d.lfp = array3([5, 2, 1])), "lfp has 5 trials but heldinSpikes has 4");
});

Deno.test("validateDataset: names must match channel counts", () => {
  rejects(
    (d) => (d.heldinNames = ["n0"]),
    "heldinNames has 1 names but heldinSpikes has 2 channels",
  );
  rejects(
    (d) => (d.heldoutNames = ["a", "b", "c"]),
    "heldoutNames has 3 names but heldoutSpikes has 1 channels",
  );
  rejects(
    (d) => (d.behaviorNames = "vel_x" as unknown as string[]),
    "behaviorNames must be an array of strings",
    'got "vel_x"',
  );
});

Deno.test("validateDataset: unknown split name", () => {
  rejects(
    (d) => (d.split[2] = "tset" as "test"),
    'split[2] is "tset"; expected one of train, val, test',
  );
});

Deno.test("validateDataset: an empty split fails unless requiredSplits relaxes it", () => {
  const d = tinyDataset();
  d.split = ["train", "train", "train", "test"];
  assert.throws(
    () => validateDataset(d),
    (e: unknown) =>
      e instanceof DatasetError &&
      e.message.includes('split "val" is empty') &&
      e.message.includes("train 3, val 0, test 1"),
  );
  validateDataset(d, { requiredSplits: ["train", "test"] });
  assert.throws(
    () => validateDataset(d, { requiredSplits: ["test", "val"] }),
    (e: unknown) => e instanceof DatasetError && e.message.includes('split "val" is empty'),
  );
});

Deno.test("validateDataset: split length must equal the number of trials", () => {
  rejects(
    (d) => (d.split = ["train", "val", "test"]),
    "split has 3 entries but the spikes have 4 trials",
  );
});

Deno.test("validateDataset: condition and session ids", () => {
  rejects(
    (d) => (d.condition = [0, 1, 0, 2] as unknown as Int32Array),
    "condition must be an Int32Array, got array of length 4",
  );
  rejects((d) => (d.condition[1] = -1), "condition[1] is -1; expected an id >= 0");
  rejects(
    (d) => (d.session = new Int32Array([0, 0, 1])),
    "session has 3 entries but the spikes have 4 trials",
  );
  rejects((d) => (d.session[3] = -2), "session[3] is -2");
});

Deno.test("validateDataset: truth rates must have the spike shapes", () => {
  rejects(
    (d) => (d.truth!.heldoutRates = array3([4, 2, 2])),
    "truth.heldoutRates has shape [4, 2, 2] but heldoutSpikes has [4, 2, 1]",
  );
});

Deno.test("validateDataset: truth rates must be finite and >= 0", () => {
  rejects(
    (d) => (d.truth!.heldinRates.data[index3(d.truth!.heldinRates, 0, 0, 1)] = -0.5),
    "truth.heldinRates has -0.5 at trial 0, bin 0, channel 1; expected finite rates >= 0",
  );
  rejects(
    (d) => (d.truth!.forwardHeldoutRates.data[2] = NaN),
    "truth.forwardHeldoutRates has NaN at trial 2, bin 0, channel 0",
  );
});

Deno.test("validateDataset: truth latents cover observed + forward bins", () => {
  rejects(
    (d) => (d.truth!.latents = array3([4, 2, 2])),
    "truth.latents has shape [4, 2, 2]; expected [4, 3, latents]",
  );
  rejects(
    (d) => (d.truth!.latentNames = ["z0"]),
    "truth.latentNames has 1 names but truth.latents has 2 channels",
  );
});

Deno.test("validateDataset: behaviorLatents out of range", () => {
  rejects(
    (d) => (d.truth!.behaviorLatents = [0, 2]),
    "truth.behaviorLatents has 2; expected latent indices in 0..1",
  );
  rejects((d) => (d.truth!.behaviorLatents = [-1]), "truth.behaviorLatents has -1");
});

Deno.test("validateDataset: bad binMs and behaviorLagMs", () => {
  for (const [binMs, text] of [[0, "0"], [-5, "-5"], [NaN, "NaN"], [Infinity, "Infinity"]]) {
    rejects(
      (d) => (d.binMs = binMs as number),
      `binMs must be a positive number of milliseconds, got ${text}`,
    );
  }
  rejects((d) => (d.binMs = "10" as unknown as number), 'got "10"');
  rejects(
    (d) => (d.behaviorLagMs = NaN),
    "behaviorLagMs must be a finite number of milliseconds, got NaN",
  );
});

/** A valid truePsth for the tiny dataset: conditions 0, 1, 2 x 2 bins x (2 + 1) neurons. */
function tinyTruePsth(): NonNullable<NeuralDataset["truePsth"]> {
  return {
    rates: f32([3, 2, 3], [0.5, 1, 0.25, 1, 2, 0, 0, 0.5, 1, 1.5, 0, 0.5, 2, 1, 1, 0.5, 0, 0]),
    conditionIds: [0, 1, 2],
    trialCounts: [2, 1, 1],
    kernelSdMs: 20,
  };
}

/** The tiny dataset with `tinyTruePsth`, changed by `mutate`. */
function withPsth(mutate: (p: NonNullable<NeuralDataset["truePsth"]>) => void) {
  return (d: NeuralDataset) => {
    d.truePsth = tinyTruePsth();
    mutate(d.truePsth);
  };
}

Deno.test("validateDataset accepts true PSTHs that fit, NaN rows and any row order included", () => {
  const d = tinyDataset();
  d.truePsth = tinyTruePsth();
  validateDataset(d);
  d.truePsth.rates.data.fill(NaN, 6, 12); // condition 1 without trials
  d.truePsth.trialCounts[1] = 0;
  validateDataset(d);
  d.truePsth.conditionIds = [2, 0, 1];
  validateDataset(d);
  d.truePsth.kernelSdMs = 0; // unsmoothed, as synthetic data's true rates
  validateDataset(d);
});

Deno.test("validateDataset: truePsth shape, condition ids, counts, kernel and values", () => {
  rejects(
    withPsth((p) => (p.rates = array3([3, 3, 3]))),
    "truePsth.rates has shape [3, 3, 3]; expected [3, 2, 3] " +
      "(conditions x the 2 observed bins x 2 held-in + 1 held-out neurons)",
  );
  rejects(
    withPsth((p) => (p.rates = array3([3, 2, 2]))),
    "truePsth.rates has shape [3, 2, 2]; expected [3, 2, 3]",
  );
  rejects(
    withPsth((p) => (p.rates = { data: new Float32Array(5), shape: [3, 2, 3] })),
    "truePsth.rates: data has 5 values but shape [3, 2, 3] needs 18",
  );
  rejects(
    withPsth((p) => (p.conditionIds = [0, 1])),
    "truePsth.conditionIds has 2 entries but truePsth.rates has 3 conditions",
  );
  rejects(
    withPsth((p) => (p.conditionIds = [0, 1.5, 2])),
    "truePsth.conditionIds must be an array of integers >= 0, got",
  );
  rejects(
    withPsth((p) => (p.conditionIds = [0, 1, 1])),
    "truePsth.conditionIds has condition 1 twice (rows 1 and 2)",
  );
  rejects(
    withPsth((p) => (p.conditionIds = [0, 1, 5])),
    "condition[3] is 2 but truePsth has no row for it (truePsth.conditionIds: 0, 1, 5)",
  );
  rejects(
    withPsth((p) => (p.trialCounts = [2, 1])),
    "truePsth.trialCounts has 2 entries but truePsth.rates has 3 conditions",
  );
  rejects(
    withPsth((p) => (p.kernelSdMs = -1)),
    "truePsth.kernelSdMs must be a positive number of ms (or 0: not smoothed), got -1",
  );
  rejects(
    withPsth((p) => (p.kernelSdMs = NaN)),
    "truePsth.kernelSdMs must be a positive number of ms (or 0: not smoothed), got NaN",
  );
  rejects(
    withPsth((p) => (p.rates.data[index3(p.rates, 1, 1, 2)] = -1)),
    "truePsth.rates has -1 at condition row 1, bin 1, neuron 2; expected finite rates >= 0",
  );
  rejects(
    withPsth((p) => (p.rates.data[0] = Infinity)),
    "truePsth.rates has Infinity at condition row 0, bin 0, neuron 0",
  );
  rejects(
    (d) => (d.truePsth = null as unknown as NeuralDataset["truePsth"]),
    "truePsth must be { rates, conditionIds, trialCounts, kernelSdMs }, got null",
  );
});

Deno.test("trialsInSplit lists trials in dataset order", () => {
  const d = tinyDataset();
  assert.deepEqual(trialsInSplit(d, "train"), [0, 2]);
  assert.deepEqual(trialsInSplit(d, "val"), [1]);
  assert.deepEqual(trialsInSplit(d, ["test", "val"]), [1, 3]);
  assert.deepEqual(trialsInSplit(d, SPLITS), [0, 1, 2, 3]);
  assert.throws(
    () => trialsInSplit(d, "dev" as "val"),
    (e: unknown) =>
      e instanceof DatasetError && e.message.includes('unknown split "dev"; expected one of'),
  );
});

Deno.test("subsetTrials keeps every array, label and truth field consistent", () => {
  const d = tinyDataset();
  const s = subsetTrials(d, [3, 1, 2]);
  validateDataset(s);
  assert.deepEqual(s.split, ["test", "val", "train"]);
  assert.deepEqual(Array.from(s.condition), [2, 1, 0]);
  assert.deepEqual(Array.from(s.session), [1, 0, 1]);
  const pairs: [Array3, Array3][] = [
    [s.heldinSpikes, d.heldinSpikes],
    [s.heldoutSpikes, d.heldoutSpikes],
    [s.forwardHeldinSpikes, d.forwardHeldinSpikes],
    [s.forwardHeldoutSpikes, d.forwardHeldoutSpikes],
    [s.behavior, d.behavior],
    [s.truth!.heldinRates, d.truth!.heldinRates],
    [s.truth!.heldoutRates, d.truth!.heldoutRates],
    [s.truth!.forwardHeldinRates, d.truth!.forwardHeldinRates],
    [s.truth!.forwardHeldoutRates, d.truth!.forwardHeldoutRates],
    [s.truth!.latents, d.truth!.latents],
  ];
  for (const [sub, full] of pairs) {
    assert.deepEqual(sub.shape, [3, full.shape[1], full.shape[2]]);
    [3, 1, 2].forEach((from, to) => {
      for (let t = 0; t < full.shape[1]; t++) {
        for (let c = 0; c < full.shape[2]; c++) {
          assert.ok(Object.is(get3(sub, to, t, c), get3(full, from, t, c)));
        }
      }
    });
  }
  assert.deepEqual(s.truth!.behaviorLatents, [0]);
  assert.deepEqual(s.truth!.latentNames, ["z0", "z1"]);
  // The source is untouched.
  assert.deepEqual(d.split, ["train", "val", "train", "test"]);
  assert.equal(d.heldinSpikes.shape[0], 4);

  const train = splitDataset(d, "train");
  validateDataset(train, { requiredSplits: ["train"] });
  assert.deepEqual(train.split, ["train", "train"]);
  assert.deepEqual(Array.from(train.heldoutSpikes.data), [0, 1, 0, 0]);
});

Deno.test("subsetTrials keeps the per-condition truePsth whole", () => {
  const d = tinyDataset();
  d.truePsth = tinyTruePsth();
  const s = subsetTrials(d, [3, 1]); // conditions 2 and 1 only
  validateDataset(s, { requiredSplits: [] });
  assert.equal(s.truePsth, d.truePsth);
  assert.equal(splitDataset(d, "train").truePsth, d.truePsth);
  assert.equal("truePsth" in subsetTrials(tinyDataset(), [0]), false);
});

Deno.test("zscoreBehavior uses train statistics only", () => {
  const d = tinyDataset();
  const { dataset: z, scaling } = zscoreBehavior(d);
  // Train trials 0 and 2. vel_x on train: 1, 3, 5 (one NaN skipped): mean 3,
  // population variance (4 + 0 + 4) / 3 = 8/3. grip on train: 5, 5, 5, 5: sd 0 -> scale 1.
  const sd = Math.sqrt(8 / 3);
  assert.deepEqual(scaling.fitOn, ["train"]);
  close(scaling.mean[0], 3, 1e-12, "mean vel_x");
  close(scaling.std[0], sd, 1e-12, "sd vel_x");
  assert.equal(scaling.mean[1], 5);
  assert.equal(scaling.std[1], 1);
  const expected = [
    ...[(1 - 3) / sd, 0, (3 - 3) / sd, 0], // train
    ...[(10 - 3) / sd, 2, NaN, 2], // val, transformed with train statistics
    ...[(5 - 3) / sd, 0, NaN, 0], // train
    ...[(-1 - 3) / sd, 4, (2 - 3) / sd, 0], // test
  ];
  assert.deepEqual(z.behavior.shape, [4, 2, 2]);
  expected.forEach((v, i) => {
    if (Number.isNaN(v)) assert.ok(Number.isNaN(z.behavior.data[i]), `entry ${i} stays NaN`);
    else close(z.behavior.data[i], v, 1e-6, `entry ${i}`);
  });
  // Everything else is shared, and the input is not modified.
  assert.equal(z.heldinSpikes, d.heldinSpikes);
  assert.equal(d.behavior.data[0], 1);
  validateDataset(z);
});

Deno.test("behaviorScaling gives the hand-worked statistics without copying behavior", () => {
  const d = tinyDataset();
  const scaling = behaviorScaling(d); // the same train trials as above
  close(scaling.mean[0], 3, 1e-12, "mean vel_x");
  close(scaling.std[0], Math.sqrt(8 / 3), 1e-12, "sd vel_x");
  assert.deepEqual([scaling.mean[1], scaling.std[1]], [5, 1]);
  const both = behaviorScaling(d, ["train", "test"]);
  // vel_x on train + test: 1, 3, 5, -1, 2 -> mean 2.
  close(both.mean[0], 2, 1e-12, "mean vel_x over train+test");
  assert.deepEqual(both.fitOn, ["train", "test"]);
});

Deno.test("zscoreBehavior keeps the behavior's typed-array kind", () => {
  const d = tinyDataset();
  const wide = { ...d, behavior: { ...d.behavior, data: Float64Array.from(d.behavior.data) } };
  assert.ok(zscoreBehavior(wide).dataset.behavior.data instanceof Float64Array);
  assert.ok(
    zscoreBehavior({ ...d, behavior: { ...d.behavior, data: Float32Array.from(d.behavior.data) } })
      .dataset.behavior.data instanceof Float32Array,
  );
});

Deno.test("zscoreBehavior can fit on several splits and reports impossible fits", () => {
  const d = tinyDataset();
  // train + val vel_x: 1, 3, 10, 5 -> mean 4.75.
  const { scaling } = zscoreBehavior(d, ["train", "val"]);
  assert.deepEqual(scaling.fitOn, ["train", "val"]);
  close(scaling.mean[0], 4.75, 1e-12, "mean");
  // grip on train + val: 5, 5, 7, 7, 5, 5 -> mean 34/6, variance 8/9.
  close(scaling.std[1], Math.sqrt(8 / 9), 1e-12, "sd grip");

  const noTest = tinyDataset();
  noTest.split = ["train", "val", "train", "val"];
  assert.throws(
    () => zscoreBehavior(noTest, "test"),
    (e: unknown) =>
      e instanceof DatasetError && e.message.includes("zscoreBehavior: split test has no trials"),
  );
  const allNaN = tinyDataset();
  for (const i of [0, 2]) {
    for (let t = 0; t < 2; t++) allNaN.behavior.data[index3(allNaN.behavior, i, t, 0)] = NaN;
  }
  assert.throws(
    () => zscoreBehavior(allNaN),
    (e: unknown) =>
      e instanceof DatasetError && e.message.includes('behavior "vel_x" is NaN on every train'),
  );
});

Deno.test("minibatches: deterministic by seed, every trial exactly once, dropLast", () => {
  const trials = Array.from({ length: 10 }, (_, i) => 100 + i);
  const a = minibatches(trials, 3, 1);
  assert.deepEqual(a.map((b) => b.length), [3, 3, 3, 1]);
  assert.deepEqual(a.flat().sort((x, y) => x - y), trials);
  assert.deepEqual(minibatches(trials, 3, 1), a);
  assert.deepEqual(minibatches(new Int32Array(trials), 3, 1), a);
  const b = minibatches(trials, 3, 2);
  assert.notDeepEqual(b.flat(), a.flat());
  assert.deepEqual(b.flat().sort((x, y) => x - y), trials);

  const dropped = minibatches(trials, 3, 1, { dropLast: true });
  assert.deepEqual(dropped, a.slice(0, 3));
  assert.deepEqual(minibatches(trials, 5, 1, { dropLast: true }).map((x) => x.length), [5, 5]);
  assert.deepEqual(minibatches(trials, 20, 1, { dropLast: true }), []);
  assert.deepEqual(minibatches([], 4, 1), []);
  // The input is not shuffled in place.
  assert.deepEqual(trials, Array.from({ length: 10 }, (_, i) => 100 + i));
});

Deno.test("minibatches rejects a bad batch size", () => {
  for (const [size, text] of [[0, "0"], [-2, "-2"], [1.5, "1.5"], [NaN, "NaN"]] as const) {
    assert.throws(
      () => minibatches([0, 1, 2], size, 1),
      (e: unknown) =>
        e instanceof DatasetError &&
        e.message.includes(`batchSize must be a positive integer, got ${text}`),
    );
  }
});

Deno.test("summarizeDataset counts and rates, worked by hand", () => {
  const s = summarizeDataset(tinyDataset());
  // Held-in n0 over 4 trials x 2 bins: 1+2+0+3+1+0+2+0 = 9 spikes -> 9/8 per 10 ms bin
  // = 112.5 Hz; n1: 0+1+0+1+2+0+0+1 = 5 -> 62.5 Hz; held-out h0: 4 spikes -> 50 Hz.
  // Mean over the three neurons: 75 Hz. Behavior: 2 NaN of 16 entries.
  assert.deepEqual(s, {
    name: "tiny",
    trials: { train: 2, val: 1, test: 1 },
    bins: 2,
    forwardBins: 1,
    binMs: 10,
    heldinNeurons: 2,
    heldoutNeurons: 1,
    behaviorDims: 2,
    conditions: 3,
    sessions: 2,
    meanRateHz: 75,
    neuronRateRangeHz: [50, 112.5],
    behaviorNaNFraction: 0.125,
  });
});
