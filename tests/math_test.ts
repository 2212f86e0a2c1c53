import assert from "node:assert/strict";
import { ArgumentError } from "../lib/errors.ts";
import {
  logGamma,
  logspace,
  meanStd,
  normalSf,
  signTest,
  summarize,
  wilcoxonSignedRank,
} from "../lib/math.ts";

function assertRelative(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.abs(expected),
    `${what}: ${actual} vs ${expected} (relative tolerance ${tolerance})`,
  );
}

Deno.test("logGamma(n + 1) equals ln n! summed from logs, n = 1..30", () => {
  // ln 1! = ln Γ(2) = 0 exactly in theory: check it absolutely.
  assert.ok(Math.abs(logGamma(2)) < 1e-14, `logGamma(2) = ${logGamma(2)}`);
  assert.ok(Math.abs(logGamma(1)) < 1e-14, `logGamma(1) = ${logGamma(1)}`);
  let logFactorial = 0;
  for (let n = 2; n <= 30; n++) {
    logFactorial += Math.log(n);
    assertRelative(logGamma(n + 1), logFactorial, 1e-12, `ln ${n}!`);
  }
  // Γ(5) = 4! = 24 (the module's own example).
  assertRelative(Math.exp(logGamma(5)), 24, 1e-13, "Γ(5)");
});

Deno.test("logGamma(1/2) is ln sqrt(pi)", () => {
  assertRelative(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, "ln Γ(1/2)");
  // Γ(3/2) = sqrt(pi) / 2.
  assertRelative(logGamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), 1e-13, "ln Γ(3/2)");
});

Deno.test("logGamma matches Python's math.lgamma on small and large x", () => {
  // Reference values printed by python3: repr(math.lgamma(x)).
  const reference: [number, number][] = [
    [1e-3, 6.907178885383854], // through the reflection formula (x < 1/2)
    [0.25, 1.2880225246980772],
    [2.5, 0.2846828704729196],
    [100.5, 361.4355404677776],
  ];
  for (const [x, expected] of reference) assertRelative(logGamma(x), expected, 1e-13, `x = ${x}`);
});

Deno.test("logGamma rejects x <= 0 and NaN, naming the value", () => {
  for (const [x, text] of [[0, "0"], [-1, "-1"], [-0.5, "-0.5"], [NaN, "NaN"]] as const) {
    assert.throws(
      () => logGamma(x),
      (e: unknown) => e instanceof ArgumentError && e.message.includes(`got ${text}`),
      `x = ${x}`,
    );
  }
});

Deno.test("meanStd gives the population mean and sd, skipping NaN", () => {
  // [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, var 4, sd 2.
  const plain = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.deepEqual(plain, { mean: 5, std: 2, count: 8 });
  const withNaN = meanStd(new Float32Array([NaN, 2, 4, 4, NaN, 4, 5, 5, 7, 9, NaN]));
  assert.deepEqual(withNaN, { mean: 5, std: 2, count: 8 });
  const none = meanStd([NaN, NaN]);
  assert.equal(none.count, 0);
  assert.ok(Number.isNaN(none.mean) && Number.isNaN(none.std));
  assert.deepEqual(meanStd([3]), { mean: 3, std: 0, count: 1 });
});

Deno.test("logspace(-4, 0, 9) equals numpy.logspace", () => {
  // repr(float(v)) for v in numpy.logspace(-4, 0, 9) (numpy 2.4).
  const numpy = [
    0.0001,
    0.00031622776601683794,
    0.001,
    0.0031622776601683794,
    0.01,
    0.03162277660168379,
    0.1,
    0.31622776601683794,
    1.0,
  ];
  const got = logspace(-4, 0, 9);
  assert.equal(got.length, 9);
  for (let i = 0; i < 9; i++) assertRelative(got[i], numpy[i], 1e-15, `logspace[${i}]`);
  assert.equal(got[0], 1e-4);
  assert.equal(got[8], 1);
});

