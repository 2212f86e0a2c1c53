import assert from "node:assert/strict";
import { array3 } from "../../lib/array.ts";
import type { NeuralDataset } from "../../lib/data/dataset.ts";
import { h5wasm } from "../../lib/data/hdf5.ts";
import { loadNWB } from "../../lib/data/nwb.ts";
import { writeNWB } from "../../lib/data/nwb_writer.ts";
import {
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  loadDataset,
  nlbGroupName,
  readNLBSubmission,
  saveDataset,
  writeNLBSubmission,
} from "../../lib/data/store.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { ArgumentError, DatasetError } from "../../lib/errors.ts";
import { truthRates } from "../../lib/metrics/nlb.ts";

const SMALL = {
  trials: 30,
  heldinNeurons: 10,
  heldoutNeurons: 3,
  conditions: 3,
  bins: 40,
  forwardBins: 8,
  moveOnsetBin: 15,
  seed: 2,
};

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "blend_store_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function withLfp(d: NeuralDataset): NeuralDataset {
  const [trials, time] = d.heldinSpikes.shape;
  const lfp = array3(
    [trials, time, 2],
    Float64Array.from({ length: trials * time * 2 }, (_, i) => Math.sin(i) * 1e-4),
    "float64",
  );
  lfp.data[7] = NaN;
  return { ...d, lfp };
}

Deno.test("saveDataset / loadDataset round-trip every field, truth and lfp included, array types kept", async () => {
  const data = withLfp(reachDataset(SMALL));
  await withTempDir(async (dir) => {
    const path = `${dir}/nested/reach.h5`;
    await saveDataset(data, path);
    const back = await loadDataset(path);
    assert.deepEqual(back, data);
    assert.ok(back.heldinSpikes.data instanceof Float32Array);
    assert.ok(back.lfp!.data instanceof Float64Array);
    assert.ok(back.condition instanceof Int32Array);
    assert.deepEqual([...Deno.readDirSync(`${dir}/nested`)].map((e) => e.name), ["reach.h5"]);
  });
});

Deno.test("a dataset read from NWB round-trips with its provenance, trial info and true PSTHs", async () => {
  const data = reachDataset({
    trials: 24,
    heldinNeurons: 8,
    heldoutNeurons: 2,
    conditions: 3,
    seed: 5,
  });
  await withTempDir(async (dir) => {
    await writeNWB(data, `${dir}/reach.nwb`);
    const loaded = await loadNWB(`${dir}/reach.nwb`, { preset: "mc_maze" });
    await saveDataset(loaded, `${dir}/reach.h5`);
    const back = await loadDataset(`${dir}/reach.h5`);
    assert.deepEqual(back, loaded);
    assert.ok(back.truePsth!.rates.data instanceof Float64Array);
    assert.equal(back.truePsth!.kernelSdMs, 70);
    // A file saved before true PSTHs moved out of `nwb` loads them as the dataset's own.
    const { truePsth, ...withoutPsth } = loaded;
    await saveDataset(
      { ...withoutPsth, nwb: { ...loaded.nwb, truePsth } } as NeuralDataset,
      `${dir}/old.h5`,
    );
    assert.deepEqual(await loadDataset(`${dir}/old.h5`), loaded);
  });
});

Deno.test("saveDataset / loadDataset round-trip true PSTHs, NaN rows and float32 included", async () => {
  const data = reachDataset(SMALL);
  const conditionIds = [...new Set(data.condition)].sort((a, b) => b - a);
  const rates = array3(
    [conditionIds.length, SMALL.bins, SMALL.heldinNeurons + SMALL.heldoutNeurons],
    Float32Array.from(
      { length: conditionIds.length * SMALL.bins * 13 },
      (_, i) => (i < 13 ? NaN : (i % 7) / 4),
    ),
  );
  const withPsth: NeuralDataset = {
    ...data,
    truePsth: { rates, conditionIds, trialCounts: conditionIds.map((c) => c + 2), kernelSdMs: 40 },
  };
  await withTempDir(async (dir) => {
    await saveDataset(withPsth, `${dir}/psth.h5`);
    const back = await loadDataset(`${dir}/psth.h5`);
    assert.deepEqual(back, withPsth);
    assert.ok(back.truePsth!.rates.data instanceof Float32Array);
    await assert.rejects(
      () =>
        saveDataset(
          { ...withPsth, truePsth: { ...withPsth.truePsth!, kernelSdMs: -1 } },
          `${dir}/bad.h5`,
        ),
      (e: unknown) =>
        e instanceof DatasetError && e.message.includes("truePsth.kernelSdMs must be a positive"),
    );
  });
});

