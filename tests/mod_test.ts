import assert from "node:assert/strict";
import * as blend from "../mod.ts";

Deno.test("mod.ts exports the public API, and a script using it runs end to end", async () => {
  for (
    const name of [
      "initBackend",
      "backendInfo",
      "reachDataset",
      "lorenzDataset",
      "validateDataset",
      "zscoreBehavior",
      "minibatches",
      "Random",
      "fitRidge",
      "r2Score",
    ]
  ) {
    assert.equal(typeof (blend as Record<string, unknown>)[name], "function", name);
  }
  await blend.initBackend("wasm");
  const data = blend.reachDataset({ trials: 30, heldinNeurons: 10, heldoutNeurons: 4, seed: 2 });
  blend.validateDataset(data);
  const summary = blend.summarizeDataset(data);
  assert.equal(summary.trials.train + summary.trials.val + summary.trials.test, 30);
  assert.equal(blend.backendInfo().backend, "wasm");
});
