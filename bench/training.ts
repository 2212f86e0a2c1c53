/**
 * Training-speed benchmark: NDT with BLEND's configuration and LFADS at MC_Maze size
 * (batch 64, 140 + 40 bins, 137 held-in and 45 held-out neurons), trained through `fit`
 * for a fixed number of steps on every backend that starts, against the same NDT step in
 * PyTorch (bench/reference/ndt_torch.py) on the same CPU and thread count when Debian's
 * `python3-torch` is installed. On wasm it measures each product kernel asked for
 * (`--wasm-kernels blas,fast`: the system BLAS through FFI, blend's XNNPACK kernels), and
 * NDT there in `--rounds` rounds alternating with PyTorch, reporting the median ratio and
 * its range. Prints a table and writes `out/bench.json`.
 *
 *   deno run --allow-read --allow-write=out --allow-env --allow-run=/usr/bin/python3 \
 *     --allow-ffi bench/training.ts
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
    // Which wasm product kernels to measure (BLEND_WASM_MATMUL): the system BLAS through
    // FFI, blend's XNNPACK kernels, or tfjs's own ("naive").
    "wasm-kernels": { type: "string", default: "blas,fast" },
    steps: { type: "string", default: "10" },
    "slow-steps": { type: "string", default: "2" },
    // NDT on wasm and the PyTorch reference are measured in alternating rounds, so a busy
    // moment of a shared machine shows as a spread of ratios instead of one wrong one.
    rounds: { type: "string", default: "3" },
    out: { type: "string", default: "out" },
    python: { type: "string", default: "/usr/bin/python3" },
    "reference-device": { type: "string", default: "cpu" },
    // NDT's attentionKernel (auto, dense or banded), to compare the two attention paths.
    "attention-kernel": { type: "string", default: "auto" },
  },
});
const BATCH = 64;
type WasmKernels = "blas" | "fast" | "naive";

/** One measurement, as the README's performance table reports it. */
interface BenchRecord {
  name: string;
  backend: string;
  /** wasm only: who multiplied matrices (see BackendInfo.wasm.matMul). */
  matMul: WasmKernels | null;
  device: string;
  /** Median ms per step (the median over rounds of each round's median). */
  msPerStep: number;
  /** The PyTorch step, median over rounds; null when not run (or not NDT). */
  referenceMsPerStep: number | null;
  /** Median over rounds of (this round's ms per step / this round's PyTorch ms per step). */
  ratio: number | null;
  /** Lowest and highest ratio over the rounds. */
  ratioRange: [number, number] | null;
  /** Each round's median ms per step, and PyTorch's, in order. */
  rounds: { msPerStep: number; referenceMsPerStep: number | null }[];
  steps: number;
  peakRssMB: number;
  /** Resident memory after the last step minus after the warm-up step. */
  rssGrowthMB: number;
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

// MC_Maze-sized data; each run trains on warmup + steps batches of 64 trials, cycling
// through the training trials in more epochs when a run needs more batches than they hold.
const full = reachDataset({ seed: 0 });
const train = trialsInSplit(full, "train");

async function measure(kind: ModelKind, steps: number, warmup: number) {
  const batches = Math.floor(train.length / BATCH);
  const wanted = steps + warmup;
  const trials = train.slice(0, BATCH * Math.min(wanted, batches));
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
  let firstRss = 0, lastRss = 0;
  await fit(model, data, {
    epochs: Math.ceil(wanted / batches),
    batchSize: BATCH,
    valSplit: null,
    progress: "none",
    onProgress: (event) => {
      if (event.kind !== "step" || stamps.length >= wanted) return;
      stamps.push(performance.now());
      const rss = Deno.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss);
      const memory = tf.memory();
      peakTensorBytes = Math.max(peakTensorBytes, memory.numBytes);
      if (stamps.length === warmup) [firstTensors, firstRss] = [memory.numTensors, rss];
      [lastTensors, lastRss] = [memory.numTensors, rss];
    },
  });
  model.dispose();
  const times = stamps.slice(warmup).map((t, i) => t - stamps[warmup - 1 + i]).sort((a, b) =>
    a - b
  );
  return {
    msPerStep: median(times),
    steps: times.length,
    peakRssMB: peakRss / 2 ** 20,
    rssGrowthMB: (lastRss - firstRss) / 2 ** 20,
    peakTensorMB: peakTensorBytes / 2 ** 20,
    numTensorsGrowth: lastTensors - firstTensors,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Start `backend` (for wasm, with the given product kernels); null when it cannot start. */
async function start(backend: BackendName, kernels: WasmKernels | null) {
  if (kernels) Deno.env.set("BLEND_WASM_MATMUL", kernels);
  try {
    return await initBackend(backend);
  } catch (error) {
    console.log(`${backend}${kernels ? ` (${kernels})` : ""}: ${(error as Error).message}`);
    return null;
  }
}

function describeDevice(info: Awaited<ReturnType<typeof initBackend>>): string {
  if (info.backend === "webgpu") {
    return `${info.adapter?.description || info.adapter?.vendor}${
      info.adapter?.isFallback ? " (software)" : ""
    }`;
  }
  if (info.backend === "cpu") return "CPU, plain JavaScript";
  const blas = info.wasm?.blas;
  return `CPU, ${info.wasm?.threads} thread(s), SIMD ${info.wasm?.simd ? "on" : "off"}, ` +
    (blas ? `products by ${blas.library} (${blas.threads} thread)` : `matMul ${info.wasm?.matMul}`);
}

const steps = Number(values.steps), slowSteps = Number(values["slow-steps"]);
const rounds = Math.max(1, Number(values.rounds));
const adapter = await probeAdapter();
const kinds = values.models!.split(",") as ModelKind[];
// Every configuration to measure: a backend, and for wasm the product kernels.
const configurations: { backend: BackendName; kernels: WasmKernels | null }[] = [];
for (const backend of values.backends!.split(",") as BackendName[]) {
  if (backend === "webgpu" && !adapter) {
    console.log("webgpu: no adapter, skipped");
    continue;
  }
  if (backend !== "wasm") configurations.push({ backend, kernels: null });
  else {
    for (const kernels of values["wasm-kernels"]!.split(",") as WasmKernels[]) {
      configurations.push({ backend, kernels });
    }
  }
}

const records: BenchRecord[] = [];
let pytorch: { version: string; device: string } | null = null;
const referenceTimes: (number | null)[] = [];
// Rounds: PyTorch, then NDT on each wasm configuration, alternating.
const ndtRounds = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
const repeated = kinds.includes("ndt") ? configurations.filter((c) => c.backend === "wasm") : [];
for (let round = 0; round < (repeated.length > 0 ? rounds : 0); round++) {
  const reference = await torchReference(steps);
  referenceTimes.push(reference?.msPerStep ?? null);
  if (reference) pytorch = { version: reference.torch, device: reference.device };
  for (const c of repeated) {
    if (!(await start(c.backend, c.kernels))) continue;
    const key = c.kernels!;
    ndtRounds.set(key, [...(ndtRounds.get(key) ?? []), await measure("ndt", steps, 1)]);
    const last = ndtRounds.get(key)!.at(-1)!;
    console.log(
      `round ${round + 1}/${rounds}: PyTorch ${reference?.msPerStep.toFixed(0) ?? "-"} ms, ` +
        `NDT wasm (${key}) ${last.msPerStep.toFixed(0)} ms`,
    );
  }
}
if (repeated.length === 0 && kinds.includes("ndt")) {
  const reference = await torchReference(steps);
  referenceTimes.push(reference?.msPerStep ?? null);
  if (reference) pytorch = { version: reference.torch, device: reference.device };
}

for (const c of configurations) {
  const info = await start(c.backend, c.kernels);
  if (!info) continue;
  const device = describeDevice(info);
  // The plain-JavaScript and software-GPU backends are an order of magnitude slower: fewer steps.
  const slow = c.backend === "cpu" || (c.backend === "webgpu" && info.adapter?.isFallback);
  for (const kind of kinds) {
    const perRound = kind === "ndt" && c.backend === "wasm"
      ? ndtRounds.get(c.kernels!) ?? []
      : [await measure(kind, slow ? slowSteps : steps, 1)];
    if (perRound.length === 0) continue;
    const references = kind === "ndt"
      ? perRound.map((_, i) => referenceTimes[c.backend === "wasm" ? i : 0] ?? null)
      : perRound.map(() => null);
    const ratios = perRound.flatMap((m, i) => references[i] ? [m.msPerStep / references[i]!] : []);
    const known = references.filter((r): r is number => r !== null);
    const record: BenchRecord = {
      name: kind === "ndt" ? "ndt-blend-mc_maze" : `${kind}-mc_maze`,
      backend: c.backend,
      matMul: c.backend === "wasm" ? info.wasm?.matMul ?? null : null,
      device,
      msPerStep: median(perRound.map((m) => m.msPerStep)),
      referenceMsPerStep: known.length ? median(known) : null,
      ratio: ratios.length ? median(ratios) : null,
      ratioRange: ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : null,
      rounds: perRound.map((m, i) => ({
        msPerStep: m.msPerStep,
        referenceMsPerStep: references[i],
      })),
      steps: perRound.reduce((n, m) => n + m.steps, 0),
      peakRssMB: Math.max(...perRound.map((m) => m.peakRssMB)),
      rssGrowthMB: Math.max(...perRound.map((m) => m.rssGrowthMB)),
      peakTensorMB: Math.max(...perRound.map((m) => m.peakTensorMB)),
      numTensorsGrowth: Math.max(...perRound.map((m) => m.numTensorsGrowth)),
    };
    records.push(record);
    const label = `${c.backend}${record.matMul ? ` (${record.matMul})` : ""}`;
    console.log(
      `${record.name.padEnd(18)} ${label.padEnd(14)} ${
        record.msPerStep.toFixed(0).padStart(6)
      } ms/step` +
        (record.ratio
          ? `  ${record.ratio.toFixed(2)}x PyTorch (${record.referenceMsPerStep!.toFixed(0)} ms)` +
            (ratios.length > 1
              ? `, rounds ${record.ratioRange!.map((r) => r.toFixed(2)).join("-")}x`
              : "")
          : "") +
        `  peak RSS ${record.peakRssMB.toFixed(0)} MB (growth ${
          record.rssGrowthMB.toFixed(0)
        }), tensors ${
          record.peakTensorMB.toFixed(0)
        } MB, numTensors growth ${record.numTensorsGrowth}`,
    );
  }
}
await writeJsonAtomic(`${values.out}/bench.json`, {
  machine: { cores: navigator.hardwareConcurrency, os: Deno.build.os, arch: Deno.build.arch },
  pytorch: pytorch ? { ...pytorch, threads: 1 } : null,
  steps,
  rounds,
  records,
});
console.log(`wrote ${values.out}/bench.json`);