Deno.test("logspace with one point is 10^start; bad counts throw", () => {
  assert.deepEqual(logspace(2, 5, 1), [100]);
  for (const count of [0, -2, 2.5]) {
    assert.throws(
      () => logspace(0, 1, count),
      (e: unknown) => e instanceof ArgumentError && e.message.includes(`got ${count}`),
    );
  }
});

Deno.test("summarize: mean, sample sd (n - 1) and count of the finite values", () => {
  const s = summarize([1, 2, 3, 4, NaN]);
  assert.equal(s.n, 4);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(summarize([7]), { mean: 7, sd: 0, n: 1 });
  assert.ok(Number.isNaN(summarize([]).mean));
});

Deno.test("signTest matches the exact binomial tail (scipy.stats.binomtest values)", () => {
  // binomtest(k, n, 0.5).pvalue: 5 of 5 -> 0.0625, 4 of 5 -> 0.375, 9 of 10 -> 0.021484375
  assert.ok(Math.abs(signTest(5, 0) - 0.0625) < 1e-12);
  assert.ok(Math.abs(signTest(4, 1) - 0.375) < 1e-12);
  assert.ok(Math.abs(signTest(1, 9) - 0.021484375) < 1e-12);
  assert.equal(signTest(3, 3), 1);
  assert.equal(signTest(0, 0), 1);
  assert.throws(() => signTest(-1, 2), /wins must be an integer >= 0, got -1/);
});

Deno.test("normalSf is the normal upper tail to 1e-14 relative, from the centre to the far tail", () => {
  // Correctly rounded values from 40-digit arithmetic (Debian's python3-mpmath):
  //   /usr/bin/python3 -c "import mpmath; mpmath.mp.dps = 40;
  //     print(float(mpmath.erfc(mpmath.mpf(z) / mpmath.sqrt(2)) / 2))"
  // scipy.stats.norm.sf agrees to 1e-13 (it is 1.1e-13 low at z = 37).
  const reference: [number, number][] = [
    [0, 0.5],
    [0.1, 0.460172162722971],
    [0.5, 0.3085375387259869],
    [1, 0.15865525393145705],
    [1.959963984540054, 0.025000000000000015],
    [2.1, 0.017864420562816556], // z/√2 just below 1.5: the series
    [2.12, 0.0170030226476328], // just above: the continued fraction
    [3, 0.0013498980316300946],
    [5, 2.866515718791939e-7],
    [8, 6.220960574271784e-16],
    [12, 1.776482112077679e-33],
    [20, 2.7536241186062337e-89],
    [37, 5.725571222524577e-300],
    [-1.5, 0.9331927987311419],
  ];
  for (const [z, expected] of reference) assertRelative(normalSf(z), expected, 1e-14, `z = ${z}`);
  assert.equal(normalSf(Infinity), 0);
  assert.equal(normalSf(-Infinity), 1);
  assert.ok(Number.isNaN(normalSf(NaN)));
});

/** Statistic and method exactly, p to 1e-12 relative. */
function assertWilcoxon(
  d: number[],
  expected: { statistic: number; p: number; n: number; method: "exact" | "approx" },
  what: string,
): void {
  const got = wilcoxonSignedRank(d);
  assert.equal(got.statistic, expected.statistic, `${what}: statistic`);
  assert.equal(got.n, expected.n, `${what}: n`);
  assert.equal(got.method, expected.method, `${what}: method`);
  assertRelative(got.p, expected.p, 1e-12, `${what}: p`);
}

