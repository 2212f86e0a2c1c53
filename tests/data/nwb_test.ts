import assert from "node:assert/strict";
import { array3, concat3, selectTrials } from "../../lib/array.ts";
import { type NeuralDataset, trialsInSplit } from "../../lib/data/dataset.ts";
import { getDataset, h5wasm, openHDF5, readNumbers } from "../../lib/data/hdf5.ts";
import { NLB_PRESETS } from "../../lib/data/nlb_presets.ts";
import { loadNWB, type NWBDataset, resolveNWBSettings } from "../../lib/data/nwb.ts";
import { describeNWB, formatNWBInfo } from "../../lib/data/nwb_info.ts";
import { behaviorSeriesOf, writeNWB } from "../../lib/data/nwb_writer.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { ArgumentError, DatasetError } from "../../lib/errors.ts";
import {
  evaluateNLB,
  gaussianWindow,
  nlbDecodeMasks,
  truthRates,
  velR2,
} from "../../lib/metrics/nlb.ts";

// A small reach dataset with MC_Maze's bins (140 + 40 of 5 ms, lag 100 ms), so the
// mc_maze preset reads its NWB file back.
const SMALL = { trials: 36, heldinNeurons: 12, heldoutNeurons: 4, conditions: 4, seed: 1 };
const IDENTITY = { train: "train", val: "val", test: "test" } as const;

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "blend_nwb_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Equal values, NaN equal to NaN. */
function assertSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    assert.fail(`${what}[${i}] is ${a}, expected ${e}`);
  }
}

function assertSameCounts(actual: NeuralDataset, expected: NeuralDataset): void {
  for (
    const field of [
      "heldinSpikes",
      "heldoutSpikes",
      "forwardHeldinSpikes",
      "forwardHeldoutSpikes",
    ] as const
  ) {
    assert.deepEqual(actual[field].shape, expected[field].shape, `${field} shape`);
    assertSameValues(actual[field].data, expected[field].data, field);
  }
}

/** Rejects with `kind` and a message containing every part. */
async function rejectsWith(
  run: () => Promise<unknown>,
  kind: typeof DatasetError | typeof ArgumentError,
  ...parts: string[]
): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof kind, `expected a ${kind.name}, got ${error}`);
    for (const part of parts) {
      assert.ok(
        (error as Error).message.includes(part),
        `"${(error as Error).message}" lacks "${part}"`,
      );
    }
    return true;
  });
}

Deno.test("round trip: synthetic -> NWB -> loadNWB gives the same counts, behavior, splits and conditions", async () => {
  const data = reachDataset(SMALL);
  await withTempDir(async (dir) => {
    for (const behaviorTiming of ["timestamps", "rate"] as const) {
      const path = `${dir}/reach_${behaviorTiming}.nwb`;
      await writeNWB(data, path, { splitLabels: IDENTITY, behaviorTiming, seed: 4 });
      const back = await loadNWB(path, {
        preset: "mc_maze",
        splitMap: IDENTITY,
        validationFraction: 0,
      });
      assertSameCounts(back, data);
      assert.deepEqual(back.behavior.shape, data.behavior.shape);
      assertSameValues(back.behavior.data, data.behavior.data, `behavior (${behaviorTiming})`);
      assert.deepEqual(back.behaviorNames, data.behaviorNames);
      assert.deepEqual(back.split, data.split);
      assert.deepEqual(back.condition, data.condition);
      assert.equal(back.binMs, 5);
      assert.equal(back.behaviorLagMs, 100);
      assert.equal(back.name, "mc_maze");
      assert.deepEqual(back.nwb.dropped, []);
      // The trials table's string and boolean columns come along.
      assert.deepEqual(
        back.nwb.trialInfo.condition,
        Array.from(data.condition, (c) => `condition_${c}`),
      );
      assert.deepEqual(back.nwb.trialInfo.success, new Uint8Array(SMALL.trials).fill(1));
      assert.deepEqual(back.nwb.conditionLabels[2], "trial_type=2, trial_version=0");
    }
  });
});

