/**
 * Benchmark: `loadNWB` on an NLB-sized file. The first run writes the fixture (the
 * synthetic reach task at MC_Maze's size, 2295 trials and 182 units, spread over two hours
 * of recording with spikes between trials too, and 1 kHz hand velocity over the whole
 * recording) into `out/`; every run then times `loadNWB(..., { preset: "mc_maze" })` in a
 * worker while the main thread samples the process's resident memory every 5 ms, and
 * records seconds and peak memory in `out/bench_nwb.json`. Targets: under 10 s and
 * under 1 GiB.
 *
 *     deno run --allow-read --allow-write=out --allow-env bench/nwb.ts
 *
 * (The peak is the process's: it includes what the main thread still holds, which is
 * little unless this run also wrote the fixture; `rssBeforeLoadMiB` says how much.)
 * @module
 */

import { writeJsonAtomic } from "../lib/io.ts";
import { loadNWB } from "../lib/data/nwb.ts";
import { writeNWB } from "../lib/data/nwb_writer.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";

const FIXTURE = "out/bench_nwb_fixture.nwb";
const REPORT = "out/bench_nwb.json";
const RECORDING_SECONDS = 7200;
const TARGET_SECONDS = 10;
const TARGET_MIB = 1024;

const MiB = 2 ** 20;
const WORKER_NAME = "bench-nwb-load";

/** What the loading worker reports back. */
interface LoadResult {
  seconds: number;
  trials: number;
  units: number;
  recordingSeconds: number;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The worker: load the fixture once and report the time and the dataset's size. */
async function loadInWorker(): Promise<void> {
  const start = performance.now();
  const dataset = await loadNWB(FIXTURE, { preset: "mc_maze" });
  const result: LoadResult = {
    seconds: (performance.now() - start) / 1000,
    trials: dataset.split.length,
    units: dataset.heldinNames.length + dataset.heldoutNames.length,
    recordingSeconds: dataset.nwb.recordingSeconds,
  };
  (self as unknown as { postMessage(message: LoadResult): void }).postMessage(result);
}

/** Run the load in a worker while sampling the process's resident memory. */
function measureLoad(): Promise<LoadResult & { rssBeforeMiB: number; peakMiB: number }> {
  const rssBeforeMiB = Deno.memoryUsage().rss / MiB;
  let peak = rssBeforeMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss / MiB)), 5);
  const worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<LoadResult>) => {
      clearInterval(sampler);
      peak = Math.max(peak, Deno.memoryUsage().rss / MiB);
      worker.terminate();
      resolve({ ...event.data, rssBeforeMiB, peakMiB: peak });
    };
    worker.onerror = (event) => {
      clearInterval(sampler);
      worker.terminate();
      reject(new Error(`the loading worker failed: ${event.message}`));
    };
  });
}

async function main(): Promise<void> {
  let wroteFixture = false;
  if (!(await exists(FIXTURE))) {
    console.log(`writing ${FIXTURE} (once) ...`);
    const start = performance.now();
    const dataset = reachDataset({ seed: 0 });
    await writeNWB(dataset, FIXTURE, {
      recordingSeconds: RECORDING_SECONDS,
      backgroundSpikes: true,
      behaviorTiming: "timestamps",
      behaviorSpan: "recording",
      behaviorRateHz: 1000,
    });
    wroteFixture = true;
    console.log(`  written in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }

  const { seconds, trials, units, recordingSeconds, rssBeforeMiB, peakMiB } = await measureLoad();
  const fileMiB = (await Deno.stat(FIXTURE)).size / 2 ** 20;

  const report = {
    benchmark: "loadNWB on an NLB-sized NWB file (preset mc_maze, 5 ms bins)",
    fixture: FIXTURE,
    fileMiB: Number(fileMiB.toFixed(1)),
    recordingSeconds,
    trials,
    units,
    seconds: Number(seconds.toFixed(2)),
    peakRssMiB: Math.round(peakMiB),
    rssBeforeLoadMiB: Math.round(rssBeforeMiB),
    fixtureWrittenThisRun: wroteFixture,
    targets: { seconds: TARGET_SECONDS, peakRssMiB: TARGET_MIB },
    meetsTargets: seconds < TARGET_SECONDS && peakMiB < TARGET_MIB,
    deno: Deno.version.deno,
    date: new Date().toISOString(),
  };
  await writeJsonAtomic(REPORT, report);
  console.log(
    `loadNWB: ${report.seconds} s, peak RSS ${report.peakRssMiB} MiB ` +
      `(${report.trials} trials, ${report.units} units, ${report.fileMiB} MiB file) -> ${REPORT}`,
  );
}

if ((globalThis as { name?: string }).name === WORKER_NAME) await loadInWorker();
else await main();
