/**
 * Checkpoints: a directory that rebuilds a trained model on its own.
 *
 * ```text
 * <dir>/config.json            the model config (rebuilds the architecture)
 * <dir>/metrics.json           whatever metrics the caller passes ({} when none)
 * <dir>/model.safetensors      every weight, F32, by name
 * <dir>/optimizer.safetensors  optimizer slots (only when given)
 * <dir>/trainer_state.json     trainer state (only when given)
 * ```
 *
 * Saving is atomic as a whole: everything is written into a temporary sibling directory,
 * which then takes the checkpoint's place by renames, so `dir` always holds either the
 * old checkpoint complete or the new one complete.
 * @module
 */

import { tf } from "../deps.ts";
import { CheckpointError, describe } from "../errors.ts";
import {
  createModel,
  type ModelConfig,
  type ModelConfigInput,
  resolveConfig,
  type SequenceModel,
} from "../models/model.ts";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "./safetensors.ts";

/** The files of a checkpoint directory. */
export const CHECKPOINT_FILES = {
  config: "config.json",
  metrics: "metrics.json",
  model: "model.safetensors",
  optimizer: "optimizer.safetensors",
  state: "trainer_state.json",
} as const;

/** What a checkpoint holds besides the model. */
export interface CheckpointExtras {
  /** Metrics to keep beside the weights (JSON; typed arrays become arrays). */
  metrics?: unknown;
  /** Optimizer slots by name, saved to `optimizer.safetensors`. */
  optimizer?: ReadonlyMap<string, NamedTensor>;
  /** Trainer state (JSON), saved to `trainer_state.json`. */
  state?: unknown;
}

/** What `readCheckpoint` returns. */
export interface Checkpoint {
  /** The model config, checked and with defaults filled in. */
  config: ModelConfig;
  /** The saved metrics (`{}` when the checkpoint has none). */
  metrics: unknown;
  /** The model's weights by name. */
  weights: Map<string, NamedTensor>;
  /** Optimizer slots, when the checkpoint has them. */
  optimizer?: Map<string, NamedTensor>;
  /** Trainer state, when the checkpoint has it. */
  state?: unknown;
}

function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v),
    2,
  ) + "\n";
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Read every weight of a model into host memory (F32 arrays, copied), by name.
 *
 * @example
 * ```ts
 * import { modelWeights } from "./checkpoint.ts";
 * import { createModel } from "../models/model.ts";
 * const model = createModel({ kind: "ndt", heldinNeurons: 6, heldoutNeurons: 2, bins: 10, forwardBins: 2 });
 * const weights = await modelWeights(model);
 * ```
 */
export async function modelWeights(model: SequenceModel): Promise<Map<string, NamedTensor>> {
  const out = new Map<string, NamedTensor>();
  for (const [name, variable] of model.weights) {
    if (variable.dtype !== "float32") {
      throw new CheckpointError(
        `weight "${name}" has dtype ${variable.dtype}; checkpoints hold float32 weights only`,
      );
    }
    const data = new Float32Array(await variable.data() as Float32Array);
    out.set(name, { dtype: "F32", shape: [...variable.shape], data });
  }
  return out;
}