Deno.test("NLB splits: file 'val' becomes the scored test split, and val is carved from train by seed", async () => {
  const data = reachDataset({ ...SMALL, trials: 80 });
  await withTempDir(async (dir) => {
    const path = `${dir}/reach.nwb`;
    await writeNWB(data, path); // NLB labels: train and val -> "train", test -> "val"
    const a = await loadNWB(path, { preset: "mc_maze" });
    assert.deepEqual(trialsInSplit(a, "test"), trialsInSplit(data, "test"));
    assert.deepEqual(trialsInSplit(a, ["train", "val"]), trialsInSplit(data, ["train", "val"]));
    const trainTrials = trialsInSplit(data, ["train", "val"]).length;
    assert.equal(trialsInSplit(a, "val").length, Math.round(0.2 * trainTrials));
    // Stratified: every condition keeps train trials.
    const trainConditions = new Set(trialsInSplit(a, "train").map((i) => a.condition[i]));
    assert.equal(trainConditions.size, SMALL.conditions);
    const again = await loadNWB(path, { preset: "mc_maze" });
    assert.deepEqual(again.split, a.split);
    const other = await loadNWB(path, { preset: "mc_maze", seed: 9 });
    assert.notDeepEqual(other.split, a.split);
    assert.ok(a.nwb.notes.some((n) => n.includes("validationFraction 0.2")));
    assert.deepEqual(
      a.nwb.fileSplit.filter((s) => s === "val").length,
      trialsInSplit(a, "test").length,
    );
  });
});

Deno.test("20 ms bins count the same spikes on a grid that starts at 0", async () => {
  const data = reachDataset(SMALL);
  await withTempDir(async (dir) => {
    const path = `${dir}/reach.nwb`;
    const layout = await writeNWB(data, path, { splitLabels: IDENTITY });
    const coarse = await loadNWB(path, { preset: "mc_maze", binMs: 20, splitMap: IDENTITY });
    assert.deepEqual(coarse.heldinSpikes.shape, [SMALL.trials, 35, SMALL.heldinNeurons]);
    assert.deepEqual(coarse.forwardHeldinSpikes.shape, [SMALL.trials, 10, SMALL.heldinNeurons]);
    assert.deepEqual(coarse.behavior.shape, [SMALL.trials, 35, 2]);
    // Expected: each 5 ms bin of the original lies inside one 20 ms bin of the file's grid.
    const [trials, bins, nIn] = data.heldinSpikes.shape;
    const forwardBins = data.forwardHeldinSpikes.shape[1];
    for (let i = 0; i < trials; i++) {
      const windowMs = Math.round(layout.windowStartTimes[i] * 1000);
      const first = Math.ceil(windowMs / 20);
      const expected = new Float64Array(45 * nIn);
      for (let t = 0; t < bins + forwardBins; t++) {
        const b = Math.floor((windowMs + 5 * t) / 20) - first;
        if (b < 0 || b >= 45) continue;
        for (let c = 0; c < nIn; c++) {
          expected[b * nIn + c] += t < bins
            ? data.heldinSpikes.data[(i * bins + t) * nIn + c]
            : data.forwardHeldinSpikes.data[(i * forwardBins + t - bins) * nIn + c];
        }
      }
      const actual = [
        ...coarse.heldinSpikes.data.subarray(i * 35 * nIn, (i + 1) * 35 * nIn),
        ...coarse.forwardHeldinSpikes.data.subarray(i * 10 * nIn, (i + 1) * 10 * nIn),
      ];
      assertSameValues(actual, expected, `trial ${i} at 20 ms`);
    }
  });
});

Deno.test("plain options read the same file as the preset (string condition column, default behavior)", async () => {
  const data = reachDataset(SMALL);
  await withTempDir(async (dir) => {
    const path = `${dir}/session.nwb`;
    await writeNWB(data, path, { splitLabels: IDENTITY, behaviorTiming: "rate" });
    const plain = await loadNWB(path, {
      alignField: "move_onset_time",
      windowMs: [-250, 450],
      forwardMs: 200,
      behaviorLagMs: 100,
      conditionFields: ["condition"],
      psthKernelSdMs: 50,
      splitMap: IDENTITY,
      validationFraction: 0,
    });
    assertSameCounts(plain, data);
    assertSameValues(plain.behavior.data, data.behavior.data, "behavior");
    assert.deepEqual(plain.behaviorNames, ["hand_vel_x", "hand_vel_y"]);
    assert.deepEqual(plain.condition, data.condition);
    assert.equal(plain.name, "session");
    assert.equal(plain.nwb.conditionLabels[0], "condition=condition_0");
    assert.equal(plain.truePsth?.kernelSdMs, 50);
  });
});

