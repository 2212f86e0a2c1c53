/**
 * What blend's wasm kernels need of tfjs's wasm backend: its tensor records on the wasm
 * heap, and zero-copy views of them.
 * @module
 */

import { tf } from "../deps.ts";

/** A tensor inside a kernel: a plain { dataId, shape, dtype } record. */
export type Info = tf.TensorInfo;

/** The parts of tfjs's wasm backend (`BackendWasm`) that blend's kernels use. */
export interface WasmBackend {
  disposeData(dataId: unknown): void;
  makeOutput(shape: number[], dtype: string, memoryOffset?: number): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  dataIdMap: {
    get(dataId: unknown): { id: number; memoryOffset: number };
    delete(dataId: unknown): void;
  };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/**
 * A new tensor record over `shape` floats of the heap starting `offsetFloats` into `t`'s
 * memory, sharing it. It needs its own id, not just `t`'s with another shape: XNNPACK
 * caches a product's packed right-hand matrix by that matrix's tensor id, so a second
 * shape under the same id would reuse the first shape's operator. Release it with
 * `releaseView`, which drops the record (and any cached operator) but frees no memory.
 */
export function heapView(backend: WasmBackend, t: Info, shape: number[], offsetFloats = 0): Info {
  const base = backend.dataIdMap.get(t.dataId).memoryOffset;
  return backend.makeOutput(shape, "float32", base + 4 * offsetFloats);
}

/** Drop a `heapView` record without freeing the memory it shares. */
export function releaseView(backend: WasmBackend, view: Info): void {
  backend.wasm.tfjs.disposeData(backend.dataIdMap.get(view.dataId).id);
  backend.dataIdMap.delete(view.dataId);
}

/**
 * A float32 tensor of `shape` whose values `fill` writes. On the wasm backend `fill`
 * writes straight into the tensor's heap memory: no JavaScript buffer is allocated (fresh
 * buffers of megabytes page-fault on first touch, which cost a training step tens of
 * milliseconds for its dropout masks) and nothing is copied. Elsewhere it fills a new
 * array that becomes the tensor.
 */
export function filledTensor(shape: number[], fill: (values: Float32Array) => void): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (tf.getBackend() !== "wasm" || size === 0) {
    const values = new Float32Array(size);
    fill(values);
    return tf.tensor(values, shape, "float32");
  }
  const backend = tf.backend() as unknown as WasmBackend;
  const info = backend.makeOutput(shape, "float32");
  fill(backend.typedArrayFromHeap(info));
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * The batch entries of a batched product whose operands have batch shapes `outerA` and
 * `outerB` (right-aligned, size-1 axes broadcast, as tfjs and NumPy do): the broadcast
 * batch shape and, for each of its entries in row-major order, which entry of A and of B
 * it multiplies. [1, 3] against [3, 1] is a 3 x 3 batch even though each side has 3.
 */
export function batchEntries(
  outerA: readonly number[],
  outerB: readonly number[],
): { outer: number[]; entryA: Int32Array; entryB: Int32Array } {
  const outer = tf.backend_util.assertAndGetBroadcastShape([...outerA], [...outerB]);
  const rank = outer.length;
  const padA = [...new Array(rank - outerA.length).fill(1), ...outerA];
  const padB = [...new Array(rank - outerB.length).fill(1), ...outerB];
  const total = outer.reduce((x, y) => x * y, 1);
  const entryA = new Int32Array(total), entryB = new Int32Array(total);
  for (let p = 0; p < total; p++) {
    let rest = p, ia = 0, ib = 0, strideA = 1, strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % outer[d];
      rest = Math.floor(rest / outer[d]);
      if (padA[d] !== 1) ia += i * strideA;
      if (padB[d] !== 1) ib += i * strideB;
      strideA *= padA[d];
      strideB *= padB[d];
    }
    entryA[p] = ia;
    entryB[p] = ib;
  }
  return { outer, entryA, entryB };
}