function splitPath(dir: string): { parent: string; base: string; dir: string } {
  const trimmed = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  const slash = trimmed.lastIndexOf("/");
  const base = trimmed.slice(slash + 1);
  if (base === "" || base === "." || base === "..") {
    throw new CheckpointError(`checkpoint directory ${JSON.stringify(dir)} must end in a name`);
  }
  const parent = slash < 0 ? "." : slash === 0 ? "/" : trimmed.slice(0, slash);
  return { parent, base, dir: trimmed };
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Save a model (config and weights) and optional extras as a checkpoint directory.
 *
 * The directory is replaced as a whole: the files are written into a temporary sibling
 * directory, the old checkpoint (if any) is renamed aside, the new one renamed into
 * place, and the old one removed. A crash leaves `dir` holding either the old checkpoint
 * complete or the new one complete (or, between the two renames, nothing; the old one then
 * sits beside it as `<name>.<id>.old`). Parent directories are created. An existing `dir`
 * that is neither empty nor a checkpoint (it has neither `config.json` nor
 * `model.safetensors`) is never replaced: that throws `CheckpointError`.
 *
 * @example
 * ```ts
 * import { loadModel, saveCheckpoint } from "./checkpoint.ts";
 * import { createModel } from "../models/model.ts";
 * const model = createModel({ kind: "ndt", heldinNeurons: 6, heldoutNeurons: 2, bins: 10, forwardBins: 2 });
 * await saveCheckpoint("out/run1/best", model, { metrics: { coBps: 0.31 } });
 * const { model: restored, metrics } = await loadModel("out/run1/best");
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  model: SequenceModel,
  extras: CheckpointExtras = {},
): Promise<void> {
  const path = splitPath(dir);
  // Encode everything before touching the disk: a bad tensor leaves nothing behind.
  const weights = encodeSafetensors(await modelWeights(model), {
    format: "blend",
    kind: model.config.kind,
  });
  const optimizer = extras.optimizer === undefined
    ? undefined
    : encodeSafetensors(extras.optimizer, { format: "blend", content: "optimizer" });

  const existing = await statOrNull(path.dir);
  if (existing !== null) {
    if (!existing.isDirectory) {
      throw new CheckpointError(
        `cannot save a checkpoint to ${path.dir}: it exists and is not a directory`,
      );
    }
    const names = [];
    for await (const entry of Deno.readDir(path.dir)) names.push(entry.name);
    const isCheckpoint = names.includes(CHECKPOINT_FILES.model) ||
      names.includes(CHECKPOINT_FILES.config);
    if (names.length > 0 && !isCheckpoint) {
      throw new CheckpointError(
        `refusing to replace ${path.dir}: it is not empty and not a checkpoint ` +
          `(it has neither ${CHECKPOINT_FILES.config} nor ${CHECKPOINT_FILES.model})`,
      );
    }
  }

  await Deno.mkdir(path.parent, { recursive: true });
  const id = crypto.randomUUID().slice(0, 8);
  const temporary = `${path.parent}/${path.base}.${id}.partial`;
  const aside = `${path.parent}/${path.base}.${id}.old`;
  await Deno.mkdir(temporary);
  try {
    await Deno.writeTextFile(`${temporary}/${CHECKPOINT_FILES.config}`, toJson(model.config));
    await Deno.writeTextFile(
      `${temporary}/${CHECKPOINT_FILES.metrics}`,
      toJson(extras.metrics ?? {}),
    );
    await Deno.writeFile(`${temporary}/${CHECKPOINT_FILES.model}`, weights);
    if (optimizer !== undefined) {
      await Deno.writeFile(`${temporary}/${CHECKPOINT_FILES.optimizer}`, optimizer);
    }
    if (extras.state !== undefined) {
      await Deno.writeTextFile(`${temporary}/${CHECKPOINT_FILES.state}`, toJson(extras.state));
    }
    if (existing === null) {
      await Deno.rename(temporary, path.dir);
      return;
    }
    await Deno.rename(path.dir, aside);
    try {
      await Deno.rename(temporary, path.dir);
    } catch (error) {
      await Deno.rename(aside, path.dir).catch(() => {});
      throw error;
    }
  } catch (error) {
    await Deno.remove(temporary, { recursive: true }).catch(() => {});
    throw error;
  }
  await Deno.remove(aside, { recursive: true });
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new CheckpointError(`cannot read ${path}: ${message(error)}`);
  }
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON (${message(error)})`);
  }
}