Deno.test("true PSTHs equal a dense 1 ms Gaussian convolution of the spike times, binned and averaged", async () => {
  const data = reachDataset({ ...SMALL, trials: 12, heldinNeurons: 3, heldoutNeurons: 1 });
  await withTempDir(async (dir) => {
    const path = `${dir}/psth.nwb`;
    const layout = await writeNWB(data, path, { backgroundSpikes: true, gapMs: 100 });
    const loaded = await loadNWB(path, { preset: "mc_maze" });
    const psth = loaded.truePsth!;
    assert.deepEqual(psth.rates.shape, [SMALL.conditions, 140, 4]);
    assert.deepEqual(psth.conditionIds, [0, 1, 2, 3]);
    assert.equal(psth.kernelSdMs, 70);
    assert.equal("truePsth" in loaded.nwb, false);
    assert.equal(psth.trialCounts.reduce((a, b) => a + b, 0), 12);
    // Independent reference: spike times from the file, a dense 1 ms count vector around
    // each window, numpy-style "same" convolution, sums over 5 ms bins, condition means.
    const file = await openHDF5(path);
    const times = readNumbers(getDataset(file, "units/spike_times")!, "spike_times");
    const ends = readNumbers(getDataset(file, "units/spike_times_index")!, "index");
    file.close();
    const w = gaussianWindow(70, 1), m = w.length, off = (m - 1) >> 1;
    const recordingMs = Math.round(layout.recordingSeconds * 1000);
    const expected = new Float64Array(psth.rates.data.length);
    for (let row = 0; row < ends.length; row++) {
      const neuron = layout.unitOrder[row]; // held-in first, then held-out: the PSTH's columns
      const spikes = times.subarray(row ? ends[row - 1] : 0, ends[row]);
      for (let i = 0; i < 12; i++) {
        const start = Math.round(layout.windowStartTimes[i] * 1000);
        const lo = Math.max(0, start - m), hi = Math.min(recordingMs, start + 700 + m);
        const x = new Float64Array(hi - lo);
        for (const t of spikes) {
          const ms = Math.trunc(Math.round(t * 1000 * 1e6) / 1e6);
          if (ms >= lo && ms < hi) x[ms - lo]++;
        }
        const c = loaded.condition[i];
        for (let r = 0; r < 700; r++) {
          let y = 0;
          for (let k = 0; k < m; k++) {
            const j = start + r + off - k - lo; // y[n] = sum_k w[k] x[n + off - k]
            if (j >= 0 && j < x.length) y += w[k] * x[j];
          }
          expected[((c * 140) + Math.floor(r / 5)) * 4 + neuron] += y / psth.trialCounts[c];
        }
      }
    }
    for (let j = 0; j < expected.length; j++) {
      assert.ok(
        Math.abs(psth.rates.data[j] - expected[j]) < 1e-9,
        `psth[${j}] ${psth.rates.data[j]} vs ${expected[j]}`,
      );
    }
    // evaluateNLB scores psth R2 against these PSTHs, not ones rebuilt from binned spikes.
    const trials = trialsInSplit(loaded, "test").length;
    const flat = (channels: number) =>
      array3([trials, 140, channels], new Float32Array(trials * 140 * channels).fill(0.1));
    const record = evaluateNLB(loaded, { eval: { heldin: flat(3), heldout: flat(1) } });
    assert.deepEqual([record.settings.psthSource, record.settings.psthKernelSdMs], ["dataset", 70]);
  });
});

Deno.test("presets carry the reference's settings; resolveNWBSettings checks options", () => {
  assert.deepEqual(Object.keys(NLB_PRESETS).sort(), [
    "area2_bump",
    "dmfc_rsg",
    "mc_maze",
    "mc_maze_large",
    "mc_maze_medium",
    "mc_maze_small",
    "mc_rtt",
  ]);
  const maze = NLB_PRESETS.mc_maze;
  assert.deepEqual(
    [maze.alignField, maze.windowMs, maze.forwardMs, maze.behaviorLagMs, maze.psthKernelSdMs],
    ["move_onset_time", [-250, 450], 200, 100, 70],
  );
  assert.deepEqual([NLB_PRESETS.mc_rtt.behavior, NLB_PRESETS.mc_rtt.behaviorLagMs], [
    ["finger_vel"],
    140,
  ]);
  assert.equal(NLB_PRESETS.area2_bump.behaviorLagMs, -20);
  assert.deepEqual(NLB_PRESETS.area2_bump.decodeMasks, { column: "ctr_hold_bump", values: [0, 1] });
  assert.equal(NLB_PRESETS.mc_maze.decodeMasks, null);
  assert.equal(resolveNWBSettings({ preset: "area2_bump", decodeMasks: null }).decodeMasks, null);
  assert.throws(
    () => resolveNWBSettings({ decodeMasks: { column: "bump", values: [] } }),
    /decodeMasks.values is empty; expected one value of column "bump" per velocity decoder/,
  );
  assert.equal(NLB_PRESETS.mc_maze_small.behaviorLagMs, 120);
  assert.equal(NLB_PRESETS.mc_maze_large.psthKernelSdMs, 50);
  assert.equal(NLB_PRESETS.dmfc_rsg.dandiset, "000130");
  const s = resolveNWBSettings({ preset: "mc_maze", binMs: 20 });
  assert.equal(s.binMs, 20);
  assert.equal(s.alignField, "move_onset_time");
  assert.throws(
    () => resolveNWBSettings({ preset: "mc_mazze" }),
    (e: unknown) =>
      e instanceof ArgumentError && e.message.includes(`unknown preset "mc_mazze"`) &&
      e.message.includes("mc_maze, mc_rtt"),
  );
  assert.throws(
    () => resolveNWBSettings({ preset: "mc_maze", binMs: 3 }),
    /windowMs length is 700 ms; expected a multiple of the 3 ms bin/,
  );
  assert.throws(
    () => resolveNWBSettings({ validationFraction: 1 }),
    /validationFraction must be in \[0, 1\)/,
  );
  assert.deepEqual(behaviorSeriesOf(["hand_vel_x", "hand_vel_y", "speed"]), [
    { name: "hand_vel", columns: ["x", "y"], dims: [0, 1] },
    { name: "speed", columns: [], dims: [2] },
  ]);
});

