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

// tfjs kernel plumbing: tensors inside kernels are plain { dataId, shape, dtype } records.
type Info = tf.TensorInfo;
type Kernel = (
  args: {
    inputs: Record<string, Info> | Info[];
    backend: unknown;
    attrs?: Record<string, unknown>;
  },
) => Info;
interface WasmBackend {
  disposeData(dataId: unknown): void;
}

let installed: { original: tf.KernelConfig } | null = null;

function kernel(name: string): Kernel {
  const config = tf.getKernel(name, "wasm");
  if (!config) throw new Error(`tfjs's wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as Kernel;
}

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
  const slice = kernel("Slice");
  const concat = kernel("Concat");

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
      const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
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
      // Below about a million multiply-adds per entry, the per-call cost of the fast path
      // (slicing, packing the right-hand matrix) exceeds what it saves (measured: 64 entries
      // of 45x64x45 take 7 ms naive, 24 ms sliced; 180x64x180 entries favour slicing 3:1).
      if (batchA !== batchB || m * k * n < 500_000) {
        // A broadcast this kernel does not rewrite, or products too small to pay off.
        return naive({ inputs: { a, b }, backend, attrs });
      }
      // Independent products: slice each entry, multiply, concatenate.
      const a3 = view(a, [batchA, m, k]), b3 = view(b, [batchB, k, n]);
      const parts: Info[] = [];
      for (let i = 0; i < batchA; i++) {
        const ai = keep(
          slice({ inputs: { x: a3 }, backend, attrs: { begin: [i, 0, 0], size: [1, m, k] } }),
        );
        const bi = keep(
          slice({ inputs: { x: b3 }, backend, attrs: { begin: [i, 0, 0], size: [1, k, n] } }),
        );
        parts.push(keep(product(ai, bi)));
      }
      // batchA >= 2 here (a single entry took the first branch).
      const out = concat({ inputs: parts, backend, attrs: { axis: 0 } });
      out.shape = [...outer, m, n];
      return out;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  }

  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...original, kernelFunc: fastBatchMatMul as unknown as tf.KernelFunc });
  installed = { original };
  return true;
}

/** Put the wasm backend's own BatchMatMul kernel back (for comparisons). */
export function uninstallWasmMatMul(): boolean {
  if (!installed) return false;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel(installed.original);
  installed = null;
  return true;
}
