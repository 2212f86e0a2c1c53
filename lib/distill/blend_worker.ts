/**
 * The worker of `runBlendExperimentInWorkers`: it starts its own backend, then runs each
 * (data seed, model seed) pair it is sent with `runBlendExperiment` and posts every run,
 * the references and the pair's results back.
 * @module
 */

import { initBackend } from "../backend.ts";
import { runBlendExperiment } from "./experiment.ts";
import { type BlendExperimentSpec, datasetFromSpec } from "./parallel.ts";

let ready: ReturnType<typeof initBackend> | null = null;

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = async (
  event: MessageEvent<{ spec: BlendExperimentSpec; pair: number; blasLock: SharedArrayBuffer }>,
) => {
  const { spec, pair, blasLock } = event.data;
  try {
    // The workers' OpenBLAS calls take turns (its single-threaded build is not thread-safe).
    ready ??= initBackend(undefined, { blasLock });
    await ready;
    const dataSeed = (spec.dataSeeds as number[])[0];
    const dataset = await datasetFromSpec(spec.data, dataSeed);
    const { data: _data, ...rest } = spec;
    const results = await runBlendExperiment({
      ...rest,
      dataset: () => dataset,
      onRun: (run) => scope.postMessage({ type: "run", pair, run }),
      onReferences: (references) => scope.postMessage({ type: "references", references }),
    });
    scope.postMessage({ type: "done", pair, results });
  } catch (error) {
    scope.postMessage({
      type: "error",
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
};
