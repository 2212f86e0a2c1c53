import assert from "node:assert/strict";
import { ArgumentError } from "../lib/errors.ts";
import { deriveSeed, Random } from "../lib/random.ts";

// Reference streams from an independent Python port of lib/random.ts (SplitMix32 seeding of
// SFC32, d = 1, 12 discarded outputs; a seed is folded as (seed mod 2^32) XOR
// splitmix32(floor(seed / 2^32) mod 2^32)). Any platform must reproduce them bit for bit.
const STREAMS: [number, number[]][] = [
  [0, [
    1421848991,
    1901774864,
    3131169354,
    3571628895,
    1572964594,
    3336372631,
    372657847,
    4159020144,
  ]],
  [1, [
    3959668995,
    445940239,
    455982388,
    1466871824,
    1587070791,
    710941225,
    1344862009,
    3255004832,
  ]],
  [42, [
    1748179374,
    3374724222,
    1736166376,
    4119033619,
    3306266353,
    4199313754,
    2900262854,
    1188028753,
  ]],
  [
    2 ** 40 + 5,
    [3126195861, 3809544737, 4046734858, 3043777434, 304944107, 2183555061, 4139014182, 3426231438],
  ],
  [-3, [
    684364854,
    488048691,
    30632219,
    3977673861,
    2073658887,
    2566118660,
    1884778206,
    3086036552,
  ]],
];

/** Sample mean and (population) variance. */
function moments(values: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, variance: squares / values.length };
}

