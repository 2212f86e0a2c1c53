/**
 * A correct `AddN` for tfjs's WebGPU backend.
 *
 * tfjs 4.22's WebGPU AddN binds every input as its own storage buffer in one shader; past
 * the device's limit on storage buffers per shader stage (eight on Mesa's software
 * adapter) the extra inputs are silently dropped: eight scalars summing to 108 gave 45.
 * Optimizers, regularizers and user code sum many tensors with `tf.addN`, so this kernel
 * adds them in groups small enough to bind, then adds the group sums.
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel } from "./registry.ts";

type Info = tf.TensorInfo;
type Kernel = (args: { inputs: Info[]; backend: unknown; attrs?: unknown }) => Info;
interface Backend {
  disposeData(dataId: unknown): void;
}

/** Inputs per AddN shader: well inside every adapter's binding limit. */
const GROUP = 4;

let original: tf.KernelConfig | null = null;

/** Replace the WebGPU backend's AddN kernel (once). Returns false when already installed. */
export function installWebGPUAddN(): boolean {
  if (original) return false;
  const config = tf.getKernel("AddN", "webgpu");
  if (!config) return false;
  const naive = config.kernelFunc as unknown as Kernel;
  function addN(args: { inputs: Info[]; backend: unknown; attrs?: unknown }): Info {
    let inputs = args.inputs;
    const backend = args.backend as Backend;
    const owned = new Set<Info>(); // partial sums this kernel made (the inputs are not ours)
    while (inputs.length > GROUP) {
      const next: Info[] = [];
      for (let i = 0; i < inputs.length; i += GROUP) {
        const group = inputs.slice(i, i + GROUP);
        if (group.length === 1) {
          next.push(group[0]);
          continue;
        }
        const sum = naive({ ...args, inputs: group });
        for (const t of group) {
          if (owned.delete(t)) backend.disposeData(t.dataId);
        }
        owned.add(sum);
        next.push(sum);
      }
      inputs = next;
    }
    const result = naive({ ...args, inputs });
    for (const t of inputs) if (owned.has(t)) backend.disposeData(t.dataId);
    return result;
  }
  replaceKernel(config, addN);
  original = config;
  return true;
}
