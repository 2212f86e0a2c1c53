/**
 * Benchmark: time to generate the synthetic datasets at MC_Maze size (target: under 2 s
 * for `reachDataset()` with its defaults). Prints a table and writes out/bench_synthetic.json.
 * Run with `deno task bench`.
 * @module
 */

import { summarizeDataset } from "../lib/data/dataset.ts";
import { lorenzDataset } from "../lib/data/synthetic/lorenz.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { writeJsonAtomic } from "../lib/io.ts";

const REPEATS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const cases = [
  {
    name: "reachDataset (MC_Maze size: 2295 trials, 182 neurons, 140+40 bins)",
    make: () => reachDataset(),
  },
  { name: "lorenzDataset (defaults)", make: () => lorenzDataset() },
];

const results = [];
for (const { name, make } of cases) {
  make(); // warm-up: compile the hot loops
  const times: number[] = [];
  let entries = 0;
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    const dataset = make();
    times.push(performance.now() - start);
    const s = summarizeDataset(dataset);
    entries = (s.trials.train + s.trials.val + s.trials.test) * (s.bins + s.forwardBins) *
      (s.heldinNeurons + s.heldoutNeurons);
  }
  const ms = median(times);
  results.push({
    name,
    medianMs: ms,
    minMs: Math.min(...times),
    repeats: REPEATS,
    spikeEntries: entries,
  });
  console.log(
    `${name.padEnd(72)} median ${ms.toFixed(0).padStart(6)} ms  (${
      (entries / ms / 1000).toFixed(1)
    } M entries/s)`,
  );
}
await writeJsonAtomic("out/bench_synthetic.json", {
  machine: { os: Deno.build.os, arch: Deno.build.arch, deno: Deno.version.deno },
  results,
});
console.log("wrote out/bench_synthetic.json");
