import assert from "node:assert/strict";
import { ArgumentError } from "../lib/errors.ts";
import { pca, pcaProject, symmetricEigen } from "../lib/pca.ts";
import { Random } from "../lib/random.ts";

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`,
  );
}

/** |<a, b>| for two unit vectors: 1 when they are the same direction up to sign. */
function absDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return Math.abs(sum);
}

Deno.test("pca: hand-worked 2-D case, axis-aligned and rotated by 45°", () => {
  // (±2, 0) and (0, ±1): mean 0, covariance diag(8/3, 2/3) (divisor n - 1 = 3).
  const fit = pca({ data: [2, 0, -2, 0, 0, 1, 0, -1], rows: 4, cols: 2 }, 2);
  assert.deepEqual([...fit.mean], [0, 0]);
  close(fit.variance[0], 8 / 3, 1e-14, "variance 1");
  close(fit.variance[1], 2 / 3, 1e-14, "variance 2");
  close(fit.totalVariance, 10 / 3, 1e-14, "total");
  close(fit.varianceRatio[0], 0.8, 1e-14, "ratio 1");
  close(fit.varianceRatio[1], 0.2, 1e-14, "ratio 2");
  close(absDot(fit.components.subarray(0, 2), [1, 0]), 1, 1e-14, "PC1 is the x axis");
  close(absDot(fit.components.subarray(2, 4), [0, 1]), 1, 1e-14, "PC2 is the y axis");

  // The same points rotated by 45° and shifted by (3, -1): PC1 along (1, 1) / √2.
  const r = Math.SQRT1_2;
  const points = [[2, 0], [-2, 0], [0, 1], [0, -1]].map(([x, y]) => [
    r * (x - y) + 3,
    r * (x + y) - 1,
  ]);
  const rotated = pca({ data: points.flat(), rows: 4, cols: 2 }, 2);
  close(rotated.mean[0], 3, 1e-14, "mean x");
  close(rotated.mean[1], -1, 1e-14, "mean y");
  close(rotated.varianceRatio[0], 0.8, 1e-13, "rotated ratio 1");
  close(absDot(rotated.components.subarray(0, 2), [r, r]), 1, 1e-13, "PC1 along (1, 1)");
  close(absDot(rotated.components.subarray(2, 4), [r, -r]), 1, 1e-13, "PC2 along (1, -1)");
  // Sign convention: the largest-magnitude entry of each component is positive.
  for (let p = 0; p < 2; p++) {
    const c = rotated.components.subarray(2 * p, 2 * p + 2);
    const largest = Math.abs(c[0]) >= Math.abs(c[1]) ? c[0] : c[1];
    assert.ok(largest > 0, `component ${p} has its largest entry positive`);
  }
  // Scores: (±2, 0) and (0, ±1) up to sign.
  const scores = pcaProject(rotated, { data: points.flat(), rows: 4, cols: 2 });
  assert.deepEqual([scores.rows, scores.cols], [4, 2]);
  const expected = [[2, 0], [-2, 0], [0, 1], [0, -1]];
  for (let i = 0; i < 4; i++) {
    for (let p = 0; p < 2; p++) {
      close(Math.abs(scores.data[i * 2 + p]), Math.abs(expected[i][p]), 1e-13, `score ${i},${p}`);
    }
  }
});

/** A random orthonormal d x d matrix (columns), by Gram-Schmidt of Gaussian columns. */
function randomOrthonormal(rng: Random, d: number): number[][] {
  const columns: number[][] = [];
  while (columns.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const q of columns) {
      const dot = v.reduce((s, x, i) => s + x * q[i], 0);
      for (let i = 0; i < d; i++) v[i] -= dot * q[i];
    }
    const norm = Math.hypot(...v);
    columns.push(v.map((x) => x / norm));
  }
  return columns;
}

Deno.test("pca recovers the eigen-decomposition of a known covariance", () => {
  const rng = new Random(7);
  const d = 6, n = 200;
  const eigen = [9, 4, 2, 1, 0.5, 0.1];
  const q = randomOrthonormal(rng, d);
  // Z: n x d, centered, with Zᵀ Z / (n - 1) = I exactly (orthonormal columns, rescaled).
  const z: number[][] = Array.from(
    { length: d },
    () => Array.from({ length: n }, () => rng.normal()),
  );
  for (const column of z) {
    const mean = column.reduce((a, b) => a + b, 0) / n;
    for (let i = 0; i < n; i++) column[i] -= mean;
  }
  const ones = Array.from({ length: n }, () => 1 / Math.sqrt(n));
  const basis: number[][] = [ones];
  for (const column of z) {
    for (const b of basis) {
      const dot = column.reduce((s, x, i) => s + x * b[i], 0);
      for (let i = 0; i < n; i++) column[i] -= dot * b[i];
    }
    const norm = Math.hypot(...column);
    for (let i = 0; i < n; i++) column[i] /= norm;
    basis.push([...column]);
  }
  // X = Z Λ^½ Qᵀ sqrt(n - 1) + μ has sample covariance Q Λ Qᵀ.
  const mu = [1, -2, 3, 0, 5, -1];
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      let v = mu[c];
      for (let k = 0; k < d; k++) v += z[k][i] * Math.sqrt(eigen[k] * (n - 1)) * q[k][c];
      x[i * d + c] = v;
    }
  }
  const fit = pca({ data: x, rows: n, cols: d }, d);
  const total = eigen.reduce((a, b) => a + b, 0);
  close(fit.totalVariance, total, 1e-10, "total variance");
  for (let k = 0; k < d; k++) {
    close(fit.variance[k], eigen[k], 1e-10, `eigenvalue ${k}`);
    close(fit.varianceRatio[k], eigen[k] / total, 1e-12, `explained ratio ${k}`);
    close(fit.mean[k], mu[k], 1e-12, `mean ${k}`);
    const component = fit.components.subarray(k * d, (k + 1) * d);
    close(absDot(component, q[k]), 1, 1e-10, `component ${k} matches eigenvector (up to sign)`);
  }
  // Orthonormal rows: C Cᵀ = I.
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += fit.components[a * d + c] * fit.components[b * d + c];
      close(dot, a === b ? 1 : 0, 1e-12, `C Cᵀ[${a}][${b}]`);
    }
  }
  // Fewer components: the same leading ones; scores have the eigenvalues as variances.
  const top2 = pca({ data: x, rows: n, cols: d }, 2);
  assert.deepEqual([...top2.components], [...fit.components.subarray(0, 2 * d)]);
  const scores = pcaProject(top2, { data: x, rows: n, cols: d });
  for (let p = 0; p < 2; p++) {
    let sum = 0, squares = 0;
    for (let i = 0; i < n; i++) sum += scores.data[i * 2 + p];
    for (let i = 0; i < n; i++) squares += scores.data[i * 2 + p] ** 2;
    close(sum / n, 0, 1e-10, `score ${p} mean`);
    close(squares / (n - 1), eigen[p], 1e-9, `score ${p} variance`);
  }
});

Deno.test("symmetricEigen: A v = λ v for a random symmetric matrix", () => {
  const rng = new Random(3);
  const n = 9;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  }
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
      close(av, values[k] * vectors[i * n + k], 1e-12, `(A v${k})[${i}]`);
    }
  }
});

Deno.test("pca rejects bad input with messages that name the problem", () => {
  const x = { data: [1, 2, 3, 4, 5, 7], rows: 3, cols: 2 };
  assert.throws(
    () => pca(x, 3),
    (e) => e instanceof ArgumentError && /k must be an integer from 1 to 2.*got 3/.test(e.message),
  );
  assert.throws(() => pca(x, 0), /k must be an integer from 1 to 2/);
  assert.throws(() => pca({ data: [1, 2], rows: 1, cols: 2 }, 1), /at least 2 rows/);
  assert.throws(
    () => pca({ data: [1, 2, 3], rows: 2, cols: 2 }, 1),
    /has 3 values but 2 rows x 2 columns need 4/,
  );
  assert.throws(() => pca({ data: [1, 2, NaN, 4], rows: 2, cols: 2 }, 1), /NaN at row 1, column 0/);
  assert.throws(() => pca({ data: [1, 2, 1, 2], rows: 2, cols: 2 }, 1), /identical.*no variance/);
  const fit = pca(x, 1);
  assert.throws(
    () => pcaProject(fit, { data: [1, 2, 3], rows: 1, cols: 3 }),
    /3 columns but the PCA was fit on 2/,
  );
});
