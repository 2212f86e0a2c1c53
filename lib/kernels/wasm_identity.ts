/**
 * Copy-free `Identity` and same-type `Cast` for tfjs's wasm backend.
 *
 * tfjs's wasm backend copies a tensor's memory for `Identity` (behind `tf.clone`) and for
 * a `Cast` to the type it already has; gradients do both on every product and every
 * elementwise multiply (`cast(b, "float32")` in the gradient of `mul`), which at MC_Maze size
 * is over a thousand copies of megabyte tensors per training step. Tensors are immutable,
 * so sharing the memory with a reference count, as tfjs's own cpu backend and its wasm
 * `Reshape` already do, gives the same values without the copies.
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel, restoreKernels } from "./registry.ts";

type Info = tf.TensorInfo;
interface Backend {
  incRef(dataId: unknown): void;
}

let originals: tf.KernelConfig[] | null = null;

function share(x: Info, backend: Backend): Info {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Replace the wasm backend's Identity and Cast kernels (once). Returns false if installed. */
export function installWasmIdentity(): boolean {
  if (originals) return false;
  const identity = tf.getKernel("Identity", "wasm");
  const cast = tf.getKernel("Cast", "wasm");
  if (!identity || !cast) throw new Error("tfjs's wasm backend lacks Identity or Cast");
  const castNaive = cast.kernelFunc as unknown as (args: unknown) => Info;
  originals = [identity, cast];
  replaceKernel(
    identity,
    (args: { inputs: { x: Info }; backend: Backend }) => share(args.inputs.x, args.backend),
  );
  replaceKernel(
    cast,
    (args: { inputs: { x: Info }; backend: Backend; attrs: { dtype: string } }) =>
      args.attrs.dtype === args.inputs.x.dtype
        ? share(args.inputs.x, args.backend)
        : castNaive(args),
  );
  return true;
}

/** Put tfjs's own Identity and Cast kernels back. Returns false if they were in place. */
export function uninstallWasmIdentity(): boolean {
  if (!originals) return false;
  restoreKernels(originals);
  originals = null;
  return true;
}
