/**
 * Benchmark: vel R2 with grid search at MC_Maze size (1721 train and 574 eval trials x 140
 * bins, 182 neurons, 2 behavior dimensions), against scikit-learn's GridSearchCV over
 * Ridge (the NLB reference) in the same run when a Python with scikit-learn is present.
 * Target: under 3 s, with the same result. Writes out/bench_velr2.json.
 * @module
 */

import { concat3 } from "../lib/array.ts";
import { splitDataset } from "../lib/data/dataset.ts";
import { reachDataset } from "../lib/data/synthetic/reach.ts";
import { writeJsonAtomic } from "../lib/io.ts";
import { DEFAULT_ALPHAS, velR2 } from "../lib/metrics/nlb.ts";

const REPEATS = 3;
const data = reachDataset(); // 2295 trials: train + val = 1721, test = 574
const train = splitDataset(data, ["train", "val"]), test = splitDataset(data, "test");
const rates = (d: typeof data) => concat3([d.truth!.heldinRates, d.truth!.heldoutRates], 2);
const inputs = {
  trainRates: rates(train),
  trainBehavior: train.behavior,
  evalRates: rates(test),
  evalBehavior: test.behavior,
};
console.log(
  `vel R2 at MC_Maze size: ${train.behavior.shape[0]} train and ${test.behavior.shape[0]} eval ` +
    `trials x ${data.behavior.shape[1]} bins, ${inputs.trainRates.shape[2]} neurons, ` +
    `${data.behavior.shape[2]} behavior dims, alphas logspace(-4, 0, 9), 5 folds`,
);

const times: number[] = [];
let result = velR2(inputs);
for (let r = 0; r < REPEATS; r++) {
  const start = performance.now();
  result = velR2(inputs);
  times.push(performance.now() - start);
}
const seconds = [...times].sort((a, b) => a - b)[REPEATS >> 1] / 1000;
console.log(
  `blend velR2:   ${seconds.toFixed(2)} s (median of ${REPEATS})  R2 ${
    result.r2.toFixed(8)
  }  alpha ${result.alpha}`,
);

/** Run the scikit-learn reference if a Python with scikit-learn exists; null otherwise. */
async function reference() {
  const python = await findPython();
  if (!python) return null;
  const dir = await Deno.makeTempDir({ dir: "out", prefix: "velr2-inputs-" });
  try {
    const files: Record<string, string> = {};
    for (const [name, array] of Object.entries(inputs)) {
      files[name] = `${dir}/${name}.f32`;
      await Deno.writeFile(files[name], new Uint8Array(Float32Array.from(array.data).buffer));
    }
    const spec = {
      ...files,
      neurons: inputs.trainRates.shape[2],
      dims: inputs.trainBehavior.shape[2],
      alphas: DEFAULT_ALPHAS,
      folds: 5,
    };
    const script = new URL("./reference/velr2_sklearn.py", import.meta.url).pathname;
    const out = await new Deno.Command(python, { args: [script, JSON.stringify(spec)] }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return { python, ...JSON.parse(new TextDecoder().decode(out.stdout)) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function findPython(): Promise<string | null> {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    try {
      const probe = await new Deno.Command(candidate, { args: ["-c", "import sklearn"] }).output();
      if (probe.success) return candidate;
    } catch {
      // not installed
    }
  }
  return null;
}

// The same rates as float32 (what the reference reads), so both sides see identical inputs.
for (const array of Object.values(inputs)) array.data = Float32Array.from(array.data);
const same = velR2(inputs);
const ref = await reference();
let comparison = null;
if (ref) {
  const relative = Math.abs(same.r2 - ref.r2) / Math.abs(ref.r2);
  comparison = { ...ref, relativeDifference: relative, speedup: ref.seconds / seconds };
  console.log(
    `scikit-learn:  ${ref.seconds.toFixed(2)} s  R2 ${ref.r2.toFixed(8)}  alpha ${ref.alpha}`,
  );
  console.log(
    `same alpha: ${ref.alpha === same.alpha}; R2 relative difference ${
      relative.toExponential(2)
    }; ` +
      `blend is ${(ref.seconds / seconds).toFixed(1)}x faster`,
  );
} else {
  console.log(
    "scikit-learn reference skipped: no python3 with scikit-learn (apt-get install python3-sklearn)",
  );
}
await writeJsonAtomic("out/bench_velr2.json", {
  machine: {
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    cores: navigator.hardwareConcurrency,
  },
  blend: { seconds, r2: same.r2, alpha: same.alpha, meanScores: same.cvScores },
  reference: comparison,
});
console.log("wrote out/bench_velr2.json");
