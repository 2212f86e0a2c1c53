import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { CheckpointError } from "../../lib/errors.ts";
import { createModel, type ModelConfigInput, type SequenceModel } from "../../lib/models/model.ts";
import {
  assignWeights,
  loadModel,
  modelWeights,
  readCheckpoint,
  saveCheckpoint,
} from "../../lib/train/checkpoint.ts";
import { decodeSafetensors, type NamedTensor } from "../../lib/train/safetensors.ts";
import { assertSameTensors, bytesOf } from "./tensors.ts";

await initBackend("cpu");

const SMALL: ModelConfigInput = {
  kind: "ndt",
  heldinNeurons: 6,
  heldoutNeurons: 2,
  bins: 10,
  forwardBins: 2,
  dModel: 8,
  layers: 1,
  feedForward: 8,
};

/** A small NDT whose weights differ from any freshly built one (so loading must restore them). */
function trainedModel(overrides: Partial<ModelConfigInput> = {}): SequenceModel {
  const model = createModel({ ...SMALL, ...overrides } as ModelConfigInput);
  let k = 0;
  for (const variable of model.weights.values()) {
    k++;
    tf.tidy(() =>
      variable.assign(
        tf.add(
          variable,
          tf.mul(tf.sin(tf.range(0, variable.size).reshape(variable.shape)), 0.1 * k),
        ),
      )
    );
  }
  return model;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Log-rates and latents of one eval-mode forward pass on fixed spikes. */
async function evalOutputs(model: SequenceModel): Promise<Float32Array[]> {
  const { logRates, latents } = tf.tidy(() => {
    const counts = Float32Array.from({ length: 3 * 10 * 6 }, (_, i) => (i * 7919) % 5);
    const heldin = tf.tensor3d(counts, [3, 10, 6]);
    const out = model.forward({ heldin }, { training: false });
    return { logRates: out.logRates, latents: out.latents };
  });
  try {
    return [await logRates.data() as Float32Array, await latents.data() as Float32Array];
  } finally {
    logRates.dispose();
    latents.dispose();
  }
}

async function assertCheckpointError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("checkpoint: save then loadModel restores identical weights, config, metrics and outputs", async () => {
  await withTempDir(async (tmp) => {
    const model = trainedModel({ seed: 3 });
    const fresh = createModel({ ...SMALL, seed: 3 } as ModelConfigInput);
    try {
      const dir = `${tmp}/runs/a/best`; // parents do not exist yet
      const metrics = { coBps: 0.25, history: new Float64Array([1, 0.5]) };
      await saveCheckpoint(dir, model, { metrics });

      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["config.json", "metrics.json", "model.safetensors"]);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)), model.config);
      assert.match(await Deno.readTextFile(`${dir}/config.json`), /^\{\n {2}"/, "pretty JSON");
      const file = decodeSafetensors(await Deno.readFile(`${dir}/model.safetensors`));
      assert.deepEqual(file.metadata, { format: "blend", kind: "ndt" });

      const { model: loaded, metrics: loadedMetrics } = await loadModel(dir);
      try {
        assert.deepEqual(loaded.config, model.config);
        assert.deepEqual(loadedMetrics, { coBps: 0.25, history: [1, 0.5] });
        const saved = await modelWeights(model);
        assertSameTensors(await modelWeights(loaded), saved);
        // The saved weights are not what the config alone builds: loading did the work.
        const initial = await modelWeights(fresh);
        assert.ok(
          [...saved].some(([name, t]) =>
            !bytesOf(t.data).every((b, i) => b === bytesOf(initial.get(name)!.data)[i])
          ),
        );

        const [rates, latents] = await evalOutputs(model);
        const [loadedRates, loadedLatents] = await evalOutputs(loaded);
        assert.deepEqual(loadedRates, rates);
        assert.deepEqual(loadedLatents, latents);
        const [freshRates] = await evalOutputs(fresh);
        assert.notDeepEqual(freshRates, rates);
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
      fresh.dispose();
    }
  });
});

