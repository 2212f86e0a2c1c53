// blend's NLB metrics equal the benchmark's own evaluation code: nlb_tools 0.0.4
// (`nlb_tools.evaluation`: bits_per_spike, velocity_decoding, fit_and_eval_decoder,
// eval_psth, and evaluate(), the function the EvalAI server runs), executed by
// tests/reference/nlb_tools_eval.py on the same seeded random inputs. The Python runs in
// the venv of tools/nlb_tools_venv.sh (nlb-tools pinned by hash, on Debian's numpy, scipy
// and scikit-learn), which .ci/run creates; where it is missing the tests are skipped and
// say why.
//
// Where blend departs from nlb_tools (the last test checks both sides):
// - bits per spike of spikes without a single spike: nlb_tools returns -inf (0 spikes in
//   the denominator), blend throws an ArgumentError.
// - vel R2 drops a bin whose behavior is NaN in any dimension; nlb_tools looks at the first
//   dimension only, so a NaN elsewhere reaches scikit-learn, which raises.
// - a decoder mask that selects no trial: scikit-learn raises a ValueError, blend an
//   ArgumentError naming the mask. Negative or NaN rates (nlb_tools asserts) and infinite
//   rates (scikit-learn raises) are ArgumentErrors in blend too.
// - eval_psth leaves out the bins of a condition whose true PSTH is NaN there (conditions
//   of shorter trials, padded); evaluateNLB leaves out a condition whose true PSTH has any
//   NaN, with a note. Every trial of a blend dataset has the same length, so a partly-NaN
//   PSTH does not arise from blend's loaders. psthR2 itself wants a PSTH for exactly the
//   conditions that have eval trials; eval_psth skips conditions without eval trials, as
//   evaluateNLB does. Jittered trials (eval_psth's `jitter`, DMFC_RSG) are not modelled.
import assert from "node:assert/strict";
import { type Array3, concat3, selectTrials } from "../../lib/array.ts";
import { type NeuralDataset, type Split, trialsInSplit } from "../../lib/data/dataset.ts";
import type { NWBDataset } from "../../lib/data/nwb.ts";
import { ArgumentError } from "../../lib/errors.ts";
import {
  bitsPerSpike,
  coBps,
  evaluateNLB,
  fpBps,
  nlbDecodeMasks,
  psthR2,
  velR2,
} from "../../lib/metrics/nlb.ts";
import { Random } from "../../lib/random.ts";

const SCRIPT = new URL("../reference/nlb_tools_eval.py", import.meta.url).pathname;
const TOLERANCE = 1e-9; // relative; the largest difference seen is 2.5e-13 (co-bps)