// ---------------------------------------------------------------------------------------
// Malformed inputs: every error names the HDF5 path or column and what was expected.
// ---------------------------------------------------------------------------------------

interface TinyParts {
  units?: boolean;
  spikeIndex?: boolean;
  alignColumn?: boolean;
  timestamps?: number; // how many timestamps hand_vel gets (it has 10 rows)
}

/** A minimal NWB file: 2 units, 2 trials, a 10-sample hand_vel; parts can be left out. */
async function tinyNWB(path: string, parts: TinyParts = {}): Promise<void> {
  const h5 = await h5wasm();
  const file = new h5.File(path, "w");
  try {
    if (parts.units ?? true) {
      const units = file.create_group("units");
      units.create_dataset({ name: "spike_times", data: new Float64Array([0.8, 1.2, 1.25, 2.5]) });
      if (parts.spikeIndex ?? true) {
        units.create_dataset({ name: "spike_times_index", data: new Int32Array([3, 4]) });
      }
    }
    const trials = file.create_group("intervals").create_group("trials");
    trials.create_dataset({ name: "start_time", data: new Float64Array([0.5, 1.8]) });
    trials.create_dataset({ name: "stop_time", data: new Float64Array([1.8, 3.0]) });
    if (parts.alignColumn ?? true) {
      trials.create_dataset({ name: "move_onset_time", data: new Float64Array([1.0, 2.9]) });
    }
    const series = file.create_group("processing").create_group("behavior").create_group(
      "hand_vel",
    );
    series.create_dataset({ name: "data", data: new Float64Array(20), shape: [10, 2] });
    const count = parts.timestamps ?? 10;
    series.create_dataset({
      name: "timestamps",
      data: Float64Array.from({ length: count }, (_, j) => 1 + j / 1000),
    });
  } finally {
    file.close();
  }
}

const PLAIN = {
  alignField: "move_onset_time",
  windowMs: [-200, 300] as [number, number],
  outsideRecording: "drop" as const,
};

Deno.test("malformed: a file that is not HDF5, and a missing file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/notes.nwb`, "these are not spikes");
    await rejectsWith(
      () => loadNWB(`${dir}/notes.nwb`),
      DatasetError,
      `${dir}/notes.nwb is not an HDF5 file`,
      "expected an NWB file",
    );
    await rejectsWith(() => describeNWB(`${dir}/notes.nwb`), DatasetError, "not an HDF5 file");
    await rejectsWith(() => loadNWB(`${dir}/absent.nwb`), DatasetError, "absent.nwb: no such file");
  });
});

Deno.test("malformed: no /units group", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`, { units: false });
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, PLAIN),
      DatasetError,
      "has no /units group",
      "expected an NWB units table with spike_times",
      "intervals, processing",
    );
    const info = await describeNWB(`${dir}/t.nwb`);
    assert.equal(info.units, null);
    assert.ok(info.problems[0].includes("no /units group"));
  });
});

Deno.test("malformed: spikes with no index", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`, { spikeIndex: false });
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, PLAIN),
      DatasetError,
      "/units/spike_times holds 4 spike times but /units/spike_times_index is missing",
      "expected a VectorIndex with one end offset per unit",
    );
  });
});