Deno.test("checkpoint: optimizer slots and trainer state round trip", async () => {
  await withTempDir(async (tmp) => {
    const model = trainedModel();
    try {
      const optimizer = new Map<string, NamedTensor>([
        ["adam.m.embed", {
          dtype: "F32",
          shape: [2, 3],
          data: new Float32Array([1, -2, 3.5, 0, -0, 1e-30]),
        }],
        ["adam.step", { dtype: "I64", shape: [], data: new BigInt64Array([123456789012n]) }],
      ]);
      const state = { epoch: 7, step: 420, rng: [1, 2, 3], best: { coBps: 0.3 } };
      await saveCheckpoint(`${tmp}/ckpt`, model, { optimizer, state });
      const checkpoint = await readCheckpoint(`${tmp}/ckpt`);
      assert.deepEqual(checkpoint.metrics, {});
      assert.deepEqual(checkpoint.state, state);
      assertSameTensors(checkpoint.optimizer!, optimizer);
      assertSameTensors(checkpoint.weights, await modelWeights(model));
      assert.deepEqual(
        [...Deno.readDirSync(`${tmp}/ckpt`)].map((e) => e.name).sort(),
        [
          "config.json",
          "metrics.json",
          "model.safetensors",
          "optimizer.safetensors",
          "trainer_state.json",
        ],
      );
      // Without extras there is neither file, and reading gives neither field.
      await saveCheckpoint(`${tmp}/plain`, model);
      const plain = await readCheckpoint(`${tmp}/plain`);
      assert.equal(plain.optimizer, undefined);
      assert.equal(plain.state, undefined);
    } finally {
      model.dispose();
    }
  });
});

Deno.test("checkpoint: saving twice replaces the directory whole and leaves no temporary files", async () => {
  await withTempDir(async (tmp) => {
    const model = trainedModel();
    try {
      const dir = `${tmp}/ckpt`;
      await saveCheckpoint(dir, model, {
        metrics: { epoch: 1 },
        state: { step: 1 },
        optimizer: new Map([["m", { dtype: "F32", shape: [1], data: new Float32Array([1]) }]]),
      });
      await Deno.writeTextFile(`${dir}/stray.txt`, "left by someone");
      await saveCheckpoint(`${dir}/`, model, { metrics: { epoch: 2 } });
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["ckpt"]);
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
        ["config.json", "metrics.json", "model.safetensors"],
      );
      assert.deepEqual((await readCheckpoint(dir)).metrics, { epoch: 2 });

      // A save that fails (a bad optimizer tensor) leaves the old checkpoint as it was.
      const bad = new Map([[
        "m",
        { dtype: "F32", shape: [5], data: new Float32Array(1) } as NamedTensor,
      ]]);
      await assertCheckpointError(
        saveCheckpoint(dir, model, { optimizer: bad }),
        /tensor "m": shape \[5\] holds 5 values/,
      );
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["ckpt"]);
      assert.deepEqual((await readCheckpoint(dir)).metrics, { epoch: 2 });

      // A directory that is not a checkpoint is never replaced.
      await Deno.mkdir(`${tmp}/notes`);
      await Deno.writeTextFile(`${tmp}/notes/todo.txt`, "keep me");
      await assertCheckpointError(
        saveCheckpoint(`${tmp}/notes`, model),
        /refusing to replace .*notes: it is not empty and not a checkpoint/,
      );
      assert.equal(await Deno.readTextFile(`${tmp}/notes/todo.txt`), "keep me");
      await Deno.writeTextFile(`${tmp}/file`, "x");
      await assertCheckpointError(
        saveCheckpoint(`${tmp}/file`, model),
        /exists and is not a directory/,
      );
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), [
        "ckpt",
        "file",
        "notes",
      ]);
    } finally {
      model.dispose();
    }
  });
});

Deno.test("checkpoint: assignWeights lists every mismatch and assigns nothing then", async () => {
  await withTempDir(async (tmp) => {
    const small = trainedModel({ dModel: 8 });
    const wide = createModel({ ...SMALL, dModel: 16 } as ModelConfigInput);
    try {
      await saveCheckpoint(`${tmp}/small`, small);
      const { weights } = await readCheckpoint(`${tmp}/small`);
      const before = await modelWeights(wide);
      assert.throws(() => assignWeights(wide, weights, "small.safetensors"), (error: unknown) => {
        assert.ok(error instanceof CheckpointError);
        assert.match(
          error.message,
          /^small\.safetensors does not fit the ndt model \(\d+ problem\(s\)\)/,
        );
        assert.match(
          error.message,
          /shape of "[^"]+" is \[\d+(, \d+)*\] in the checkpoint but \[\d+(, \d+)*\] in the model/,
        );
        assert.match(error.message, /\[8\] in the checkpoint but \[16\] in the model/);
        return true;
      });
      assertSameTensors(await modelWeights(wide), before);

      const [first, second] = [...weights.keys()];
      const edited = new Map(weights);
      edited.delete(first);
      edited.set("decoder.extra", { dtype: "F32", shape: [1], data: new Float32Array(1) });
      edited.set(second, {
        ...weights.get(second)!,
        dtype: "F64",
        data: new Float64Array(weights.get(second)!.data.length),
      });
      const target = trainedModel({ seed: 9 });
      try {
        const untouched = await modelWeights(target);
        assert.throws(() => assignWeights(target, edited, "edited"), (error: unknown) => {
          assert.ok(error instanceof CheckpointError);
          assert.match(error.message, /^edited does not fit the ndt model \(3 problem\(s\)\)/);
          assert.ok(error.message.includes(`missing tensor "${first}"`), error.message);
          assert.ok(error.message.includes(`unexpected tensor "decoder.extra"`), error.message);
          assert.ok(
            error.message.includes(
              `dtype of "${second}" is F64 in the checkpoint but F32 in the model`,
            ),
          );
          return true;
        });
        assertSameTensors(await modelWeights(target), untouched);
        // The intact map loads into a model of the same config.
        assignWeights(target, weights, "small");
        assertSameTensors(await modelWeights(target), weights);
      } finally {
        target.dispose();
      }
    } finally {
      small.dispose();
      wide.dispose();
    }
  });
});