// Reference values: /usr/bin/python3 (Debian bookworm, scipy 1.10.1),
//   from scipy.stats import wilcoxon; r = wilcoxon(d); print(repr(r.statistic), repr(r.pvalue))
Deno.test("wilcoxonSignedRank: exact p-values for up to 50 differences without zeros or ties", () => {
  assertWilcoxon(
    [1.5, -0.3, 2.2, 0.7, -1.1, 3.4, 0.05, -2.6, 1.9, 0.45],
    { statistic: 16, p: 0.275390625, n: 10, method: "exact" },
    "n = 10",
  );
  // The positive rank sum at the centre of its distribution: p = 1.
  assertWilcoxon([1, -2, -3, 4], { statistic: 5, p: 1, n: 4, method: "exact" }, "centre");
  assertWilcoxon([1, 2, 3, 4, 5], { statistic: 0, p: 0.0625, n: 5, method: "exact" }, "all up");
  assertWilcoxon([-1, -2, -3, -4, -5], { statistic: 0, p: 0.0625, n: 5, method: "exact" }, "down");
  assertWilcoxon([2], { statistic: 0, p: 1, n: 1, method: "exact" }, "one difference");
  // d = [(i + 1) * (-1 if i % 3 == 0 else 1) for i in range(50)]
  const d50 = Array.from({ length: 50 }, (_, i) => (i + 1) * (i % 3 === 0 ? -1 : 1));
  assertWilcoxon(d50, { statistic: 425, p: 0.03996834652842374, n: 50, method: "exact" }, "n = 50");
});

Deno.test("wilcoxonSignedRank: normal approximation above 50 differences, with zeros, with ties", () => {
  // range(51): the same pattern, one more difference.
  const d51 = Array.from({ length: 51 }, (_, i) => (i + 1) * (i % 3 === 0 ? -1 : 1));
  assertWilcoxon(d51, { statistic: 425, p: 0.02568873999366418, n: 51, method: "approx" }, "51");
  // list(range(1, 61)): a far tail, where the normal tail must be accurate in relative terms.
  const d60 = Array.from({ length: 60 }, (_, i) => i + 1);
  assertWilcoxon(d60, { statistic: 0, p: 1.6295557943119345e-11, n: 60, method: "approx" }, "60");
  // Two zeros: dropped, and scipy switches to the normal approximation (it warns).
  assertWilcoxon(
    [0, 1.5, -0.3, 2.2, 0, 0.7, -1.1, 3.4, 0.05, -2.6, 1.9, 0.45],
    { statistic: 16, p: 0.24112136827741826, n: 10, method: "approx" },
    "zeros",
  );
  // Zeros and ties: the tie correction of the variance.
  assertWilcoxon(
    [0, 1, 2, 2, -3, 3, 0, 3, 4, -1, 5, 6, 2, 7],
    { statistic: 8.5, p: 0.01635291762935625, n: 12, method: "approx" },
    "zeros and ties",
  );
});

Deno.test("wilcoxonSignedRank: ties without zeros use the approximation (where scipy 1.10 does not)", () => {
  // scipy 1.10.1's default here is its exact distribution evaluated at int(r_plus), the
  // truncated rank sum: wilcoxon(d).pvalue is 0.01611328125 for d and 0.01220703125 for -d,
  // two p-values for one question (fixed in later scipy, gh-19872). blend uses the normal
  // approximation with the tie correction, the same for d and -d:
  //   wilcoxon(d, method="approx") -> 8.5 0.01635291762935625
  const d = [1, 2, 2, -3, 3, 3, 4, -1, 5, 6, 2, 7];
  const expected = { statistic: 8.5, p: 0.01635291762935625, n: 12, method: "approx" as const };
  assertWilcoxon(d, expected, "ties");
  assertWilcoxon(d.map((v) => -v), expected, "ties, negated");
});

Deno.test("wilcoxonSignedRank: no non-zero difference gives p = 1; non-finite input throws", () => {
  const none = { statistic: 0, p: 1, n: 0, method: "exact" };
  assert.deepEqual(wilcoxonSignedRank([0, 0, 0]), none);
  assert.deepEqual(wilcoxonSignedRank([]), none);
  for (const [bad, text] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
    assert.throws(
      () => wilcoxonSignedRank([1, 2, bad as number]),
      (e: unknown) =>
        e instanceof ArgumentError &&
        e.message.includes(`differences[2] is ${text}; expected a finite number`),
    );
  }
});