Deno.test("loadDataset names what is wrong: not HDF5, another kind of HDF5, a newer version, a broken dataset", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/text.h5`, "plain text");
    await assert.rejects(
      () => loadDataset(`${dir}/text.h5`),
      (e: unknown) =>
        e instanceof DatasetError && e.message.includes("text.h5 is not an HDF5 file") &&
        e.message.includes("expected a dataset saved by saveDataset"),
    );
    const data = reachDataset(SMALL);
    await writeNLBSubmission(`${dir}/submission.h5`, {
      datasetName: "mc_maze",
      binMs: 5,
      trainRates: truthRates(data, "train"),
      evalRates: truthRates(data, "test"),
    });
    await assert.rejects(
      () => loadDataset(`${dir}/submission.h5`),
      (e: unknown) =>
        e instanceof DatasetError &&
        e.message.includes(
          `the root attribute "format" is undefined; expected "${DATASET_FORMAT}"`,
        ),
    );
    const h5 = await h5wasm();
    const write = (name: string, version: number, json: string) => {
      const file = new h5.File(`${dir}/${name}`, "w");
      file.create_attribute("format", DATASET_FORMAT);
      file.create_attribute("format_version", version);
      file.create_attribute("blend_json", json);
      file.close();
    };
    write("future.h5", DATASET_FORMAT_VERSION + 1, "{}");
    await assert.rejects(
      () => loadDataset(`${dir}/future.h5`),
      /format_version is 2; this version of blend reads 1\.\.1/,
    );
    write("empty.h5", 1, JSON.stringify({ name: "x", binMs: 5, behaviorLagMs: 0 }));
    await assert.rejects(
      () => loadDataset(`${dir}/empty.h5`),
      (e: unknown) => e instanceof DatasetError && e.message.includes("empty.h5: heldinSpikes"),
    );
  });
});

Deno.test("saveDataset is atomic: a refused or failed save leaves the old file and no partial file", async () => {
  const data = reachDataset(SMALL);
  await withTempDir(async (dir) => {
    const path = `${dir}/kept.h5`;
    await saveDataset(data, path);
    const broken = { ...data, split: data.split.slice(1) };
    await assert.rejects(() => saveDataset(broken, path), DatasetError);
    // A failure half-way through writing (h5wasm cannot store a DataView) leaves no trace.
    const unwritable = { ...data, extra: new DataView(new ArrayBuffer(8)) } as NeuralDataset;
    await assert.rejects(() => saveDataset(unwritable, path), /DataView/);
    assert.deepEqual((await loadDataset(path)).split, data.split);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["kept.h5"]);
  });
});

Deno.test("writeNLBSubmission writes the NLB evaluation's layout in float32 (5 and 20 ms groups)", async () => {
  const data = reachDataset(SMALL);
  const train = truthRates(data, "train"), evaluation = truthRates(data, "test");
  await withTempDir(async (dir) => {
    const path = `${dir}/submission.h5`;
    await writeNLBSubmission(path, [
      { datasetName: "mc_maze", binMs: 5, trainRates: train, evalRates: evaluation },
      {
        datasetName: "mc_maze_small",
        binMs: 20,
        trainRates: train,
        evalRates: { heldin: evaluation.heldin, heldout: evaluation.heldout },
      },
    ]);
    const back = await readNLBSubmission(path);
    assert.deepEqual(Object.keys(back).sort(), ["mc_maze", "mc_maze_small_20"]);
    assert.deepEqual(Object.keys(back.mc_maze).sort(), [
      "eval_rates_heldin",
      "eval_rates_heldin_forward",
      "eval_rates_heldout",
      "eval_rates_heldout_forward",
      "train_rates_heldin",
      "train_rates_heldout",
    ]);
    assert.deepEqual(Object.keys(back.mc_maze_small_20).sort(), [
      "eval_rates_heldin",
      "eval_rates_heldout",
      "train_rates_heldin",
      "train_rates_heldout",
    ]);
    const f32 = (a: { data: ArrayLike<number> }) => Float32Array.from(a.data);
    assert.deepEqual(back.mc_maze.train_rates_heldin.data, f32(train.heldin));
    assert.deepEqual(back.mc_maze.train_rates_heldin.shape, train.heldin.shape);
    assert.deepEqual(back.mc_maze.eval_rates_heldout_forward.data, f32(evaluation.forwardHeldout!));
    assert.ok(back.mc_maze.eval_rates_heldout.data instanceof Float32Array);
    assert.equal(nlbGroupName("area2_bump", 20), "area2_bump_20");
  });
});

Deno.test("writeNLBSubmission rejects what the evaluation would reject, naming the array", async () => {
  const data = reachDataset(SMALL);
  const train = truthRates(data, "train"), evaluation = truthRates(data, "test");
  const entry = {
    datasetName: "mc_maze" as const,
    binMs: 5 as const,
    trainRates: train,
    evalRates: evaluation,
  };
  const path = "/nonexistent/never_written.h5";
  await assert.rejects(
    () => writeNLBSubmission(path, { ...entry, datasetName: "mc_mouse" as "mc_maze" }),
    (e: unknown) =>
      e instanceof ArgumentError &&
      e.message.includes(`datasetName is "mc_mouse"; expected one of mc_maze, mc_rtt`),
  );
  await assert.rejects(
    () => writeNLBSubmission(path, { ...entry, binMs: 10 as 5 }),
    /binMs is 10; the NLB evaluates 5 or 20 ms bins/,
  );
  const negative = { ...evaluation.heldout, data: Float32Array.from(evaluation.heldout.data) };
  negative.data[3 * 2 + 1] = -0.5;
  await assert.rejects(
    () => writeNLBSubmission(path, { ...entry, evalRates: { ...evaluation, heldout: negative } }),
    /mc_maze\/eval_rates_heldout has -0\.5 at trial 0, bin 2, neuron 1; the NLB evaluation needs finite rates >= 0/,
  );
  await assert.rejects(
    () =>
      writeNLBSubmission(path, { ...entry, evalRates: { ...evaluation, heldout: train.heldout } }),
    /mc_maze\/eval_rates_heldout has \d+ trials but mc_maze\/eval_rates_heldin has \d+/,
  );
  await assert.rejects(
    () =>
      writeNLBSubmission(path, {
        ...entry,
        evalRates: { ...evaluation, forwardHeldout: undefined },
      }),
    /give both eval forward rates \(heldin and heldout\) or neither/,
  );
  await assert.rejects(
    () => writeNLBSubmission(path, [entry, entry]),
    /group "mc_maze" given twice/,
  );
});

const PYTHON = "/usr/bin/python3";
const hasH5py = await new Deno.Command(PYTHON, {
  args: ["-c", "import numpy, h5py"],
  stdout: "null",
  stderr: "null",
})
  .output().then((r) => r.success, () => false);
if (!hasH5py) {
  console.log(
    "store_test: skipping the h5py checks: /usr/bin/python3 with numpy and h5py is not installed (apt-get install python3-h5py)",
  );
}

Deno.test({
  name: "h5py reads the submission as the NLB evaluation does, and a saved dataset's arrays",
  ignore: !hasH5py,
  fn: async () => {
    const data = reachDataset(SMALL);
    const train = truthRates(data, "train"), evaluation = truthRates(data, "test");
    await withTempDir(async (dir) => {
      await writeNLBSubmission(`${dir}/submission.h5`, {
        datasetName: "mc_maze",
        binMs: 5,
        trainRates: train,
        evalRates: evaluation,
      });
      await saveDataset(data, `${dir}/dataset.h5`);
      const script = String.raw`
import json, sys
import numpy as np, h5py
out = {}
with h5py.File(sys.argv[1], "r") as f:
    g = f["mc_maze"]
    out["keys"] = sorted(g.keys())
    out["dtypes"] = sorted({str(g[k].dtype) for k in g})
    rates = np.concatenate([g["eval_rates_heldin"][()], g["eval_rates_heldout"][()]], axis=-1).astype("float")
    out["eval_shape"] = list(rates.shape)
    out["eval_sum"] = float(rates.sum())
with h5py.File(sys.argv[2], "r") as f:
    out["format"] = [f.attrs["format"] if isinstance(f.attrs["format"], str) else f.attrs["format"].decode(), int(f.attrs["format_version"])]
    out["heldin"] = [list(f["heldinSpikes"].shape), float(f["heldinSpikes"][()].sum())]
    out["split"] = [s.decode() if isinstance(s, bytes) else s for s in f["split"][()]]
    out["json"] = json.loads(f.attrs["blend_json"])["binMs"]
print(json.dumps(out))
`;
      const result = await new Deno.Command(PYTHON, {
        args: ["-c", script, `${dir}/submission.h5`, `${dir}/dataset.h5`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      const got = JSON.parse(new TextDecoder().decode(result.stdout));
      assert.deepEqual(got.keys, [
        "eval_rates_heldin",
        "eval_rates_heldin_forward",
        "eval_rates_heldout",
        "eval_rates_heldout_forward",
        "train_rates_heldin",
        "train_rates_heldout",
      ]);
      assert.deepEqual(got.dtypes, ["float32"]);
      const [n, t, nIn] = evaluation.heldin.shape;
      assert.deepEqual(got.eval_shape, [n, t, nIn + evaluation.heldout.shape[2]]);
      let sum = 0;
      for (const a of [evaluation.heldin, evaluation.heldout]) {
        for (const v of Float32Array.from(a.data)) {
          sum += v;
        }
      }
      assert.ok(Math.abs(got.eval_sum - sum) < 1e-6 * sum);
      assert.deepEqual(got.format, [DATASET_FORMAT, DATASET_FORMAT_VERSION]);
      assert.deepEqual(got.heldin, [
        [...data.heldinSpikes.shape],
        Array.from(data.heldinSpikes.data).reduce((a, b) => a + b, 0),
      ]);
      assert.deepEqual(got.split, data.split);
      assert.equal(got.json, data.binMs);
    });
  },
});
