/**
 * `Sum` over leading axes for tfjs's wasm backend, without a transpose.
 *
 * tfjs's wasm `Sum` reduces only innermost axes, so a sum over the leading ones (every
 * bias and layer-norm gradient: [batch*time, width] -> [width]) first transposes the whole
 * input: 6.4 ms for a [11520, 128] tensor. Adding the rows into one accumulator reads the
 * input once in order: 1.2 ms. (A product with a row of ones looks faster in isolation but
 * is not: XNNPACK packs the tensor as a weight matrix first, 12 ms when it is new, as every
 * gradient is.) The accumulator is float64, so the result is at least as accurate as
 * tfjs's float32 sum. Other reductions go to tfjs's kernel.
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel, restoreKernels } from "./registry.ts";
import type { Info, WasmBackend } from "./wasm_heap.ts";

type KernelFunc = (args: {
  inputs: Record<string, Info>;
  backend: unknown;
  attrs: Record<string, unknown>;
}) => Info;

/** Rows below which tfjs's own reduction is as fast (no transpose worth avoiding). */
const MIN_ROWS = 64;

/** Sum the `rows` rows of the row-major matrix `x` (rows x columns) into `out`. */
function sumRows(x: Float32Array, rows: number, columns: number, out: Float32Array): void {
  const total = new Float64Array(columns);
  for (let r = 0, offset = 0; r < rows; r++, offset += columns) {
    for (let c = 0; c < columns; c++) total[c] += x[offset + c];
  }
  out.set(total);
}

let original: tf.KernelConfig | null = null;

/** Replace the wasm backend's Sum kernel (once). Returns false if installed. */
export function installWasmSum(): boolean {
  if (original) return false;
  const config = tf.getKernel("Sum", "wasm");
  if (!config) throw new Error("tfjs's wasm backend has no Sum kernel");
  const naive = config.kernelFunc as unknown as KernelFunc;
  original = config;

  const fastSum: KernelFunc = (args) => {
    const { x } = args.inputs;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape)
      .sort((a, b) => a - b);
    const lead = axes.length;
    const leading = axes.every((axis, i) => axis === i) && lead < x.shape.length;
    const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const kept = x.shape.slice(lead);
    const columns = kept.reduce((a, b) => a * b, 1);
    if (x.dtype !== "float32" || !leading || rows < MIN_ROWS || columns === 0) {
      return naive(args);
    }
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(
      args.attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept,
      "float32",
    );
    // Views are taken after makeOutput, which may have grown (and so replaced) the heap.
    sumRows(backend.typedArrayFromHeap(x), rows, columns, backend.typedArrayFromHeap(out));
    return out;
  };

  replaceKernel(config, fastSum);
  return true;
}

/** Put tfjs's own Sum back. Returns false if it was in place. */
export function uninstallWasmSum(): boolean {
  if (!original) return false;
  restoreKernels([original]);
  original = null;
  return true;
}