function draws(n: number, draw: () => number): Float64Array {
  return Float64Array.from({ length: n }, draw);
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

Deno.test("nextUint32 reproduces the reference stream for seeds 0, 1, 42, 2^40+5 and -3", () => {
  for (const [seed, expected] of STREAMS) {
    const rng = new Random(seed);
    const got = Array.from({ length: 8 }, () => rng.nextUint32());
    assert.deepEqual(got, expected, `seed ${seed}`);
  }
});

Deno.test("seeds that differ only above bit 32 give different streams", () => {
  const low = new Random(5).nextUint32();
  const high = new Random(2 ** 40 + 5).nextUint32();
  assert.notEqual(low, high);
  assert.equal(high, STREAMS[3][1][0]);
});

Deno.test("deriveSeed matches the reference and folds the label in", () => {
  assert.equal(deriveSeed(7, "spikes"), 1531530379);
  assert.equal(deriveSeed(7, 3), 2619492478);
  // A numeric label is its decimal string.
  assert.equal(deriveSeed(7, "3"), deriveSeed(7, 3));
  assert.notEqual(deriveSeed(7, "spikes"), deriveSeed(8, "spikes"));
  assert.notEqual(deriveSeed(7, "spikes"), deriveSeed(7, "latents"));
  const seed = deriveSeed(7, "spikes");
  assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
});

Deno.test("uniform is nextUint32 / 2^32 and matches the reference values", () => {
  const rng = new Random(9);
  // Python port: the first three outputs of seed 9 times 2^-32.
  assert.equal(rng.uniform(), 0.17831034236587584);
  assert.equal(rng.uniform(), 0.41084190108813345);
  assert.equal(rng.uniform(), 0.3546618844848126);
  const a = new Random(123), b = new Random(123);
  for (let i = 0; i < 100; i++) assert.equal(a.uniform(), b.nextUint32() / 2 ** 32);
});

Deno.test("uniform lies in [0, 1) with mean 1/2 and variance 1/12", () => {
  const n = 100_000;
  const rng = new Random(2024);
  const u = draws(n, () => rng.uniform());
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const { mean, variance } = moments(u);
  // s.e. of the mean: sqrt(1/12 / n); of the variance: sqrt((1/80 - 1/144) / n).
  assertClose(mean, 0.5, 5 * Math.sqrt(1 / 12 / n), "uniform mean");
  assertClose(variance, 1 / 12, 5 * Math.sqrt((1 / 80 - 1 / 144) / n), "uniform variance");
});

Deno.test("uniformRange maps the same draw onto [low, high)", () => {
  const a = new Random(77), b = new Random(77);
  for (let i = 0; i < 50; i++) {
    const v = a.uniformRange(-2, 3);
    assert.equal(v, -2 + 5 * b.uniform());
    assert.ok(v >= -2 && v < 3);
  }
});

Deno.test("normal is Box-Muller on consecutive uniforms, pairs kept in order", () => {
  const a = new Random(5), b = new Random(5);
  for (let pair = 0; pair < 20; pair++) {
    const u1 = 1 - b.uniform();
    const u2 = b.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    assertClose(a.normal(), radius * Math.cos(2 * Math.PI * u2), 1e-15, "first of pair");
    assertClose(a.normal(3, 2), 3 + 2 * radius * Math.sin(2 * Math.PI * u2), 1e-14, "second");
  }
});

Deno.test("normal has mean 0 and sd 1, and mean/sd arguments shift and scale", () => {
  const n = 100_000;
  const rng = new Random(11);
  const z = draws(n, () => rng.normal());
  const { mean, variance } = moments(z);
  assertClose(mean, 0, 5 / Math.sqrt(n), "normal mean");
  // s.e. of the sample variance of a normal: sqrt(2 / n).
  assertClose(variance, 1, 5 * Math.sqrt(2 / n), "normal variance");
  const shifted = new Random(11);
  const x = draws(n, () => shifted.normal(10, 3));
  for (let i = 0; i < 100; i++) assertClose(x[i], 10 + 3 * z[i], 1e-12, "scaled draw");
});

Deno.test("poisson mean and variance equal lambda on both branches", () => {
  const n = 100_000;
  for (const lambda of [0.05, 3, 11.9, 12, 50, 500]) {
    const rng = new Random(deriveSeed(31, lambda));
    const k = draws(n, () => rng.poisson(lambda));
    assert.ok(k.every((v) => Number.isInteger(v) && v >= 0), `integers for ${lambda}`);
    const { mean, variance } = moments(k);
    // Poisson: Var(mean) = lambda / n; Var(sample variance) ~ (lambda + 2 lambda^2) / n.
    assertClose(mean, lambda, 5 * Math.sqrt(lambda / n), `poisson(${lambda}) mean`);
    assertClose(
      variance,
      lambda,
      5 * Math.sqrt((lambda + 2 * lambda * lambda) / n),
      `poisson(${lambda}) variance`,
    );
  }
});

Deno.test("poisson frequencies match the probability mass function", () => {
  const n = 60_000;
  for (const lambda of [0.05, 3, 12, 50]) {
    const rng = new Random(deriveSeed(4, lambda));
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = rng.poisson(lambda);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // pmf by the recursion p(k) = p(k - 1) * lambda / k, independent of lib/math.ts.
    let p = Math.exp(-lambda);
    for (let k = 0; k <= Math.ceil(lambda + 3 * Math.sqrt(lambda)); k++) {
      if (k > 0) p *= lambda / k;
      const frequency = (counts.get(k) ?? 0) / n;
      const se = Math.sqrt(p * (1 - p) / n);
      assertClose(frequency, p, 5 * se + 1e-9, `P(X = ${k}) for lambda ${lambda}`);
    }
  }
});

Deno.test("poisson(0) is always 0 and consumes no draws", () => {
  const a = new Random(8), b = new Random(8);
  for (let i = 0; i < 100; i++) assert.equal(a.poisson(0), 0);
  assert.equal(a.nextUint32(), b.nextUint32());
});

Deno.test("poisson rejects bad means with a message naming the value", () => {
  const rng = new Random(1);
  for (const [lambda, text] of [[-1, "-1"], [Infinity, "Infinity"], [NaN, "NaN"]] as const) {
    assert.throws(
      () => rng.poisson(lambda),
      (e: unknown) => e instanceof ArgumentError && e.message.includes(`got ${text}`),
      `lambda ${lambda}`,
    );
  }
});

Deno.test("int(n) covers [0, n) uniformly and never leaves it", () => {
  const n = 7, total = 70_000;
  const rng = new Random(99);
  const counts = new Array(n).fill(0);
  for (let i = 0; i < total; i++) {
    const k = rng.int(n);
    assert.ok(Number.isInteger(k) && k >= 0 && k < n, `int(7) gave ${k}`);
    counts[k]++;
  }
  const se = Math.sqrt(total * (1 / n) * (1 - 1 / n));
  for (const c of counts) assertClose(c, total / n, 5 * se, "int(7) count");
  const one = new Random(3);
  for (let i = 0; i < 20; i++) assert.equal(one.int(1), 0);
  const big = new Random(3);
  for (let i = 0; i < 20; i++) {
    const k = big.int(2 ** 32);
    assert.ok(k >= 0 && k < 2 ** 32);
  }
});

Deno.test("int(n) matches the reference rejection sampler", () => {
  const rng = new Random(9);
  // Python port (limit = 2^32 - 2^32 mod n, redraw above it, then x mod n).
  assert.deepEqual(Array.from({ length: 6 }, () => rng.int(1000)), [89, 529, 195, 975, 534, 165]);
});

Deno.test("int rejects n outside [1, 2^32] or non-integers", () => {
  const rng = new Random(1);
  for (const n of [0, -1, 1.5, 2 ** 32 + 1, NaN]) {
    assert.throws(
      () => rng.int(n),
      (e: unknown) => e instanceof ArgumentError && e.message.includes(`got ${n}`),
    );
  }
});

Deno.test("permutation is a permutation, deterministic by seed, and matches the reference", () => {
  const p = new Random(42).permutation(10);
  assert.ok(p instanceof Int32Array);
  // Python port of Fisher-Yates with int(i + 1), i from n - 1 down to 1.
  assert.deepEqual(Array.from(p), [3, 7, 5, 2, 9, 6, 1, 8, 0, 4]);
  const big = new Random(5).permutation(50);
  assert.deepEqual(Array.from(big).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(new Random(5).permutation(50), big);
  assert.notDeepEqual(new Random(6).permutation(50), big);
  assert.deepEqual(Array.from(new Random(5).permutation(0)), []);
  assert.deepEqual(Array.from(new Random(5).permutation(1)), [0]);
});

Deno.test("shuffle permutes in place and every order of 3 items is equally likely", () => {
  const items = ["a", "b", "c", "d", "e"];
  const out = new Random(12).shuffle(items);
  assert.equal(out, items);
  assert.deepEqual([...items].sort(), ["a", "b", "c", "d", "e"]);
  const again = new Random(12).shuffle(["a", "b", "c", "d", "e"]);
  assert.deepEqual(again, items);

  const rng = new Random(2);
  const counts = new Map<string, number>();
  const n = 60_000;
  for (let i = 0; i < n; i++) {
    const key = rng.shuffle([0, 1, 2]).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  const se = Math.sqrt(n * (1 / 6) * (5 / 6));
  for (const c of counts.values()) assertClose(c, n / 6, 5 * se, "order count");
});

Deno.test("bad seeds throw with a message naming the seed", () => {
  for (const [seed, text] of [[1.5, "1.5"], [NaN, "NaN"], [2 ** 53, String(2 ** 53)]] as const) {
    const named = (e: unknown) => e instanceof ArgumentError && e.message.includes(`got ${text}`);
    assert.throws(() => new Random(seed), named, `Random(${seed})`);
    assert.throws(() => deriveSeed(seed, "x"), named, `deriveSeed(${seed})`);
  }
});

Deno.test("fillBernoulli draws the stream uniform() draws, then continues it", () => {
  const loop = new Random(11), filled = new Random(11);
  const expected = Float32Array.from({ length: 1000 }, () => (loop.uniform() < 0.8 ? 1.25 : 0));
  const mask = filled.fillBernoulli(new Float32Array(1000), 0.8, 1.25);
  assert.deepEqual(Array.from(mask), Array.from(expected));
  assert.ok(mask.every((v) => !Object.is(v, -0)), "zeros are +0");
  assert.equal(filled.nextUint32(), loop.nextUint32(), "the stream goes on where it stopped");
  const kept = mask.filter((v) => v !== 0).length;
  assert.ok(kept > 760 && kept < 840, `about 80% kept, got ${kept}`);
  assert.ok(new Random(1).fillBernoulli(new Float32Array(50), 1, 2).every((v) => v === 2));
  assert.ok(new Random(1).fillBernoulli(new Float32Array(50), 0, 2).every((v) => v === 0));
  assert.throws(
    () => new Random(1).fillBernoulli(new Float32Array(2), 1.5, 1),
    /probability must be in \[0, 1\], got 1.5/,
  );
  assert.throws(() => new Random(1).fillBernoulli(new Float32Array(2), NaN, 1), /got NaN/);
});
