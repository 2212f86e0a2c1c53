import assert from "node:assert/strict";
import { trialsInSplit } from "../../lib/data/dataset.ts";
import { describeNWB, formatNWBInfo } from "../../lib/data/nwb_info.ts";
import { writeNWB } from "../../lib/data/nwb_writer.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";

// The reach dataset of nwb_test.ts (MC_Maze's bins, so the mc_maze presets can read it).
// Malformed files are described in nwb_test.ts, beside what loadNWB says of them.
const SMALL = { trials: 36, heldinNeurons: 12, heldoutNeurons: 4, conditions: 4, seed: 1 };

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "blend_nwb_info_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("describeNWB and formatNWBInfo report units, trials, splits and time series", async () => {
  const data = reachDataset(SMALL);
  await withTempDir(async (dir) => {
    const path = `${dir}/reach.nwb`;
    await writeNWB(data, path, { behaviorTiming: "rate" });
    const info = await describeNWB(path);
    assert.equal(info.units?.count, 16);
    assert.equal(info.units?.heldout, 4);
    assert.equal(
      info.units?.spikes,
      [data.heldinSpikes, data.heldoutSpikes, data.forwardHeldinSpikes, data.forwardHeldoutSpikes]
        .reduce((sum, a) => sum + Array.from(a.data).reduce((s, v) => s + v, 0), 0),
    );
    assert.equal(info.trials?.count, SMALL.trials);
    assert.equal(info.trials?.splits.val, trialsInSplit(data, "test").length);
    const success = info.trials?.columns.find((c) => c.name === "success");
    assert.deepEqual([success?.kind, success?.examples], ["boolean", ["true"]]);
    assert.equal(info.trials?.columns.find((c) => c.name === "split")?.kind, "string");
    const [series] = info.timeSeries;
    assert.equal(series.path, "/processing/behavior/hand_vel");
    assert.deepEqual([series.timing, series.rateHz, series.columns], ["rate", 200, 2]);
    assert.ok(series.nanFraction! > 0.5 && series.nanFraction! < 1); // NaN between trials
    assert.deepEqual(info.presets, ["mc_maze", "mc_maze_large", "mc_maze_medium", "mc_maze_small"]);
    assert.deepEqual(info.problems, []);
    const text = formatNWBInfo(info);
    assert.match(text, /units: 16 \(12 held-in, 4 held-out\)/);
    assert.match(text, /trials: 36 \(split: /);
    assert.match(
      text,
      /\/processing\/behavior\/hand_vel TimeSeries: \d+ x 2 \[x, y\], 200\.00 Hz \(rate\)/,
    );
    assert.match(text, /presets that can read it: mc_maze/);
  });
});

Deno.test("describeNWB: a series timestamped only within trials reports its sampling rate, not the gaps", async () => {
  // 1000 trials of 140 samples: a sample of every 140th step would land on the gaps only.
  const data = reachDataset({ ...SMALL, trials: 1000, heldinNeurons: 2, heldoutNeurons: 1 });
  await withTempDir(async (dir) => {
    const path = `${dir}/reach.nwb`;
    await writeNWB(data, path, { behaviorTiming: "timestamps", behaviorSpan: "trials" });
    const [series] = (await describeNWB(path)).timeSeries;
    assert.deepEqual([series.timing, series.rateHz], ["timestamps", 200]);
  });
});
