/**
 * Training-speed benchmark: NDT with BLEND's configuration and LFADS at MC_Maze size
 * (batch 64, 140 + 40 bins, 137 held-in and 45 held-out neurons), trained through `fit`
 * for a fixed number of steps on every backend that starts, against the same NDT step in
 * PyTorch (bench/reference/ndt_torch.py) on the same CPU and thread count when Debian's
 * `python3-torch` is installed. Prints a table and writes `out/bench.json`.
 *
 *   deno run --allow-read --allow-write=out --allow-env --allow-run=/usr/bin/python3 bench/training.ts
 *
 * On a GPU machine without Deno or network (the H100 numbers in the README): carry Deno as
 * `xz -c $(which deno) > .devtools/deno.xz`, the bench as
 * `deno bundle --platform deno -o .devtools/bench.js bench/training.ts`, and the Vulkan
 * loader and libglvnd as Debian packages (`apt-get download libvulkan1 libegl1 libglvnd0
 * libopengl0 libgl1 libglx0 libgles2` into `.gl/`); there, `dpkg -x` each into `/`, run
 * `ldconfig`, set `VK_DRIVER_FILES` to the NVIDIA ICD json, and run the bundle with
 * `--backends webgpu --python python3 --reference-device cuda`.
 * @module
 */

import { parseArgs } from "node:util";
import { type BackendName, initBackend, probeAdapter } from "../lib/backend.ts";
import { subsetTrials, trialsInSplit } from "../lib/data/dataset.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { tf } from "../lib/deps.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { createModel, type ModelKind } from "../lib/models/model.ts";
import { dataShape } from "../lib/train/batch.ts";
import { fit } from "../lib/train/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm,webgpu,cpu" },
    models: { type: "string", default: "ndt,lfads" },
    steps: { type: "string", default: "10" },
    "slow-steps": { type: "string", default: "2" },
    out: { type: "string", default: "out" },
    python: { type: "string", default: "/usr/bin/python3" },
    "reference-device": { type: "string", default: "cpu" },
    // NDT's attentionKernel (auto, dense or banded), to compare the two attention paths.
    "attention-kernel": { type: "string", default: "auto" },
  },
});
const BATCH = 64;

/** One measurement, as the README's performance table reports it. */
interface BenchRecord {
  name: string;
  backend: string;
  device: string;
  msPerStep: number;
  referenceMsPerStep: number | null;
  ratio: number | null;
  steps: number;
  peakRssMB: number;
  peakTensorMB: number;
  numTensorsGrowth: number;
}

async function torchReference(
  steps: number,
): Promise<{ msPerStep: number; torch: string; device: string } | null> {
  try {
    const { code, stdout, stderr } = await new Deno.Command(values.python!, {
      args: [
        "bench/reference/ndt_torch.py",
        "--steps",
        String(steps),
        "--threads",
        "1",
        "--device",
        values["reference-device"]!,
      ],
    }).output();
    if (code !== 0) {
      console.log(
        `PyTorch reference failed: ${new TextDecoder().decode(stderr).trim().split("\n").at(-1)}`,
      );
      return null;
    }
    return JSON.parse(new TextDecoder().decode(stdout));
  } catch (error) {
    console.log(
      `PyTorch reference not run (${(error as Error).message}); apt-get install python3-torch`,
    );
    return null;
  }
}

// MC_Maze-sized data; each run trains on exactly warmup + steps batches of 64 trials.
const full = reachDataset({ seed: 0 });
const train = trialsInSplit(full, "train");

async function measure(kind: ModelKind, steps: number, warmup: number) {
  const trials = train.slice(0, BATCH * (steps + warmup));
  const data = subsetTrials(full, trials);
  data.split = data.split.map(() => "train");
  const model = createModel(
    kind === "ndt"
      ? {
        kind,
        ...dataShape(data),
        attentionKernel: values["attention-kernel"] as "auto" | "dense" | "banded",
      }
      : { kind, ...dataShape(data) },
  );
  const stamps: number[] = [];
  let peakRss = 0, peakTensorBytes = 0, firstTensors = 0, lastTensors = 0;
  await fit(model, data, {
    epochs: 1,
    batchSize: BATCH,
    valSplit: null,
    progress: "none",
    onProgress: (event) => {
      if (event.kind !== "step") return;
      stamps.push(performance.now());
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      const memory = tf.memory();
      peakTensorBytes = Math.max(peakTensorBytes, memory.numBytes);
      if (event.stepInEpoch === warmup) firstTensors = memory.numTensors;
      lastTensors = memory.numTensors;
    },
  });
  model.dispose();
  const times = stamps.slice(warmup).map((t, i) => t - stamps[warmup - 1 + i]).sort((a, b) =>
    a - b
  );
  return {
    msPerStep: times[Math.floor(times.length / 2)],
    steps: times.length,
    peakRssMB: peakRss / 2 ** 20,
    peakTensorMB: peakTensorBytes / 2 ** 20,
    numTensorsGrowth: lastTensors - firstTensors,
  };
}

const steps = Number(values.steps), slowSteps = Number(values["slow-steps"]);
const reference = await torchReference(steps);
const adapter = await probeAdapter();
const records: BenchRecord[] = [];
for (const backend of values.backends!.split(",") as BackendName[]) {
  if (backend === "webgpu" && !adapter) {
    console.log("webgpu: no adapter, skipped");
    continue;
  }
  const info = await initBackend(backend);
  const device = backend === "webgpu"
    ? `${info.adapter?.description || info.adapter?.vendor}${
      info.adapter?.isFallback ? " (software)" : ""
    }`
    : backend === "wasm"
    ? `CPU, ${info.wasm?.threads} thread(s), SIMD ${
      info.wasm?.simd ? "on" : "off"
    }, matMul ${info.wasm?.matMul}`
    : "CPU, plain JavaScript";
  // The plain-JavaScript and software-GPU backends are an order of magnitude slower: fewer steps.
  const slow = backend === "cpu" || (backend === "webgpu" && info.adapter?.isFallback);
  for (const kind of values.models!.split(",") as ModelKind[]) {
    const n = slow ? slowSteps : steps;
    const m = await measure(kind, n, 1);
    const referenceMs = kind === "ndt" && reference ? reference.msPerStep : null;
    records.push({
      name: kind === "ndt" ? "ndt-blend-mc_maze" : `${kind}-mc_maze`,
      backend,
      device,
      ...m,
      referenceMsPerStep: referenceMs,
      ratio: referenceMs ? m.msPerStep / referenceMs : null,
    });
    const r = records.at(-1)!;
    console.log(
      `${r.name.padEnd(18)} ${backend.padEnd(7)} ${r.msPerStep.toFixed(0).padStart(7)} ms/step` +
        (r.ratio
          ? `  ${r.ratio.toFixed(2)}x PyTorch (${r.referenceMsPerStep!.toFixed(0)} ms)`
          : "") +
        `  peak RSS ${r.peakRssMB.toFixed(0)} MB, tensors ${
          r.peakTensorMB.toFixed(0)
        } MB, numTensors growth ${r.numTensorsGrowth}`,
    );
  }
}
await writeJsonAtomic(`${values.out}/bench.json`, {
  machine: { cores: navigator.hardwareConcurrency, os: Deno.build.os, arch: Deno.build.arch },
  pytorch: reference
    ? { msPerStep: reference.msPerStep, version: reference.torch, threads: 1 }
    : null,
  records,
});
console.log(`wrote ${values.out}/bench.json`);