Deno.test("malformed: a missing alignment column", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`, { alignColumn: false });
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, { preset: "mc_maze" }),
      DatasetError,
      `/intervals/trials has no column "move_onset_time" (the alignment event)`,
      "its columns are: start_time, stop_time",
    );
  });
});

Deno.test("malformed: a TimeSeries whose length disagrees with its timestamps", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`, { timestamps: 11 });
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, { ...PLAIN, behavior: ["hand_vel"] }),
      DatasetError,
      "/processing/behavior/hand_vel/timestamps has 11 entries but /processing/behavior/hand_vel/data has 10 rows",
      "expected one timestamp per row",
    );
    const info = await describeNWB(`${dir}/t.nwb`);
    assert.ok(info.problems.some((p) => p.includes("hand_vel/timestamps has 11 entries")));
    assert.match(
      formatNWBInfo(info),
      /problems:\n {2}\/processing\/behavior\/hand_vel\/timestamps has 11/,
    );
  });
});

Deno.test("malformed: an unknown preset and an unknown behavior series", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`);
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, { preset: "mc_labyrinth" }),
      ArgumentError,
      `unknown preset "mc_labyrinth"`,
      "expected one of mc_maze",
    );
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, { ...PLAIN, behavior: ["finger_vel"] }),
      DatasetError,
      `no TimeSeries "finger_vel" (behavior)`,
      "/processing/behavior/hand_vel",
    );
  });
});

Deno.test("malformed: a window that runs past the recording (or drops the trial when asked)", async () => {
  await withTempDir(async (dir) => {
    await tinyNWB(`${dir}/t.nwb`);
    // Trial 1's window 2.7..3.2 s ends past the recording's end at 3.0 s (its stop_time).
    await rejectsWith(
      () => loadNWB(`${dir}/t.nwb`, { ...PLAIN, outsideRecording: "error" }),
      DatasetError,
      "trial 1 (row 1 of /intervals/trials)",
      "around move_onset_time = 2.9 s covers 2.7..3.2 s, outside the recording (0..3 s",
    );
    const kept = await loadNWB(`${dir}/t.nwb`, PLAIN);
    assert.deepEqual(kept.nwb.dropped, [{ reason: "window outside the recording", trialIds: [1] }]);
    // Trial 0: window 0.8..1.3 s; spikes at 0.8, 1.2 and 1.25 s in unit 0.
    assert.deepEqual(kept.heldinSpikes.shape, [1, 100, 2]);
    const counts: number[] = [];
    kept.heldinSpikes.data.forEach((v, j) => v && counts.push(j, v));
    assert.deepEqual(counts, [0, 1, 80 * 2, 1, 90 * 2, 1]);
    assert.ok(kept.nwb.notes.some((n) => n.includes("no heldout column")));
  });
});

// ---------------------------------------------------------------------------------------
// Cross-check with h5py: a file in the NLB layout written by h5py (bool enums, vlen
// strings, int64 ids, a 1 kHz starting_time + rate series, a container series with
// timestamps, a gap in the observation intervals) loads with the counts, behavior and
// PSTHs that numpy and scipy compute the reference's way.
// ---------------------------------------------------------------------------------------

const PYTHON = "/usr/bin/python3";
async function pythonHas(modules: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", `import ${modules}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}
const hasH5py = await pythonHas("numpy, h5py");
const hasScipy = hasH5py && await pythonHas("scipy.signal");
if (!hasH5py) {
  console.log(
    "nwb_test: skipping the h5py cross-check: /usr/bin/python3 with numpy and h5py is not installed (apt-get install python3-h5py)",
  );
} else if (!hasScipy) {
  console.log(
    "nwb_test: h5py cross-check runs without scipy: behavior decimation and PSTHs are not compared (apt-get install python3-scipy)",
  );
}