/**
 * Read a checkpoint directory into host memory, checking it: the directory exists,
 * `config.json` is a valid model config, `model.safetensors` is a valid safetensors file,
 * and the optional files (`metrics.json`, `optimizer.safetensors`,
 * `trainer_state.json`) parse when present. Throws `CheckpointError` naming the file and
 * the problem otherwise. It does not build a model; `loadModel` does.
 *
 * @example
 * ```ts
 * import { readCheckpoint } from "./checkpoint.ts";
 * const { config, metrics, weights } = await readCheckpoint("out/run1/best");
 * ```
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const info = await statOrNull(dir).catch((error) => {
    throw new CheckpointError(`cannot read checkpoint directory ${dir}: ${message(error)}`);
  });
  if (info === null) throw new CheckpointError(`checkpoint directory ${dir} does not exist`);
  if (!info.isDirectory) {
    const target = await Deno.stat(dir).catch(() => null);
    if (!target?.isDirectory) throw new CheckpointError(`checkpoint ${dir} is not a directory`);
  }
  const file = (name: string) => `${dir.replace(/\/+$/, "")}/${name}`;

  const configBytes = await readOptional(file(CHECKPOINT_FILES.config));
  if (configBytes === undefined) {
    throw new CheckpointError(`checkpoint ${dir} has no ${CHECKPOINT_FILES.config}`);
  }
  const raw = parseJson(configBytes, file(CHECKPOINT_FILES.config));
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CheckpointError(
      `${file(CHECKPOINT_FILES.config)} must hold a JSON object, got ${describe(raw)}`,
    );
  }
  let config: ModelConfig;
  try {
    config = resolveConfig(raw as ModelConfigInput);
  } catch (error) {
    throw new CheckpointError(
      `${file(CHECKPOINT_FILES.config)} is not a valid model config: ${message(error)}`,
    );
  }

  const modelBytes = await readOptional(file(CHECKPOINT_FILES.model));
  if (modelBytes === undefined) {
    throw new CheckpointError(`checkpoint ${dir} has no ${CHECKPOINT_FILES.model}`);
  }
  const weights = decodeSafetensors(modelBytes, file(CHECKPOINT_FILES.model)).tensors;

  const metricsBytes = await readOptional(file(CHECKPOINT_FILES.metrics));
  const metrics = metricsBytes === undefined
    ? {}
    : parseJson(metricsBytes, file(CHECKPOINT_FILES.metrics));

  const checkpoint: Checkpoint = { config, metrics, weights };
  const optimizerBytes = await readOptional(file(CHECKPOINT_FILES.optimizer));
  if (optimizerBytes !== undefined) {
    checkpoint.optimizer =
      decodeSafetensors(optimizerBytes, file(CHECKPOINT_FILES.optimizer)).tensors;
  }
  const stateBytes = await readOptional(file(CHECKPOINT_FILES.state));
  if (stateBytes !== undefined) {
    checkpoint.state = parseJson(stateBytes, file(CHECKPOINT_FILES.state));
  }
  return checkpoint;
}

/**
 * Copy checkpoint weights into a model's variables.
 *
 * Checks everything before assigning anything: every model weight must be present, F32,
 * with the model's shape, and the checkpoint must hold no other names. Otherwise it throws
 * one `CheckpointError` that names `source` and lists every problem (missing tensor,
 * unexpected tensor, wrong shape, wrong dtype), and the model is left untouched.
 *
 * @example
 * ```ts
 * import { assignWeights, readCheckpoint } from "./checkpoint.ts";
 * import { createModel } from "../models/model.ts";
 * const { config, weights } = await readCheckpoint("out/run1/best");
 * const model = createModel(config);
 * assignWeights(model, weights, "out/run1/best");
 * ```
 */
export function assignWeights(
  model: SequenceModel,
  weights: ReadonlyMap<string, NamedTensor>,
  source: string,
): void {
  const problems: string[] = [];
  for (const [name, variable] of model.weights) {
    const tensor = weights.get(name);
    if (tensor === undefined) {
      problems.push(`missing tensor ${JSON.stringify(name)}`);
      continue;
    }
    if (tensor.dtype !== "F32") {
      problems.push(
        `dtype of ${
          JSON.stringify(name)
        } is ${tensor.dtype} in the checkpoint but F32 in the model`,
      );
    }
    const same = tensor.shape.length === variable.shape.length &&
      tensor.shape.every((d, i) => d === variable.shape[i]);
    if (!same) {
      problems.push(
        `shape of ${JSON.stringify(name)} is ${shapeText(tensor.shape)} in the checkpoint ` +
          `but ${shapeText(variable.shape)} in the model`,
      );
    }
  }
  for (const name of weights.keys()) {
    if (!model.weights.has(name)) problems.push(`unexpected tensor ${JSON.stringify(name)}`);
  }
  if (problems.length > 0) {
    throw new CheckpointError(
      `${source} does not fit the ${model.config.kind} model (${problems.length} problem(s)):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  for (const [name, variable] of model.weights) {
    const { shape, data } = weights.get(name)!;
    const value = tf.tensor(data as Float32Array, shape, "float32");
    try {
      variable.assign(value);
    } finally {
      value.dispose();
    }
  }
}

/**
 * Rebuild a model from a checkpoint directory: read and check it (`readCheckpoint`), build
 * the architecture from `config.json`, and load the weights (`assignWeights`). Throws
 * `CheckpointError` when any of that fails; no model is left allocated then. The caller
 * owns the model and disposes it.
 *
 * @example
 * ```ts
 * import { loadModel } from "./checkpoint.ts";
 * const { model, metrics } = await loadModel("out/run1/best");
 * try {
 *   console.log(model.config.kind, metrics);
 * } finally {
 *   model.dispose();
 * }
 * ```
 */
export async function loadModel(dir: string): Promise<{ model: SequenceModel; metrics: unknown }> {
  const checkpoint = await readCheckpoint(dir);
  let model: SequenceModel;
  try {
    model = createModel(checkpoint.config);
  } catch (error) {
    throw new CheckpointError(`cannot build the model of ${dir}: ${message(error)}`);
  }
  try {
    assignWeights(
      model,
      checkpoint.weights,
      `${dir.replace(/\/+$/, "")}/${CHECKPOINT_FILES.model}`,
    );
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, metrics: checkpoint.metrics };
}