Deno.test("checkpoint: a missing or damaged checkpoint is a CheckpointError naming the problem", async () => {
  await withTempDir(async (tmp) => {
    const model = trainedModel();
    try {
      await assertCheckpointError(
        loadModel(`${tmp}/nowhere`),
        /checkpoint directory .*nowhere does not exist/,
      );
      await Deno.writeTextFile(`${tmp}/plainfile`, "x");
      await assertCheckpointError(readCheckpoint(`${tmp}/plainfile`), /is not a directory/);

      const dir = `${tmp}/ckpt`;
      await saveCheckpoint(dir, model);
      const bytes = await Deno.readFile(`${dir}/model.safetensors`);
      await Deno.writeFile(
        `${dir}/model.safetensors`,
        bytes.subarray(0, Math.floor(bytes.length / 2)),
      );
      await assertCheckpointError(
        loadModel(dir),
        /ckpt\/model\.safetensors is not a valid safetensors file: .*truncated file/,
      );
      await Deno.writeFile(`${dir}/model.safetensors`, bytes.subarray(0, 5));
      await assertCheckpointError(
        loadModel(dir),
        /model\.safetensors is not a valid safetensors file: it has 5 byte/,
      );
      await Deno.remove(`${dir}/model.safetensors`);
      await assertCheckpointError(loadModel(dir), /checkpoint .*ckpt has no model\.safetensors/);

      await saveCheckpoint(dir, model);
      await Deno.writeTextFile(`${dir}/config.json`, "{ not json");
      await assertCheckpointError(loadModel(dir), /ckpt\/config\.json is not valid JSON/);
      await Deno.writeTextFile(`${dir}/config.json`, "[1, 2]");
      await assertCheckpointError(
        loadModel(dir),
        /config\.json must hold a JSON object, got array of length 2/,
      );
      await Deno.writeTextFile(
        `${dir}/config.json`,
        JSON.stringify({ ...model.config, kind: "gru" }),
      );
      await assertCheckpointError(
        loadModel(dir),
        /config\.json is not a valid model config: .*kind must be one of ndt, rnn, lfads, got "gru"/,
      );
      await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...model.config, bins: -3 }));
      await assertCheckpointError(
        loadModel(dir),
        /config\.json is not a valid model config: .*bins must be an integer >= 1, got -3/,
      );
      await Deno.remove(`${dir}/config.json`);
      await assertCheckpointError(loadModel(dir), /checkpoint .*ckpt has no config\.json/);

      await saveCheckpoint(dir, model);
      await Deno.writeTextFile(`${dir}/metrics.json`, "nan");
      await assertCheckpointError(readCheckpoint(dir), /metrics\.json is not valid JSON/);
    } finally {
      model.dispose();
    }
  });
});

Deno.test("checkpoint: save and load leak no tensors, also when loading fails", async () => {
  await withTempDir(async (tmp) => {
    const model = trainedModel();
    try {
      const before = tf.memory().numTensors;
      await saveCheckpoint(`${tmp}/ckpt`, model, { metrics: { a: 1 } });
      const { model: loaded } = await loadModel(`${tmp}/ckpt`);
      assert.ok(tf.memory().numTensors > before);
      loaded.dispose();
      assert.equal(tf.memory().numTensors, before);

      // A config that builds a different model: loadModel fails and frees what it built.
      const config = JSON.parse(await Deno.readTextFile(`${tmp}/ckpt/config.json`));
      await Deno.writeTextFile(
        `${tmp}/ckpt/config.json`,
        JSON.stringify({ ...config, dModel: 16 }),
      );
      await assertCheckpointError(
        loadModel(`${tmp}/ckpt`),
        /ckpt\/model\.safetensors does not fit the ndt model/,
      );
      assert.equal(tf.memory().numTensors, before);
    } finally {
      model.dispose();
    }
  });
});