/** The venv's python, or why there is none. */
async function nlbToolsPython(): Promise<{ python: string } | { missing: string }> {
  const home = Deno.env.get("HOME") ?? "/root";
  const venv = Deno.env.get("BLEND_NLB_VENV") ?? `${home}/.cache/blend/nlb-tools-0.0.4`;
  const python = `${venv}/bin/python`;
  try {
    const probe = await new Deno.Command(python, {
      args: ["-c", "import nlb_tools.evaluation, nlb_tools.make_tensors"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (probe.success) return { python };
    const why = new TextDecoder().decode(probe.stderr).trim().split("\n").at(-1);
    return { missing: `${python} cannot import nlb_tools (${why})` };
  } catch {
    return { missing: `no nlb-tools venv at ${venv} (run tools/nlb_tools_venv.sh)` };
  }
}

const found = await nlbToolsPython();
const python = "python" in found ? found.python : null;
if ("missing" in found) console.warn(`nlb_tools tests skipped: ${found.missing}`);

/** Run the reference script on a directory of inputs (or with --probes); its JSON. */
async function reference(args: string[]): Promise<Record<string, unknown>> {
  const result = await new Deno.Command(python!, {
    args: [SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.ok(result.success, `nlb_tools_eval.py failed:\n${stderr.slice(-3000)}`);
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

function assertClose(actual: number | null, expected: unknown, what: string): void {
  assert.equal(typeof expected, "number", `${what}: nlb_tools gave ${expected}`);
  const e = expected as number;
  assert.ok(actual !== null, `${what}: blend gave null`);
  assert.ok(
    Math.abs(actual - e) <= TOLERANCE * Math.max(Math.abs(e), 1e-3),
    `${what}: blend ${actual}, nlb_tools ${e} (relative tolerance ${TOLERANCE})`,
  );
}

/** A Poisson draw (Knuth's product of uniforms; the rates here are small). */
function poisson(rng: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0, product = rng.uniform();
  while (product > limit) (k++, product *= rng.uniform());
  return k;
}

interface Case {
  dataset: NeuralDataset;
  train: { heldin: Array3; heldout: Array3 };
  eval: { heldin: Array3; heldout: Array3; forwardHeldin: Array3; forwardHeldout: Array3 };
  /** ctr_hold_bump per trial (Area2_Bump), NaN for a trial in neither decoder. */
  bump: Float64Array | null;
}

/**
 * A seeded NLB-like dataset with predicted rates: 6 conditions (condition 5 has no eval
 * trial), train / val / test trials (val is neither fit nor scored), behavior read out
 * from the true rates with noise and NaN bins (a whole NaN trial among them), Poisson
 * spikes, and predicted rates that are the truth distorted, with exact zeros where no
 * spike fell. With `bump`, the behavior's readout differs between ctr_hold_bump 0 and 1,
 * so that two decoders fit better than one.
 */
function makeCase(seed: number, bump: boolean): Case {
  const rng = new Random(seed);
  const trials = 90, time = 24, nIn = 9, nOut = 4, forward = 6, conditions = 6;
  const channels = nIn + nOut;
  const split: Split[] = [], condition = new Int32Array(trials);
  for (let i = 0; i < trials; i++) {
    split.push(i % 5 === 1 ? "test" : i % 5 === 3 ? (i % 2 ? "val" : "test") : "train");
    condition[i] = split[i] === "train" ? i % conditions : i % (conditions - 1);
  }
  const bumpOf = new Float64Array(trials).map((
    _,
    i,
  ) => (i % 7 === 4 ? NaN : (i * 5) % 3 === 0 ? 1 : 0));
  // True rates (spikes per bin): a smooth condition-dependent profile with trial noise.
  const truth = new Float64Array(trials * (time + forward) * channels);
  for (let i = 0; i < trials; i++) {
    const gain = 1 + 0.2 * rng.normal();
    for (let t = 0; t < time + forward; t++) {
      for (let c = 0; c < channels; c++) {
        const phase = (2 * Math.PI * condition[i]) / conditions + c;
        truth[(i * (time + forward) + t) * channels + c] = gain * 0.6 *
          Math.exp(0.8 * Math.sin(t / 5 + phase) + 0.3 * Math.cos((t * c) / 11));
      }
    }
  }
  const spikes = truth.map((r) => poisson(rng, r));
  const weights = Array.from({ length: 2 * 2 * channels }, () => rng.normal());
  const behavior = new Float64Array(trials * time * 2);
  for (let i = 0; i < trials; i++) {
    const set = bump && bumpOf[i] === 1 ? 1 : 0;
    for (let t = 0; t < time; t++) {
      for (let k = 0; k < 2; k++) {
        let v = 0.3 * rng.normal();
        for (let c = 0; c < channels; c++) {
          v += weights[(set * 2 + k) * channels + c] *
            truth[(i * (time + forward) + t) * channels + c];
        }
        behavior[(i * time + t) * 2 + k] = v;
      }
      // NaN bins, as the NLB files have between trials: both dimensions.
      if (rng.uniform() < 0.06 || i === 7) {
        behavior.fill(NaN, (i * time + t) * 2, (i * time + t) * 2 + 2);
      }
    }
  }
  const observed = (
    from: number,
    to: number,
    first: number,
    last: number,
    source: Float64Array,
  ) => {
    const width = last - first, out = new Float32Array(trials * (to - from) * width);
    for (let i = 0; i < trials; i++) {
      for (let t = from; t < to; t++) {
        for (let c = first; c < last; c++) {
          out[(i * (to - from) + t - from) * width + c - first] =
            source[(i * (time + forward) + t) * channels + c];
        }
      }
    }
    return { data: out, shape: [trials, to - from, width] as [number, number, number] };
  };
  // Predicted rates: the truth times lognormal noise; zero where no spike fell, now and then.
  const predicted = truth.map((r, j) =>
    spikes[j] === 0 && rng.uniform() < 0.02 ? 0 : r * Math.exp(0.35 * rng.normal())
  );
  // True PSTHs: the mean true rate of each condition's trials (any positive array will do).
  const psth = new Float64Array(conditions * time * channels),
    counts = new Float64Array(conditions);
  for (let i = 0; i < trials; i++) {
    counts[condition[i]]++;
    for (let t = 0; t < time; t++) {
      for (let c = 0; c < channels; c++) {
        psth[(condition[i] * time + t) * channels + c] +=
          truth[(i * (time + forward) + t) * channels + c];
      }
    }
  }
  for (let j = 0; j < psth.length; j++) psth[j] /= counts[Math.floor(j / (time * channels))];
  const dataset: NeuralDataset = {
    name: bump ? "area2_bump" : "mc_maze",
    binMs: 5,
    heldinSpikes: observed(0, time, 0, nIn, spikes),
    heldoutSpikes: observed(0, time, nIn, channels, spikes),
    forwardHeldinSpikes: observed(time, time + forward, 0, nIn, spikes),
    forwardHeldoutSpikes: observed(time, time + forward, nIn, channels, spikes),
    behavior: { data: behavior, shape: [trials, time, 2] },
    behaviorNames: ["hand_vel_x", "hand_vel_y"],
    heldinNames: Array.from({ length: nIn }, (_, c) => `in${c}`),
    heldoutNames: Array.from({ length: nOut }, (_, c) => `out${c}`),
    split,
    condition,
    session: new Int32Array(trials),
    behaviorLagMs: 0,
    truePsth: {
      rates: { data: psth, shape: [conditions, time, channels] },
      conditionIds: Array.from({ length: conditions }, (_, k) => k),
      trialCounts: Array.from(counts),
      kernelSdMs: 50,
    },
  };
  const rates = (trialsOf: number[]) => ({
    heldin: selectTrials(observed(0, time, 0, nIn, predicted), trialsOf),
    heldout: selectTrials(observed(0, time, nIn, channels, predicted), trialsOf),
    forwardHeldin: selectTrials(observed(time, time + forward, 0, nIn, predicted), trialsOf),
    forwardHeldout: selectTrials(
      observed(time, time + forward, nIn, channels, predicted),
      trialsOf,
    ),
  });
  return {
    dataset,
    train: rates(trialsInSplit(dataset, "train")),
    eval: rates(trialsInSplit(dataset, "test")),
    bump: bump ? bumpOf : null,
  };
}

/** Write the case as nlb_tools' arrays (train = the train split, eval = the test split). */
async function writeInputs(dir: string, c: Case): Promise<void> {
  const d = c.dataset;
  const train = trialsInSplit(d, "train"), test = trialsInSplit(d, "test");
  const arrays: Record<string, Array3> = {
    train_rates_heldin: c.train.heldin,
    train_rates_heldout: c.train.heldout,
    eval_rates_heldin: c.eval.heldin,
    eval_rates_heldout: c.eval.heldout,
    eval_rates_heldin_forward: c.eval.forwardHeldin,
    eval_rates_heldout_forward: c.eval.forwardHeldout,
    eval_spikes_heldout: selectTrials(d.heldoutSpikes, test),
    eval_spikes_heldin_forward: selectTrials(d.forwardHeldinSpikes, test),
    eval_spikes_heldout_forward: selectTrials(d.forwardHeldoutSpikes, test),
    train_behavior: selectTrials(d.behavior, train),
    eval_behavior: selectTrials(d.behavior, test),
    psth: d.truePsth!.rates,
  };
  const shapes: Record<string, number[]> = {};
  for (const [name, a] of Object.entries(arrays)) {
    shapes[name] = [...a.shape];
    await Deno.writeFile(`${dir}/${name}.f64`, new Uint8Array(Float64Array.from(a.data).buffer));
  }
  const evalCondIdx = d.truePsth!.conditionIds.map((id) =>
    test.flatMap((trial, k) => (d.condition[trial] === id ? [k] : []))
  );
  const spec = {
    dataset: d.name,
    arrays: shapes,
    eval_cond_idx: evalCondIdx,
    split: d.split,
    ctr_hold_bump: c.bump ? Array.from(c.bump, (v) => (Number.isNaN(v) ? null : v)) : null,
  };
  // JSON has no NaN: null becomes NaN again in the script (np.array(..., dtype=float)).
  await Deno.writeTextFile(`${dir}/spec.json`, JSON.stringify(spec));
}

async function withReference(c: Case): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "blend_nlb_tools_" });
  try {
    await writeInputs(dir, c);
    return await reference([dir]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The eval trials' rates and the eval conditions that psthR2 scores (those with trials). */
function psthInputs(c: Case) {
  const d = c.dataset, test = trialsInSplit(d, "test");
  const conditions = Int32Array.from(test, (i) => d.condition[i]);
  const ids = [...new Set(conditions)].sort((a, b) => a - b);
  const [, time, channels] = d.truePsth!.rates.shape, stride = time * channels;
  const truePsth = new Float64Array(ids.length * stride);
  ids.forEach((id, k) =>
    truePsth.set(d.truePsth!.rates.data.subarray(id * stride, (id + 1) * stride), k * stride)
  );
  return {
    evalRates: concat3([c.eval.heldin, c.eval.heldout], 2),
    conditions,
    truePsth: { data: truePsth, shape: [ids.length, time, channels] } as Array3,
    conditionIds: ids,
  };
}

Deno.test({
  name:
    "nlb_tools: co-bps, fp-bps, vel R2 (with and without grid search) and psth R2 equal blend's",
  ignore: python === null,
  fn: async () => {
    const c = makeCase(11, false);
    const ref = await withReference(c);
    assert.equal(ref.nlb_tools, "0.0.4");
    const d = c.dataset, test = trialsInSplit(d, "test"), train = trialsInSplit(d, "train");
    assertClose(coBps(c.eval.heldout, selectTrials(d.heldoutSpikes, test)), ref.co_bps, "co-bps");
    const forward = {
      heldinRates: c.eval.forwardHeldin,
      heldoutRates: c.eval.forwardHeldout,
      heldinSpikes: selectTrials(d.forwardHeldinSpikes, test),
      heldoutSpikes: selectTrials(d.forwardHeldoutSpikes, test),
    };
    assertClose(fpBps(forward), ref.fp_bps, "fp-bps");
    const decoding = {
      trainRates: concat3([c.train.heldin, c.train.heldout], 2),
      trainBehavior: selectTrials(d.behavior, train),
      evalRates: concat3([c.eval.heldin, c.eval.heldout], 2),
      evalBehavior: selectTrials(d.behavior, test),
    };
    const grid = velR2(decoding);
    assertClose(grid.r2, ref.vel_r2, "vel R2, grid search");
    assertClose(grid.r2, (ref.vel_r2_per_decoder as number[])[0], "fit_and_eval_decoder");
    const plain = velR2({ ...decoding, gridSearch: false });
    assertClose(plain.r2, ref.vel_r2_no_grid, "vel R2, alpha 1e-2");
    assert.ok(grid.trainRows < decoding.trainRates.shape[0] * decoding.trainRates.shape[1]);
    assertClose(psthR2(psthInputs(c)), ref.psth_r2, "psth R2");

    // The whole evaluation: evaluateNLB on the dataset against nlb_tools' evaluate().
    const server = ref.evaluate as Record<string, number>;
    assert.deepEqual(Object.keys(server).sort(), ["co-bps", "fp-bps", "psth R2", "vel R2"]);
    const record = evaluateNLB(d, { train: c.train, eval: c.eval });
    assertClose(record.coBps, server["co-bps"], "evaluate co-bps");
    assertClose(record.fpBps, server["fp-bps"], "evaluate fp-bps");
    assertClose(record.velR2, server["vel R2"], "evaluate vel R2");
    assertClose(record.psthR2, server["psth R2"], "evaluate psth R2");
    assert.equal(record.settings.velR2Decoders.length, 1);
  },
});

Deno.test({
  name: "nlb_tools: Area2_Bump's vel R2 is the mean of two decoders (ctr_hold_bump 0 and 1)",
  ignore: python === null,
  fn: async () => {
    const c = makeCase(5, true);
    const ref = await withReference(c);
    const d = c.dataset, test = trialsInSplit(d, "test"), train = trialsInSplit(d, "train");
    // The data carry the rule as an NWB dataset loaded with the area2_bump preset does.
    const area2 = {
      ...d,
      nwb: {
        settings: { decodeMasks: { column: "ctr_hold_bump", values: [0, 1] } },
        trialInfo: { ctr_hold_bump: c.bump! },
      },
    } as unknown as NWBDataset;
    const masks = nlbDecodeMasks(area2)!;
    assert.equal(masks.length, 2);
    // A trial whose ctr_hold_bump is NaN is in neither decoder, as in the reference.
    assert.equal(masks[0][4] + masks[1][4], 0);
    const decoding = {
      trainRates: concat3([c.train.heldin, c.train.heldout], 2),
      trainBehavior: selectTrials(d.behavior, train),
      evalRates: concat3([c.eval.heldin, c.eval.heldout], 2),
      evalBehavior: selectTrials(d.behavior, test),
      decodeMasks: {
        train: masks.map((m) => train.map((i) => m[i])),
        eval: masks.map((m) => test.map((i) => m[i])),
      },
    };
    for (const gridSearch of [true, false]) {
      const key = gridSearch ? "vel_r2" : "vel_r2_no_grid";
      const result = velR2({ ...decoding, gridSearch });
      assertClose(result.r2, ref[key], `two decoders, grid search ${gridSearch}`);
      result.decoders.forEach((decoder, k) =>
        assertClose(decoder.r2, (ref[`${key}_per_decoder`] as number[])[k], `${key} decoder ${k}`)
      );
    }
    const server = ref.evaluate as Record<string, number>;
    const record = evaluateNLB(area2, { train: c.train, eval: c.eval });
    assertClose(record.velR2, server["vel R2"], "evaluate vel R2 (area2_bump)");
    assertClose(record.coBps, server["co-bps"], "evaluate co-bps (area2_bump)");
    assert.equal(record.settings.velR2Decoders.length, 2);
    assert.equal(record.settings.velR2Alpha, null);
    assert.ok(record.notes.some((n) => n.includes("mean of 2 decoders")), record.notes.join("; "));
    // One decoder on every trial scores differently: the masks are not a no-op here.
    const single = evaluateNLB(area2, { train: c.train, eval: c.eval }, { decodeMasks: null });
    assert.ok(Math.abs(single.velR2! - record.velR2!) > 1e-3, `${single.velR2} vs ${record.velR2}`);
  },
});

Deno.test({
  name: "nlb_tools: where blend departs from the reference, what the reference does instead",
  ignore: python === null,
  fn: async () => {
    const probes = await reference(["--probes"]) as Record<
      string,
      { value?: string; error?: string }
    >;
    // bits per spike without spikes: nlb_tools -inf, blend an error.
    assert.deepEqual(probes.no_spikes, { value: "-inf" });
    const ones: Array3 = { data: new Float64Array(12).fill(1), shape: [2, 3, 2] };
    const zeros: Array3 = { data: new Float64Array(12), shape: [2, 3, 2] };
    assert.throws(() => bitsPerSpike(ones, zeros), ArgumentError);
    // Negative and NaN rates: an AssertionError there, an ArgumentError here.
    assert.deepEqual(probes.negative_rate, { error: "AssertionError" });
    assert.deepEqual(probes.nan_rate, { error: "AssertionError" });
    const negative: Array3 = { data: new Float64Array(12).fill(-1), shape: [2, 3, 2] };
    assert.throws(() => bitsPerSpike(negative, ones), /rates must be >= 0 and not NaN; got -1/);
    const nan: Array3 = { data: new Float64Array(12).fill(NaN), shape: [2, 3, 2] };
    assert.throws(() => bitsPerSpike(nan, ones), /rates must be >= 0 and not NaN; got NaN/);
    // Infinite rates: scikit-learn raises; so does blend.
    assert.deepEqual(probes.infinite_rate, { error: "ValueError" });
    const rates: Array3 = {
      data: Float64Array.from({ length: 12 }, (_, j) => (j % 2 ? (j >> 1) ** 2 : j >> 1)),
      shape: [2, 3, 2],
    };
    const behavior: Array3 = {
      data: Float64Array.from({ length: 12 }, (_, j) => j),
      shape: [2, 3, 2],
    };
    const infinite: Array3 = { data: Float64Array.from(rates.data), shape: [2, 3, 2] };
    infinite.data[4] = Infinity;
    const small = { trainBehavior: behavior, evalRates: rates, evalBehavior: behavior, folds: 2 };
    assert.throws(() => velR2({ ...small, trainRates: infinite }), /expected finite rates/);
    // NaN in the second behavior dimension only: scikit-learn raises (nlb_tools drops rows by
    // the first dimension); blend drops the bin and decodes the rest.
    assert.deepEqual(probes.nan_second_dim, { error: "ValueError" });
    const nanY: Array3 = { data: Float64Array.from(behavior.data), shape: [2, 3, 2] };
    nanY.data[3] = NaN;
    const result = velR2({ ...small, trainRates: rates, trainBehavior: nanY, gridSearch: false });
    assert.equal(result.trainRows, 5);
    // A mask that selects no trial: a ValueError there, an ArgumentError naming it here.
    assert.deepEqual(probes.empty_mask, { error: "ValueError" });
    assert.throws(
      () =>
        velR2({
          ...small,
          trainRates: rates,
          decodeMasks: { train: [[false, false]], eval: [[true, true]] },
        }),
      /decodeMasks.train\[0\] selects no trial/,
    );
    // A true PSTH with NaN bins: eval_psth scores the other bins.
    assert.deepEqual(probes.psth_nan_bin, { value: "0.0" });
  },
});
