/**
 * Statistics of the synthetic reaching data beside real MC_Maze's: mean firing rates,
 * condition-averaged peak rates, Fano factors before and after movement onset, the
 * smoothing baseline's share of the true rates' co-bps, the dimensionality of the true
 * log-rates, and vel R2 from the true rates and from smoothing. Prints a table per
 * setting and writes out/synthetic_stats.json. docs/synthetic_data.md quotes its output.
 *
 *   deno run --allow-read --allow-write=out --allow-env --allow-ffi bench/synthetic_stats.ts
 *     [--settings mc_maze_5ms,mc_maze_20ms,demo] [--seed 0] [--out out]
 *
 * MC_Maze size at 5 ms takes about 2 minutes on 2 cores (the smoothing baseline's GLM);
 * the two 20 ms settings about a minute together.
 * @module
 */

import { BUILT_IN_REACH } from "../cli/blend.ts";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend.ts";
import type { NeuralDataset } from "../lib/data/dataset.ts";
import {
  conditionPeakRatesHz,
  fanoFactor,
  logRateDimensionality,
  meanRatesHz,
} from "../lib/data/synthetic/population.ts";
import { reachDataset, type ReachOptions } from "../lib/data/synthetic/reach.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { evaluateNLB, truthRates } from "../lib/metrics/nlb.ts";
import { fitSmoothingBaseline } from "../lib/models/smoothing.ts";

/** The settings measured: MC_Maze's size at 5 and 20 ms bins, and the CLI demo's data. */
const SETTINGS: Record<string, ReachOptions> = {
  mc_maze_5ms: {},
  mc_maze_20ms: { binMs: 20, bins: 35, forwardBins: 10, moveOnsetBin: 12 },
  demo: BUILT_IN_REACH,
};

/**
 * Real MC_Maze at 5 ms (Churchland et al. 2010 for Fano factors; NLB'21, Pei et al. 2021,
 * for the metrics), as text for the table. "~" marks approximate values; the true rates'
 * share is at most smoothing's share of the best models'. docs/synthetic_data.md has the
 * sources.
 */
const MC_MAZE: Record<string, string> = {
  meanRates: "~1-50 Hz, most < 20 Hz",
  peaks: "~20-100 Hz, few > 150 Hz",
  fanoBefore: "~1.5-2",
  fanoAfter: "~1.2-1.4",
  dimensionality: "unknown (no true rates)",
  coBps: "0.21 smoothing; 0.36-0.39 best models",
  share: "<= 0.54-0.58 (0.21 / 0.39-0.36)",
  velR2: "~0.6 smoothing; ~0.9 best models",
  psthR2: "~0.2 smoothing; ~0.6 best models",
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    settings: { type: "string", default: Object.keys(SETTINGS).join(",") },
    seed: { type: "string", default: "0" },
    out: { type: "string", default: "out" },
  },
});
const seed = Number(values.seed);
const chosen = values.settings!.split(",");
for (const name of chosen) {
  if (!(name in SETTINGS)) {
    throw new Error(
      `--settings: unknown setting "${name}"; expected some of ${Object.keys(SETTINGS).join(", ")}`,
    );
  }
}

const backend = await initBackend();
console.log(`backend ${backend.backend}; seed ${seed}`);

function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const low = Math.floor(position), high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** Bins `[start, end)` of the 100 ms window starting `fromMs` after movement onset. */
function window(d: NeuralDataset, moveOnsetBin: number, fromMs: number): [number, number] {
  const start = moveOnsetBin + Math.round(fromMs / d.binMs);
  return [start, start + Math.round(100 / d.binMs)];
}

