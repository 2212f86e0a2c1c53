/**
 * `Slice`, `SplitV` and `Unpack` for tfjs's wasm backend that copy only what they return.
 *
 * tfjs's wasm `Slice` first copies its whole input out of the wasm heap into a new
 * JavaScript buffer (`readSync`), then copies the slice from that; `SplitV` and `Unpack`
 * call it once per piece. Splitting a [11520, 384] tensor into six column blocks therefore
 * copied 6 x 17.7 MB into fresh JavaScript memory, and the page faults of those buffers
 * were a large share of a training step's system time. These kernels read the input
 * through a view of the heap instead. Results are bit-identical (a slice is a copy).
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel, restoreKernels } from "./registry.ts";
import type { Info, WasmBackend } from "./wasm_heap.ts";

type KernelArgs = {
  inputs: Record<string, Info>;
  backend: unknown;
  attrs: Record<string, unknown>;
};

/**
 * Copy the box `begin` + `size` of `x` into a new tensor. Trailing axes taken whole are
 * merged with the last partial one into one contiguous run per outer index.
 */
function sliceHeap(backend: WasmBackend, x: Info, begin: number[], size: number[]): Info {
  const rank = x.shape.length;
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views are taken after makeOutput, which may have grown (and so replaced) the heap.
  const source = backend.typedArrayFromHeap(x), target = backend.typedArrayFromHeap(out);
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) [strides[i], s] = [s, s * x.shape[i]];
  // The run: the innermost axes that are whole, plus the first one that is not.
  let axis = rank - 1;
  while (axis > 0 && size[axis] === x.shape[axis]) axis--;
  const run = size[axis] * strides[axis];
  let offset = 0;
  for (let i = 0; i < rank; i++) offset += begin[i] * strides[i];
  if (axis === 0) {
    target.set(source.subarray(offset, offset + run));
    return out;
  }
  // Walk the outer axes (0 .. axis-1) like an odometer.
  const index = new Array<number>(axis).fill(0);
  for (let written = 0; written < total; written += run) {
    let start = offset;
    for (let i = 0; i < axis; i++) start += index[i] * strides[i];
    target.set(source.subarray(start, start + run), written);
    for (let i = axis - 1; i >= 0; i--) {
      if (++index[i] < size[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

let originals: tf.KernelConfig[] | null = null;

/** Replace the wasm backend's Slice, SplitV and Unpack (once). Returns false if installed. */
export function installWasmSlice(): boolean {
  if (originals) return false;
  const configs = ["Slice", "SplitV", "Unpack"].map((name) => {
    const config = tf.getKernel(name, "wasm");
    if (!config) throw new Error(`tfjs's wasm backend has no ${name} kernel`);
    return config;
  });
  const slice = configs[0];
  const fallback = slice.kernelFunc as unknown as (args: KernelArgs) => Info;
  originals = configs;

  function fastSlice(args: KernelArgs): Info {
    const { x } = args.inputs;
    if (x.dtype === "string") return fallback(args);
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as tf.TensorInfo as tf.Tensor,
      args.attrs.begin as number[],
      args.attrs.size as number[],
    );
    return sliceHeap(args.backend as WasmBackend, x, begin, size);
  }

  function fastSplitV(args: KernelArgs): Info[] {
    const { x } = args.inputs;
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as tf.TensorInfo as tf.Tensor,
      args.attrs.numOrSizeSplits as number[],
      axis,
    );
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = fastSlice({ ...args, attrs: { begin: [...begin], size } });
      begin[axis] += s;
      return piece;
    });
  }

  function fastUnpack(args: KernelArgs): Info[] {
    const value = args.inputs.value;
    const rank = value.shape.length;
    const axis = (args.attrs.axis as number) < 0
      ? (args.attrs.axis as number) + rank
      : (args.attrs.axis as number);
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = [...value.shape];
    size[axis] = 1;
    const pieces: Info[] = [];
    for (let i = 0; i < value.shape[axis]; i++) {
      const begin = value.shape.map((_, j) => (j === axis ? i : 0));
      const piece = fastSlice({ ...args, inputs: { x: value }, attrs: { begin, size } });
      pieces.push({ dataId: piece.dataId, dtype: piece.dtype, shape: outShape });
    }
    return pieces;
  }

  const replacements = [fastSlice, fastSplitV, fastUnpack];
  configs.forEach((config, i) => replaceKernel(config, replacements[i]));
  return true;
}

/** Put tfjs's own Slice, SplitV and Unpack back. Returns false if they were in place. */
export function uninstallWasmSlice(): boolean {
  if (!originals) return false;
  restoreKernels(originals);
  originals = null;
  return true;
}
