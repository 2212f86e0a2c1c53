/**
 * A BLEND experiment on every core: its (data seed, model seed) pairs are shared out among
 * Deno Workers, one tfjs (single-threaded wasm) per worker, and the runs are merged back in
 * the order a sequential run gives. Every run is seeded by its own pair, so the record
 * equals `runBlendExperiment`'s on the same backend and kernels (tested).
 *
 * Workers cannot receive functions, so the data are described by plain JSON
 * (`DataSpec`): the built-in reach generator with its options (the data seed becomes its
 * seed), or a file (an NWB file with a preset, or a saved dataset).
 * @module
 */

import type { NeuralDataset } from "../data/dataset.ts";
import { reachDataset, type ReachOptions } from "../data/synthetic/reach.ts";
import { ArgumentError, describe } from "../errors.ts";
import { writeResults } from "./experiment.ts";
import {
  assembleResults,
  type BlendExperimentOptions,
  type BlendResults,
  type DataReferences,
  type RunRecord,
  withDisplay,
} from "./experiment.ts";

/** The data of an experiment, as plain JSON. */
export type DataSpec =
  | { kind: "reach"; options: Omit<ReachOptions, "seed"> }
  | { kind: "file"; path: string; preset?: string; binMs?: number };

/** An experiment as plain JSON: everything `runBlendExperiment` takes except callbacks and data. */
export type BlendExperimentSpec =
  & Omit<BlendExperimentOptions, "dataset" | "onRun" | "onReferences" | "outDir">
  & { data: DataSpec };

/** The dataset a spec names, for one data seed (files ignore the seed). */
export async function datasetFromSpec(spec: DataSpec, dataSeed: number): Promise<NeuralDataset> {
  if (spec.kind === "reach") return reachDataset({ ...spec.options, seed: dataSeed });
  if (spec.kind === "file") {
    if (spec.path.toLowerCase().endsWith(".nwb")) {
      const { loadNWB } = await import("../data/nwb.ts");
      return await loadNWB(spec.path, { preset: spec.preset, binMs: spec.binMs });
    }
    const { loadDataset } = await import("../data/store.ts");
    return await loadDataset(spec.path);
  }
  throw new ArgumentError(
    `data.kind must be "reach" or "file", got ${describe((spec as DataSpec).kind)}`,
  );
}

/** Options of `runBlendExperimentInWorkers` that are not part of the spec. */
export interface ParallelOptions {
  /** Workers (at most one per pair). Default: the machine's core count. */
  workers?: number;
  /** Write `results.json` and `results.csv` here after every run. */
  outDir?: string;
  /** Called after every run, as runs arrive (not in final order). */
  onRun?: (run: RunRecord) => void;
  /** Called once per data seed with its references. */
  onReferences?: (references: DataReferences) => void;
}

/** A message from a worker. */
type WorkerMessage =
  | { type: "run"; pair: number; run: RunRecord }
  | { type: "references"; references: DataReferences }
  | { type: "done"; pair: number; results: BlendResults }
  | { type: "error"; message: string };

function seedList(value: number | number[] | undefined, fallback: number): number[] {
  return typeof value === "number" || value === undefined
    ? Array.from({ length: value ?? fallback }, (_, i) => i)
    : value;
}

/**
 * Run a BLEND experiment with its (data seed, model seed) pairs shared among workers.
 * The spec is the same as `runBlendExperiment`'s options with `data` in place of
 * `dataset`; `workers: 1` runs in one worker.
 *
 * @example
 * ```ts
 * // const results = await runBlendExperimentInWorkers({
 * //   data: { kind: "reach", options: { trials: 600, binMs: 20, bins: 35, forwardBins: 5, moveOnsetBin: 12 } },
 * //   models: ["ndt"], strategies: ["hard"], seeds: 2,
 * // }, { workers: 2 });
 * ```
 */
export async function runBlendExperimentInWorkers(
  spec: BlendExperimentSpec,
  options: ParallelOptions = {},
): Promise<BlendResults> {
  const start = performance.now();
  const dataSeeds = seedList(spec.dataSeeds, 1);
  const seeds = seedList(spec.seeds, 3);
  const pairs = dataSeeds.flatMap((dataSeed) => seeds.map((seed) => ({ dataSeed, seed })));
  if (
    options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1)
  ) {
    throw new ArgumentError(
      `workers must be a positive integer, got ${describe(options.workers)}`,
    );
  }
  const cores = navigator.hardwareConcurrency ?? 1;
  const count = Math.min(pairs.length, options.workers ?? cores);
  const runsByPair: RunRecord[][] = pairs.map(() => []);
  const partial: (BlendResults | null)[] = pairs.map(() => null);
  const references = new Map<number, DataReferences>();
  let next = 0;
  const blasLock = new SharedArrayBuffer(4);

  const snapshot = (): BlendResults | null => {
    const first = partial.find((p) => p !== null);
    if (!first) return null;
    return assembleResults(
      { ...first.settings, dataSeeds, seeds },
      dataSeeds.flatMap((s) => references.get(s) ?? []),
      runsByPair.flat(),
      (performance.now() - start) / 1000,
    );
  };

  const started: Worker[] = [];
  const work = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL("./blend_worker.ts", import.meta.url), { type: "module" });
      started.push(worker);
      const take = () => {
        if (next >= pairs.length) {
          worker.terminate();
          resolve();
          return;
        }
        const pair = next++;
        worker.postMessage({
          spec: { ...spec, dataSeeds: [pairs[pair].dataSeed], seeds: [pairs[pair].seed] },
          pair,
          blasLock,
        });
      };
      worker.onmessage = async (event: MessageEvent<WorkerMessage>) => {
        const message = event.data;
        if (message.type === "error") {
          worker.terminate();
          reject(new Error(`a worker failed: ${message.message}`));
        } else if (message.type === "references") {
          if (!references.has(message.references.dataSeed)) {
            references.set(message.references.dataSeed, message.references);
            options.onReferences?.(message.references);
          }
        } else if (message.type === "run") {
          runsByPair[message.pair].push(message.run);
          options.onRun?.(message.run);
          const now = snapshot();
          if (options.outDir && now) await writeResults(now, options.outDir);
        } else {
          partial[message.pair] = message.results;
          runsByPair[message.pair] = message.results.runs;
          take();
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(`a worker failed: ${event.message}`));
      };
      take();
    });

  try {
    await Promise.all(Array.from({ length: count }, work));
  } catch (error) {
    // One failure ends the experiment: stop the other workers too (what finished is on disk).
    for (const worker of started) worker.terminate();
    throw error;
  }
  // Sequential order: data seed, then model, then model seed (pairs are data seed-major).
  const models = partial[0]!.settings.modelNames;
  const runs = pairs.flatMap((_, p) => runsByPair[p])
    .map((run, index) => ({ run, index }))
    .sort((a, b) =>
      dataSeeds.indexOf(a.run.dataSeed) - dataSeeds.indexOf(b.run.dataSeed) ||
      models.indexOf(a.run.model) - models.indexOf(b.run.model) ||
      seeds.indexOf(a.run.seed) - seeds.indexOf(b.run.seed) ||
      a.index - b.index
    )
    .map(({ run }) => run);
  const recipes = Object.assign({}, ...partial.map((p) => p!.settings.recipes));
  const results = assembleResults(
    { ...partial[0]!.settings, dataSeeds, seeds, recipes, workers: count },
    dataSeeds.map((s) => references.get(s)!),
    runs,
    (performance.now() - start) / 1000,
  );
  if (options.outDir) await writeResults(results, options.outDir);
  return withDisplay(results);
}