const results: Record<string, unknown>[] = [];
for (const name of chosen) {
  const options = { ...SETTINGS[name], seed };
  const started = performance.now();
  const d = reachDataset(options);
  const generationMs = performance.now() - started;
  const moveOnsetBin = options.moveOnsetBin ?? 50;

  const means = meanRatesHz(d);
  const peaks = conditionPeakRatesHz(d);
  const before = fanoFactor(d, ...window(d, moveOnsetBin, -200));
  const after = fanoFactor(d, ...window(d, moveOnsetBin, 50));
  const [pcs90, pcs95] = logRateDimensionality(d, [0.9, 0.95]);

  const fitStarted = performance.now();
  const baseline = fitSmoothingBaseline(d);
  const smoothing = evaluateNLB(d, {
    train: baseline.predict(d, "train"),
    eval: baseline.predict(d, "test"),
  });
  const truth = evaluateNLB(d, { train: truthRates(d, "train"), eval: truthRates(d, "test") });
  const smoothingSeconds = (performance.now() - fitStarted) / 1000;
  const share = smoothing.coBps! / truth.coBps!;

  const result = {
    setting: name,
    options,
    generationMs,
    meanRateHz: {
      q10: quantile(means, 0.1),
      median: quantile(means, 0.5),
      q90: quantile(means, 0.9),
      max: quantile(means, 1),
      fractionBelow20Hz: means.filter((m) => m < 20).length / means.length,
    },
    peakRateHz: {
      median: quantile(peaks, 0.5),
      q90: quantile(peaks, 0.9),
      max: quantile(peaks, 1),
    },
    fano: { before, after, windowsMs: [[-200, -100], [50, 150]] },
    logRatePcs: { "90%": pcs90, "95%": pcs95 },
    smoothing: {
      coBps: smoothing.coBps,
      velR2: smoothing.velR2,
      psthR2: smoothing.psthR2,
      fpBps: smoothing.fpBps,
    },
    trueRates: { coBps: truth.coBps, velR2: truth.velR2, psthR2: truth.psthR2, fpBps: truth.fpBps },
    smoothingShareOfTrueCoBps: share,
    smoothingSeconds,
  };
  results.push(result);

  const f = (v: number | null, digits = 2) => (v === null ? "-" : v.toFixed(digits));
  const m = result.meanRateHz, p = result.peakRateHz;
  const rows: [string, string, string][] = [
    [
      "mean rate, Hz (10/50/90%, max)",
      `${f(m.q10, 1)} / ${f(m.median, 1)} / ${f(m.q90, 1)}, ${f(m.max, 1)}; ` +
      `${(100 * m.fractionBelow20Hz).toFixed(0)}% < 20 Hz`,
      MC_MAZE.meanRates,
    ],
    [
      "condition-averaged peak, Hz (50/90%, max)",
      `${f(p.median, 0)} / ${f(p.q90, 0)}, ${f(p.max, 0)}`,
      MC_MAZE.peaks,
    ],
    [
      "Fano factor, -200..-100 ms (pooled; median)",
      `${f(before.pooled)}; ${f(before.median)}`,
      MC_MAZE.fanoBefore,
    ],
    [
      "Fano factor, +50..+150 ms (pooled; median)",
      `${f(after.pooled)}; ${f(after.median)}`,
      MC_MAZE.fanoAfter,
    ],
    ["PCs of true log-rates for 90% / 95%", `${pcs90} / ${pcs95}`, MC_MAZE.dimensionality],
    [
      "co-bps: smoothing / true rates",
      `${f(smoothing.coBps, 3)} / ${f(truth.coBps, 3)}`,
      MC_MAZE.coBps,
    ],
    ["smoothing's share of true co-bps", f(share, 3), MC_MAZE.share],
    [
      "vel R2: smoothing / true rates",
      `${f(smoothing.velR2, 3)} / ${f(truth.velR2, 3)}`,
      MC_MAZE.velR2,
    ],
    [
      "psth R2: smoothing / true rates",
      `${f(smoothing.psthR2, 3)} / ${f(truth.psthR2, 3)}`,
      MC_MAZE.psthR2,
    ],
  ];
  console.log(
    `\n${name}: ${JSON.stringify(SETTINGS[name])}, seed ${seed}; generated in ` +
      `${(generationMs / 1000).toFixed(1)} s, smoothing fit and scored in ${
        smoothingSeconds.toFixed(0)
      } s`,
  );
  const widths = [0, 1, 2].map((k) =>
    Math.max(...rows.map((r) => r[k].length), ["statistic", "synthetic", "MC_Maze"][k].length)
  );
  const line = (r: string[]) => `| ${r.map((c, k) => c.padEnd(widths[k])).join(" | ")} |`;
  console.log(line(["statistic", "synthetic", "MC_Maze"]));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

await writeJsonAtomic(`${values.out}/synthetic_stats.json`, {
  machine: { os: Deno.build.os, arch: Deno.build.arch, deno: Deno.version.deno },
  backend: backend.backend,
  results,
});
console.log(`\nwrote ${values.out}/synthetic_stats.json`);
