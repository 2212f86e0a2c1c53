/**
 * A faster matrix product for tfjs's wasm backend.
 *
 * The backend sends a product to XNNPACK (its fast path) only when it is a single
 * untransposed 2-D product; a product with transpose flags, and every batched product,
 * runs a naive loop about ten times slower (RESEARCH.md §6). Training needs exactly those:
 * every matMul gradient uses transpose flags, and attention multiplies batches of matrices.
 * This kernel rewrites each product into fast ones: transposes become explicit (a cheap
 * memory copy), a batch times one shared matrix becomes one tall 2-D product, and a batch
 * of independent products becomes one 2-D product per batch entry. Results equal the naive
 * path's up to float32 summation order.
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel, restoreKernels } from "./registry.ts";
import { batchEntries, heapView, type Info, releaseView, type WasmBackend } from "./wasm_heap.ts";

type Kernel = (
  args: {
    inputs: Record<string, Info> | Info[];
    backend: unknown;
    attrs?: Record<string, unknown>;
  },
) => Info;

let installed: { original: tf.KernelConfig } | null = null;

function kernel(name: string): Kernel {
  const config = tf.getKernel(name, "wasm");
  if (!config) throw new Error(`tfjs's wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as Kernel;
}

/**
 * Multiply-adds per batch entry from which a batched product is split into 2-D products
 * (measured on 2 cores: 64 entries of 45x64x45 are faster on the naive path).
 */
const MIN_SPLIT_WORK = 100_000;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Replace the wasm backend's BatchMatMul kernel with the fast one (once per process; the
 * wasm backend must be registered). Returns false when it was already installed.
 */
export function installWasmMatMul(): boolean {
  if (installed) return false;
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (!original) throw new Error("tfjs's wasm backend has no BatchMatMul kernel to replace");
  const naive = original.kernelFunc as unknown as Kernel;
  const transpose = kernel("Transpose");

  function fastBatchMatMul(
    args: { inputs: Record<string, Info>; backend: unknown; attrs: Record<string, unknown> },
  ): Info {
    const backend = args.backend as WasmBackend;
    const temporaries: Info[] = [];
    const keep = (t: Info) => (temporaries.push(t), t);
    try {
      let { a, b } = args.inputs;
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const swapLast = (t: Info) => {
        const perm = t.shape.map((_, i) => i);
        const r = perm.length;
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        return keep(transpose({ inputs: { x: t }, backend, attrs: { perm } }));
      };
      if (transposeA) a = swapLast(a);
      if (transposeB) b = swapLast(b);
      const m = a.shape[a.shape.length - 2], k = a.shape[a.shape.length - 1];
      const n = b.shape[b.shape.length - 1];
      const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
      const batchA = size(outerA), batchB = size(outerB);
      const { outer, entryA, entryB } = batchEntries(outerA, outerB);
      // tfjs's kernel broadcasts only a single matrix; [1, 3] x [3, 1] it gets wrong.
      const crossed = entryA.length !== Math.max(batchA, batchB);
      const attrs = { transposeA: false, transposeB: false };
      const view = (t: Info, shape: number[]): Info => ({
        dataId: t.dataId,
        shape,
        dtype: t.dtype,
      });
      const product = (x: Info, y: Info) => naive({ inputs: { a: x, b: y }, backend, attrs });

      if (batchB === 1) {
        // Every batch entry times one matrix: one tall product.
        const out = product(view(a, [1, batchA * m, k]), view(b, [1, k, n]));
        out.shape = [...outer, m, n];
        return out;
      }
      // Below some size the per-call cost of the fast path (creating and packing an XNNPACK
      // operator for every entry) exceeds what it saves; see MIN_SPLIT_WORK.
      if (!crossed && (batchA !== batchB || m * k * n < MIN_SPLIT_WORK)) {
        // A broadcast this kernel does not rewrite, or products too small to pay off.
        return naive({ inputs: { a, b }, backend, attrs });
      }
      // Independent products: each entry's matrices are zero-copy views into the inputs'
      // memory (tensors registered at an offset, released without freeing), multiplied on
      // the fast path, and copied into one output.
      const out = backend.makeOutput([...outer, m, n], "float32");
      for (let i = 0; i < entryA.length; i++) {
        const ai = heapView(backend, a, [1, m, k], entryA[i] * m * k);
        const bi = heapView(backend, b, [1, k, n], entryB[i] * k * n);
        try {
          const ci = product(ai, bi);
          // Views into the heap are taken after the product, which may have grown it.
          backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(ci), i * m * n);
          backend.disposeData(ci.dataId);
        } finally {
          releaseView(backend, ai);
          releaseView(backend, bi);
        }
      }
      return out;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  }

  replaceKernel(original, fastBatchMatMul);
  installed = { original };
  return true;
}

/** Put the wasm backend's own BatchMatMul kernel back (for comparisons). */
export function uninstallWasmMatMul(): boolean {
  if (!installed) return false;
  restoreKernels([installed.original]);
  installed = null;
  return true;
}