const H5PY_SCRIPT = String.raw`
import json, math, sys
import numpy as np, h5py
path, with_scipy = sys.argv[1], sys.argv[2] == "1"
rng = np.random.default_rng(7)
T_MS = 30000
GAP = (14000, 14500)
n_units = 6
heldout = np.array([False, True, False, False, True, False])
spikes = []
for u in range(n_units):
    t = np.sort(rng.uniform(0, T_MS / 1000, rng.poisson((8 + 4 * u) * T_MS / 1000)))
    spikes.append(t[(t < GAP[0] / 1000) | (t >= GAP[1] / 1000)])
onsets = np.array([0.4037, 3.1111, 5.5, 7.25, 9.0001, 11.3, 13.0037, 14.2, 14.85, 18.05, 20.7, 23.3, np.nan, 27.5])
split = ["train", "val", "train", "train", "val", "train", "val", "train", "train", "val", "train", "train", "train", "none"]
trial_type = np.arange(len(onsets)) % 3
trial_version = np.zeros(len(onsets), dtype=np.int64); trial_version[4] = 1
with h5py.File(path, "w") as f:
    f.attrs["nwb_version"] = "2.6.0"
    f.create_dataset("session_description", data="h5py fixture")
    units = f.create_group("units")
    units.attrs["colnames"] = ["spike_times", "obs_intervals", "heldout"]
    units.create_dataset("id", data=np.arange(n_units, dtype=np.int64))
    units.create_dataset("spike_times", data=np.concatenate(spikes))
    units.create_dataset("spike_times_index", data=np.cumsum([len(s) for s in spikes]).astype(np.uint32))
    units.create_dataset("obs_intervals", data=np.array([[0.0, GAP[0] / 1000], [GAP[1] / 1000, T_MS / 1000]] * n_units))
    units.create_dataset("obs_intervals_index", data=np.arange(1, n_units + 1, dtype=np.int64) * 2)
    units.create_dataset("heldout", data=heldout)
    trials = f.create_group("intervals/trials")
    trials.create_dataset("id", data=np.arange(len(onsets), dtype=np.int64))
    start = np.where(np.isnan(onsets), 25.0, onsets) - 0.5
    trials.create_dataset("start_time", data=start)
    trials.create_dataset("stop_time", data=start + 1.5)
    trials.create_dataset("move_onset_time", data=onsets)
    trials.create_dataset("split", data=split, dtype=h5py.string_dtype())
    trials.create_dataset("maze_name", data=["maze %d" % (i % 2) for i in range(len(onsets))], dtype=h5py.string_dtype())
    trials.create_dataset("success", data=np.arange(len(onsets)) % 4 != 3)
    trials.create_dataset("trial_type", data=trial_type)
    trials.create_dataset("trial_version", data=trial_version)
    trials.attrs["colnames"] = ["start_time", "stop_time", "move_onset_time", "split", "maze_name", "success", "trial_type", "trial_version"]
    ms = np.arange(T_MS)
    vel = np.stack([np.sin(ms / 170.0) * 100 + rng.normal(0, 5, T_MS), np.cos(ms / 90.0) * 60 + rng.normal(0, 5, T_MS)], axis=1)
    vel[7300:7400] = np.nan
    vel[T_MS - 50:] = np.nan
    hv = f.create_group("processing/behavior/hand_vel")
    hv.attrs["neurodata_type"] = "TimeSeries"
    hv.attrs["comments"] = "columns=[x,y]"
    hv.create_dataset("data", data=vel)
    st = hv.create_dataset("starting_time", data=0.0)
    st.attrs["rate"] = 1000.0
    cur = np.stack([np.cumsum(rng.normal(0, 1, T_MS)), np.cumsum(rng.normal(0, 1, T_MS))], axis=1)
    cp = f.create_group("processing/behavior/Position/cursor_pos")
    cp.attrs["neurodata_type"] = "SpatialSeries"
    f["processing/behavior/Position"].attrs["neurodata_type"] = "Position"
    cp.create_dataset("data", data=cur)
    cp.create_dataset("timestamps", data=ms / 1000.0)

# Expectations, computed the reference's way.
counts = np.zeros((T_MS, n_units))
for u, s in enumerate(spikes):
    idx, cnt = np.unique((s * 1000).round(6).astype(int), return_counts=True)
    counts[idx, u] = cnt
binned = counts.reshape(T_MS // 5, 5, n_units).sum(axis=1)
kept, first = [], []
for r, onset in enumerate(onsets):
    if split[r] == "none" or np.isnan(onset):
        continue
    g0 = math.ceil((round(onset * 1e6) - 250 * 1000) / 5000)
    lo, hi = g0 * 5, g0 * 5 + 900
    if lo < GAP[1] and hi > GAP[0]:
        continue
    kept.append(r); first.append(g0)
out = {"kept": kept, "heldin": [], "heldout": [], "fwd_in": [], "fwd_out": [], "behavior": [], "psth": None}
for g0 in first:
    w = binned[g0:g0 + 180]
    out["heldin"] += w[:140, ~heldout].ravel().tolist()
    out["heldout"] += w[:140, heldout].ravel().tolist()
    out["fwd_in"] += w[140:, ~heldout].ravel().tolist()
    out["fwd_out"] += w[140:, heldout].ravel().tolist()
if with_scipy:
    from scipy import signal
    def decimated(x):
        y = np.empty((T_MS // 5, x.shape[1]))
        for c in range(x.shape[1]):
            col = x[:, c].copy(); bad = np.isnan(col)
            col[bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), col[~bad])
            y[:, c] = signal.decimate(col, 5, n=500, ftype="fir")
            y[bad[::5], c] = np.nan
        return y
    beh = np.concatenate([decimated(vel), decimated(cur)], axis=1)
    for g0 in first:
        b = beh[g0 + 20:g0 + 160]  # lag 100 ms = 20 bins
        out["behavior"] += [None if np.isnan(v) else v for v in b.ravel().tolist()]
    win = signal.windows.gaussian(420, 70, sym=True); win /= win.sum()
    smooth = np.full((T_MS, n_units), np.nan)
    for a, e in [(0, GAP[0]), (GAP[1], T_MS)]:
        for u in range(n_units):
            smooth[a:e, u] = signal.convolve(counts[a:e, u], win, mode="same")
    sb = np.nan_to_num(smooth).reshape(T_MS // 5, 5, n_units).sum(axis=1)
    order = np.concatenate([np.flatnonzero(~heldout), np.flatnonzero(heldout)])
    conds = sorted({(int(trial_type[r]), int(trial_version[r])) for r in kept})
    psth = []
    for cond in conds:
        rows = [g0 for r, g0 in zip(kept, first) if (trial_type[r], trial_version[r]) == cond]
        psth.append(np.mean([sb[g0:g0 + 140][:, order] for g0 in rows], axis=0))
    out["psth"] = np.array(psth).ravel().tolist()
    out["conds"] = conds
print(json.dumps(out))
`;

