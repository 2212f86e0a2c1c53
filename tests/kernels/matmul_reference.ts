/** Matrix-product cases and a float64 reference, shared by the wasm kernels' tests. */

import assert from "node:assert/strict";
import { tf } from "../../lib/deps.ts";

/** Deterministic float32-exact values in [-1, 1) from a formula (no PRNG). */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (((i * 37 + seed * 101) % 257) - 128) / 128;
  return out;
}

/** One product: operand shapes and transpose flags. */
export interface Case {
  /** The batches broadcast against each other, which tfjs's own kernels get wrong. */
  crossed?: boolean;
  name: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
}

/** The product in float64 with explicit broadcasting of the batch dimensions. */
export function reference(c: Case): { shape: number[]; data: Float64Array } {
  const A = values(c.a.reduce((x, y) => x * y, 1), 1);
  const B = values(c.b.reduce((x, y) => x * y, 1), 2);
  const ra = c.a.length, rb = c.b.length;
  const [m, k] = c.transposeA ? [c.a[ra - 1], c.a[ra - 2]] : [c.a[ra - 2], c.a[ra - 1]];
  const n = c.transposeB ? c.b[rb - 2] : c.b[rb - 1];
  const outerA = c.a.slice(0, -2), outerB = c.b.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const padA = [...Array(rank - outerA.length).fill(1), ...outerA];
  const padB = [...Array(rank - outerB.length).fill(1), ...outerB];
  const outer = padA.map((x, i) => Math.max(x, padB[i]));
  const batch = outer.reduce((x, y) => x * y, 1);
  const data = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    // Multi-index of p, mapped into each operand (size-1 dims broadcast).
    let rest = p, ia = 0, ib = 0, strideA = 1, strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % outer[d];
      rest = Math.floor(rest / outer[d]);
      ia += (padA[d] === 1 ? 0 : i) * strideA;
      ib += (padB[d] === 1 ? 0 : i) * strideB;
      strideA *= padA[d];
      strideB *= padB[d];
    }
    const offA = ia * m * k, offB = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const x = c.transposeA ? A[offA + q * m + i] : A[offA + i * k + q];
          const y = c.transposeB ? B[offB + j * k + q] : B[offB + q * n + j];
          s += x * y;
        }
        data[(p * m + i) * n + j] = s;
      }
    }
  }
  return { shape: [...outer, m, n], data };
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  relative: number,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= relative * Math.max(1e-3, scale))) {
      assert.fail(`${label}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
    }
  }
}

export const CASES: Case[] = [
  { name: "2-D", a: [5, 7], b: [7, 3] },
  { name: "2-D transposeA", a: [7, 5], b: [7, 3], transposeA: true },
  { name: "2-D transposeB", a: [5, 7], b: [3, 7], transposeB: true },
  { name: "2-D both transposed", a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { name: "3-D x 2-D (shared matrix)", a: [4, 5, 7], b: [7, 3] },
  { name: "3-D x 2-D transposeA", a: [4, 7, 5], b: [7, 3], transposeA: true },
  { name: "3-D x 2-D transposeB", a: [4, 5, 7], b: [3, 7], transposeB: true },
  { name: "3-D x [1, k, n]", a: [3, 5, 7], b: [1, 7, 4] },
  { name: "2-D x 3-D (broadcast left)", a: [5, 7], b: [4, 7, 3] },
  { name: "3-D batch 1", a: [1, 6, 9], b: [1, 9, 4] },
  { name: "3-D small batched", a: [3, 5, 7], b: [3, 7, 6] },
  {
    name: "3-D small batched, both transposed",
    a: [3, 7, 5],
    b: [3, 6, 7],
    transposeA: true,
    transposeB: true,
  },
  { name: "3-D large batched (sliced)", a: [4, 100, 80], b: [4, 80, 90] },
  { name: "3-D large batched transposeA", a: [3, 80, 100], b: [3, 80, 90], transposeA: true },
  { name: "3-D large batched transposeB", a: [3, 100, 80], b: [3, 90, 80], transposeB: true },
  { name: "4-D small batched", a: [2, 3, 4, 5], b: [2, 3, 5, 6] },
  { name: "4-D large batched (sliced)", a: [2, 3, 60, 100], b: [2, 3, 100, 90] },
  { name: "4-D x 2-D", a: [2, 3, 4, 5], b: [5, 6] },
  // Batches that broadcast against each other: [1, 3] against [3, 1] is a 3 x 3 batch.
  // tfjs's own kernels (wasm and cpu) return a batch of 3 here: compare with float64 only.
  { name: "crossed broadcast, small", a: [1, 3, 4, 5], b: [3, 1, 5, 6], crossed: true },
  { name: "crossed broadcast, large", a: [1, 3, 60, 100], b: [3, 1, 100, 90], crossed: true },
];

/** The product on the current backend with whatever BatchMatMul kernel is registered. */
export function product(c: Case): { shape: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const a = tf.tensor(values(c.a.reduce((x, y) => x * y, 1), 1), c.a);
    const b = tf.tensor(values(c.b.reduce((x, y) => x * y, 1), 2), c.b);
    const out = tf.matMul(a, b, c.transposeA, c.transposeB);
    return { shape: out.shape, data: out.dataSync() as Float32Array };
  });
}
