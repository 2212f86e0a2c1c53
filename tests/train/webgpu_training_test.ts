import assert from "node:assert/strict";
import { type BackendName, initBackend, probeAdapter } from "../../lib/backend.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { createModel, type ModelConfigInput } from "../../lib/models/model.ts";
import { dataShape } from "../../lib/train/batch.ts";
import { modelWeights } from "../../lib/train/checkpoint.ts";
import { predict } from "../../lib/train/predict.ts";
import { fit } from "../../lib/train/trainer.ts";

// Training on WebGPU (here Mesa's software adapter, in CI too) must reach the weights that
// wasm reaches: the same initial weights, batches, masks and dropout patterns (all drawn by
// blend's PRNG), so the only differences are float32 rounding in the kernels.
const adapter = await probeAdapter();
const webgpuUsable = adapter !== null || Boolean(Deno.env.get("CI"));

const DATA = reachDataset({
  trials: 40,
  heldinNeurons: 10,
  heldoutNeurons: 4,
  bins: 12,
  forwardBins: 3,
  binMs: 20,
  moveOnsetBin: 4,
  seed: 7,
});

async function train(backend: BackendName, config: ModelConfigInput) {
  await initBackend(backend);
  const model = createModel(config);
  const result = await fit(model, DATA, { epochs: 2, batchSize: 8, progress: "none", seed: 1 });
  const weights = await modelWeights(model);
  const rates = await predict(model, DATA, "test");
  model.dispose();
  return { result, weights, rates };
}

function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, worst = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / Math.max(scale, 1e-12);
}

// "ndt-banded": NDT with its banded attention kernel (pads, block slices and a concat).
for (const variant of ["ndt", "ndt-banded", "lfads"] as const) {
  Deno.test({
    name: `${variant} trains on webgpu to the weights and rates wasm reaches`,
    ignore: !webgpuUsable,
    async fn() {
      const kind = variant === "lfads" ? "lfads" : "ndt";
      const config = kind === "ndt"
        ? {
          kind,
          ...dataShape(DATA),
          dModel: 16,
          layers: 2,
          feedForward: 32,
          attentionKernel: variant === "ndt-banded" ? "banded" : "dense",
        } as const
        : {
          kind,
          ...dataShape(DATA),
          icEncoderDim: 8,
          icDim: 8,
          generatorDim: 8,
          ciEncoderDim: 8,
          controllerDim: 8,
          factorDim: 6,
        } as const;
      const wasm = await train("wasm", config);
      try {
        const gpu = await train("webgpu", config);
        assert.equal(gpu.result.steps, wasm.result.steps);
        for (const [name, w] of wasm.weights) {
          const difference = maxRelativeDifference(
            w.data as Float32Array,
            gpu.weights.get(name)!.data as Float32Array,
          );
          assert.ok(difference < 1e-3, `${name}: relative difference ${difference}`);
        }
        const rates = maxRelativeDifference(wasm.rates.heldout.data, gpu.rates.heldout.data);
        assert.ok(rates < 1e-3, `held-out rates differ by ${rates}`);
      } finally {
        await initBackend("wasm");
      }
    },
  });
}