Deno.test({
  name:
    "h5py cross-check: an NLB-layout file written by h5py loads with the reference's counts, behavior and PSTHs",
  ignore: !hasH5py,
  fn: async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/h5py.nwb`;
      const result = await new Deno.Command(PYTHON, {
        args: ["-c", H5PY_SCRIPT, path, hasScipy ? "1" : "0"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      const expected = JSON.parse(new TextDecoder().decode(result.stdout));
      const loaded: NWBDataset = await loadNWB(path, {
        preset: "mc_maze",
        behavior: ["hand_vel", "Position_cursor_pos"],
        validationFraction: 0,
      });
      assert.deepEqual(Array.from(loaded.nwb.trialId), expected.kept);
      assert.deepEqual(loaded.nwb.dropped, [
        { reason: "window not inside every unit's obs_intervals", trialIds: [7] },
        { reason: "no move_onset_time", trialIds: [12] },
        { reason: `split "none" is not loaded (splitMap)`, trialIds: [13] },
      ]);
      assert.deepEqual(loaded.heldoutNames, ["unit_1", "unit_4"]);
      assertSameValues(loaded.heldinSpikes.data, expected.heldin, "heldin");
      assertSameValues(loaded.heldoutSpikes.data, expected.heldout, "heldout");
      assertSameValues(loaded.forwardHeldinSpikes.data, expected.fwd_in, "forward heldin");
      assertSameValues(loaded.forwardHeldoutSpikes.data, expected.fwd_out, "forward heldout");
      // NLB "val" is the scored split; the rest is train.
      const fileSplit = loaded.nwb.fileSplit;
      assert.deepEqual(loaded.split, fileSplit.map((s) => (s === "val" ? "test" : "train")));
      assert.deepEqual(
        loaded.nwb.trialInfo.success,
        Uint8Array.from(expected.kept, (r: number) => (r % 4 !== 3 ? 1 : 0)),
      );
      assert.deepEqual(
        loaded.nwb.trialInfo.maze_name,
        expected.kept.map((r: number) => `maze ${r % 2}`),
      );
      assert.deepEqual(loaded.behaviorNames, [
        "hand_vel_x",
        "hand_vel_y",
        "cursor_pos_x",
        "cursor_pos_y",
      ]);
      if (!hasScipy) return;
      const close = (a: number, e: number | null) =>
        e === null ? Number.isNaN(a) : Math.abs(a - e) <= 1e-6 * (1 + Math.abs(e));
      const behavior = loaded.behavior.data;
      assert.equal(behavior.length, expected.behavior.length);
      assert.ok(
        expected.behavior.some((v: number | null) => v === null),
        "the fixture has NaN behavior",
      );
      expected.behavior.forEach((e: number | null, j: number) =>
        assert.ok(close(behavior[j], e), `behavior[${j}] ${behavior[j]} vs ${e}`)
      );
      const psth = loaded.truePsth!;
      assert.deepEqual(psth.rates.shape, [expected.conds.length, 140, 6]);
      expected.psth.forEach((e: number, j: number) =>
        assert.ok(
          Math.abs(psth.rates.data[j] - e) < 1e-9,
          `psth[${j}] ${psth.rates.data[j]} vs ${e}`,
        )
      );
    });
  },
});

Deno.test({
  name: "area2_bump: the preset's two velocity decoders come from the file's ctr_hold_bump column",
  ignore: !hasH5py,
  fn: async () => {
    // Area2_Bump's bins: -100..500 ms around move onset (120 + 40 bins of 5 ms); the lag is
    // 0 here (the synthetic data have no negative lag; the preset's -20 is overridden).
    const data = reachDataset({
      ...SMALL,
      trials: 40,
      bins: 120,
      forwardBins: 40,
      moveOnsetBin: 20,
      lagMs: 0,
      seed: 3,
    });
    const bump = Array.from({ length: 40 }, (_, i) => i % 3 === 0);
    await withTempDir(async (dir) => {
      const path = `${dir}/area2.nwb`;
      await writeNWB(data, path, { windowStartMs: -100, splitLabels: IDENTITY });
      // The real file's ctr_hold_bump is an h5py bool column of the trials table.
      const add = await new Deno.Command(PYTHON, {
        args: [
          "-c",
          `import json, sys, h5py, numpy as np
with h5py.File(sys.argv[1], "a") as f:
    t = f["intervals/trials"]
    t.create_dataset("ctr_hold_bump", data=np.array(json.loads(sys.argv[2]), dtype=bool))
    t.attrs["colnames"] = [str(c) for c in t.attrs["colnames"]] + ["ctr_hold_bump"]`,
          path,
          JSON.stringify(bump),
        ],
        stderr: "piped",
      }).output();
      assert.ok(add.success, new TextDecoder().decode(add.stderr));
      const options = {
        preset: "area2_bump",
        conditionFields: ["trial_type", "ctr_hold_bump"],
        behaviorLagMs: 0,
        splitMap: IDENTITY,
        validationFraction: 0,
      };
      const loaded = await loadNWB(path, options);
      assert.deepEqual(loaded.nwb.settings.decodeMasks, {
        column: "ctr_hold_bump",
        values: [0, 1],
      });
      assert.deepEqual(loaded.nwb.trialInfo.ctr_hold_bump, Uint8Array.from(bump, Number));
      const masks = nlbDecodeMasks(loaded)!;
      assert.deepEqual(masks[1], Uint8Array.from(bump, Number));
      assert.deepEqual(masks[0], Uint8Array.from(bump, (b) => (b ? 0 : 1)));
      // vel R2 of the true rates: the mean of a decoder for each value, each fit on its own
      // train trials and scored on its own test trials.
      const train = truthRates(data, "train"), evaluation = truthRates(data, "test");
      const record = evaluateNLB(loaded, { train, eval: evaluation });
      const trainTrials = trialsInSplit(loaded, "train"),
        testTrials = trialsInSplit(loaded, "test");
      const expected = velR2({
        trainRates: concat3([train.heldin, train.heldout], 2),
        trainBehavior: selectTrials(loaded.behavior, trainTrials),
        evalRates: concat3([evaluation.heldin, evaluation.heldout], 2),
        evalBehavior: selectTrials(loaded.behavior, testTrials),
        decodeMasks: {
          train: [false, true].map((v) => trainTrials.map((i) => bump[i] === v)),
          eval: [false, true].map((v) => testTrials.map((i) => bump[i] === v)),
        },
      });
      assert.equal(record.velR2, expected.r2);
      assert.deepEqual(
        record.settings.velR2Decoders.map((d) => d.r2),
        expected.decoders.map((d) => d.r2),
      );
      assert.ok(record.notes.some((n) => n.includes("ctr_hold_bump = 0, 1, as the reference")));

      // A file without the column: the preset asks for it by name; decodeMasks null reads it.
      const plain = `${dir}/plain.nwb`;
      await writeNWB(data, plain, { windowStartMs: -100, splitLabels: IDENTITY });
      const noBump = { ...options, conditionFields: ["trial_type"] };
      await rejectsWith(
        () => loadNWB(plain, noBump),
        DatasetError,
        `has no column "ctr_hold_bump" (the velocity decoders)`,
      );
      const single = await loadNWB(plain, { ...noBump, decodeMasks: null });
      assert.equal(nlbDecodeMasks(single), null);
      assert.equal(
        evaluateNLB(single, { train, eval: evaluation }).settings.velR2Decoders.length,
        1,
      );
    });
  },
});
