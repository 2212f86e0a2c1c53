import assert from "node:assert/strict";
import { ArgumentError } from "../lib/errors.ts";
import { logGamma, logspace, meanStd, signTest, summarize } from "../lib/math.ts";

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
