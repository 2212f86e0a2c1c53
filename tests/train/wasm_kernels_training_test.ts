import assert from "node:assert/strict";
import { backendInfo, initBackend } from "../../lib/backend.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { createModel, type ModelConfigInput } from "../../lib/models/model.ts";
import { dataShape } from "../../lib/train/batch.ts";
import { modelWeights } from "../../lib/train/checkpoint.ts";
import { predict } from "../../lib/train/predict.ts";
import { fit } from "../../lib/train/trainer.ts";

// blend's wasm kernels (XNNPACK products, in-place slices and sums, heap-filled dropout
// masks) and the optional BLAS products must train to the weights tfjs's own kernels
// reach: the same initial weights, batches, masks and dropout, so the only differences
// are float32 summation order. The bar: within 1e-4 relative.
const DATA = reachDataset({
  trials: 40,
  heldinNeurons: 10,
  heldoutNeurons: 4,
  bins: 40,
  forwardBins: 8,
  binMs: 20,
  moveOnsetBin: 10,
  seed: 3,
});

async function trainWith(matMul: "naive" | "fast" | "blas", config: ModelConfigInput) {
  const previous = Deno.env.get("BLEND_WASM_MATMUL");
  Deno.env.set("BLEND_WASM_MATMUL", matMul);
  try {
    await initBackend("wasm");
    assert.equal(backendInfo().wasm?.matMul, matMul);
    const model = createModel(config);
    await fit(model, DATA, { epochs: 2, batchSize: 8, valSplit: null, progress: "none", seed: 2 });
    const weights = await modelWeights(model);
    const rates = await predict(model, DATA, "test");
    model.dispose();
    return { weights, rates };
  } finally {
    if (previous === undefined) Deno.env.delete("BLEND_WASM_MATMUL");
    else Deno.env.set("BLEND_WASM_MATMUL", previous);
    await initBackend("wasm");
  }
}

/** Largest absolute difference over the largest absolute value of the reference. */
function relativeDifference(reference: Float32Array, other: Float32Array): number {
  let scale = 0, worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    worst = Math.max(worst, Math.abs(reference[i] - other[i]));
  }
  return worst / Math.max(scale, 1e-12);
}

const CONFIGS: Record<string, ModelConfigInput> = {
  "ndt (dense attention)": {
    kind: "ndt",
    ...dataShape(DATA),
    dModel: 32,
    layers: 2,
    feedForward: 32,
    attentionKernel: "dense",
  },
  "ndt (banded attention)": {
    kind: "ndt",
    ...dataShape(DATA),
    dModel: 32,
    layers: 2,
    feedForward: 32,
    attentionKernel: "banded",
  },
  lfads: {
    kind: "lfads",
    ...dataShape(DATA),
    icEncoderDim: 8,
    icDim: 8,
    generatorDim: 16,
    ciEncoderDim: 8,
    controllerDim: 8,
    factorDim: 6,
  },
};

const hasBlas = await (async () => {
  await initBackend("wasm");
  return backendInfo().wasm?.matMul === "blas";
})();

for (const [label, config] of Object.entries(CONFIGS)) {
  Deno.test(`${label} trains with blend's wasm kernels to tfjs's own weights (1e-4)`, async () => {
    const naive = await trainWith("naive", config);
    const kinds = hasBlas ? ["fast", "blas"] as const : ["fast"] as const;
    for (const kind of kinds) {
      const { weights, rates } = await trainWith(kind, config);
      for (const part of ["heldin", "heldout"] as const) {
        const difference = relativeDifference(naive.rates[part].data, rates[part].data);
        assert.ok(difference < 1e-5, `${kind}, ${part} rates: relative difference ${difference}`);
      }
      for (const [name, w] of naive.weights) {
        const ours = weights.get(name)!.data as Float32Array;
        let reference = w.data as Float32Array;
        let compared = ours;
        if (name.endsWith("attention.qkv.bias")) {
          // The key bias adds the same number to every score of a query, which softmax
          // ignores: its exact gradient is zero, so it moves only by rounding noise that
          // AdamW scales up to full steps. Compare the query and value biases.
          const width = reference.length / 3;
          const drop = (a: Float32Array) =>
            Float32Array.of(...a.subarray(0, width), ...a.subarray(2 * width));
          [reference, compared] = [drop(reference), drop(ours)];
        }
        const difference = relativeDifference(reference, compared);
        assert.ok(difference < 1e-4, `${kind}, ${name}: relative difference ${difference}`);
      }
    }
  });
}
