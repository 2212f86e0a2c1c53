import assert from "node:assert/strict";
import { ArgumentError } from "../../lib/errors.ts";
import { MODEL_KINDS } from "../../lib/models/model.ts";
import { Random } from "../../lib/random.ts";
import {
  MASKING_DEFAULTS,
  type MaskingOptions,
  maskSpikes,
  resolveMasking,
} from "../../lib/train/masking.ts";

type Shape = [number, number, number];

/** Spike counts from a closed formula of (trial, bin, neuron): small integers 0..5. */
function spikes(shape: Shape): Float32Array {
  const [batch, bins, neurons] = shape;
  const out = new Float32Array(batch * bins * neurons);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < bins; t++) {
      for (let n = 0; n < neurons; n++) {
        out[(b * bins + t) * neurons + n] = (b * 7 + t * 3 + n * 5 + ((t * n) % 4)) % 6;
      }
    }
  }
  return out;
}

/** Options with every field given (zeroing, no rescale) plus overrides. */
function options(overrides: Partial<MaskingOptions>): MaskingOptions {
  return {
    mode: "timestep",
    ratio: 0.25,
    zeroFraction: 1,
    randomFraction: 0,
    maxSpan: 1,
    rescale: false,
    ...overrides,
  };
}

/** For each trial, the bins that are masked, after checking each bin is all-or-none. */
function maskedBins(scored: Float32Array, shape: Shape): number[][] {
  const [batch, bins, neurons] = shape;
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const list: number[] = [];
    for (let t = 0; t < bins; t++) {
      const row = scored.subarray((b * bins + t) * neurons, (b * bins + t + 1) * neurons);
      const sum = row.reduce((a, v) => a + v, 0);
      assert.ok(sum === 0 || sum === neurons, `trial ${b} bin ${t} is partly masked`);
      if (sum === neurons) list.push(t);
    }
    out.push(list);
  }
  return out;
}

/** For each trial, the neurons that are masked, after checking each neuron is all-or-none. */
function maskedNeurons(scored: Float32Array, shape: Shape): number[][] {
  const [batch, bins, neurons] = shape;
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const list: number[] = [];
    for (let n = 0; n < neurons; n++) {
      let sum = 0;
      for (let t = 0; t < bins; t++) sum += scored[(b * bins + t) * neurons + n];
      assert.ok(sum === 0 || sum === bins, `trial ${b} neuron ${n} is partly masked`);
      if (sum === bins) list.push(n);
    }
    out.push(list);
  }
  return out;
}

/** Scored is 0/1; masked inputs are 0 and unmasked inputs are the original counts. */
function assertZeroed(spk: Float32Array, input: Float32Array, scored: Float32Array): void {
  for (let j = 0; j < spk.length; j++) {
    assert.ok(scored[j] === 0 || scored[j] === 1, `scored[${j}] = ${scored[j]}`);
    assert.equal(input[j], scored[j] ? 0 : spk[j], `input[${j}]`);
  }
}

Deno.test("resolveMasking fills each kind's defaults and applies overrides", () => {
  for (const kind of MODEL_KINDS) {
    assert.deepEqual(resolveMasking(kind), MASKING_DEFAULTS[kind]);
    assert.deepEqual(resolveMasking(kind, {}), MASKING_DEFAULTS[kind]);
  }
  assert.equal(MASKING_DEFAULTS.ndt.mode, "timestep");
  assert.equal(MASKING_DEFAULTS.ndt.ratio, 0.25);
  assert.equal(MASKING_DEFAULTS.ndt.rescale, false);
  assert.equal(MASKING_DEFAULTS.rnn.mode, "element");
  assert.equal(MASKING_DEFAULTS.lfads.rescale, true);
  const m = resolveMasking("ndt", { mode: "span", maxSpan: 3, ratio: 0.5 });
  assert.deepEqual(m, { ...MASKING_DEFAULTS.ndt, mode: "span", maxSpan: 3, ratio: 0.5 });
  // The result is a copy: changing it leaves the defaults alone.
  m.ratio = 0.9;
  assert.equal(MASKING_DEFAULTS.ndt.ratio, 0.25);
  // Mode none does not look at the ratio.
  assert.equal(resolveMasking("rnn", { mode: "none", ratio: 0 }).ratio, 0);
  // zeroFraction + randomFraction may be exactly 1 (BERT-like 0.8 / 0.2).
  assert.equal(
    resolveMasking("ndt", { zeroFraction: 0.8, randomFraction: 0.2 }).randomFraction,
    0.2,
  );
});

Deno.test("resolveMasking rejects bad values, naming the field", () => {
  const bad: [Partial<MaskingOptions>, RegExp][] = [
    [{ mode: "bins" as MaskingOptions["mode"] }, /masking\.mode .*"bins"/],
    [{ ratio: 0 }, /masking\.ratio/],
    [{ ratio: 1 }, /masking\.ratio/],
    [{ ratio: -0.2 }, /masking\.ratio/],
    [{ ratio: NaN }, /masking\.ratio .*NaN/],
    [{ ratio: "0.3" as unknown as number }, /masking\.ratio/],
    [{ zeroFraction: 1.5 }, /masking\.zeroFraction/],
    [{ zeroFraction: -0.1 }, /masking\.zeroFraction/],
    [{ randomFraction: 2 }, /masking\.randomFraction/],
    [{ zeroFraction: 0.8, randomFraction: 0.3 }, /zeroFraction \+ randomFraction.*0\.8 \+ 0\.3/],
    [{ maxSpan: 0 }, /masking\.maxSpan .*0/],
    [{ maxSpan: 2.5 }, /masking\.maxSpan .*2\.5/],
    [{ maxSpan: NaN }, /masking\.maxSpan/],
  ];
  for (const [overrides, message] of bad) {
    assert.throws(
      () => resolveMasking("ndt", overrides),
      (e: unknown) => e instanceof ArgumentError && message.test(e.message),
      JSON.stringify(overrides),
    );
  }
});

Deno.test("maskSpikes timestep: round(ratio * bins) whole bins per trial, zeroed", () => {
  const shape: Shape = [4, 8, 5];
  const spk = spikes(shape);
  const before = spk.slice();
  const { input, scored } = maskSpikes(spk, shape, options({ ratio: 0.25 }), new Random(1));
  assert.deepEqual(spk, before, "the input array is not mutated");
  const bins = maskedBins(scored, shape);
  for (const list of bins) assert.equal(list.length, 2); // round(0.25 * 8)
  assertZeroed(spk, input, scored);
  // Trials get their own draws (not all the same bins).
  assert.ok(new Set(bins.map((l) => l.join())).size > 1, JSON.stringify(bins));
  // A larger ratio; round(0.3 * 8) = round(2.4) = 2, round(0.45 * 8) = round(3.6) = 4.
  for (const [ratio, count] of [[0.3, 2], [0.45, 4], [0.9, 7], [0.01, 1]]) {
    const r = maskSpikes(spk, shape, options({ ratio }), new Random(2));
    for (const list of maskedBins(r.scored, shape)) {
      assert.equal(list.length, count, `ratio ${ratio}`);
    }
  }
});

Deno.test("maskSpikes neuron: round(ratio * neurons) whole neurons per trial", () => {
  const shape: Shape = [3, 6, 8];
  const spk = spikes(shape);
  const { input, scored } = maskSpikes(
    spk,
    shape,
    options({ mode: "neuron", ratio: 0.25 }),
    new Random(5),
  );
  const neurons = maskedNeurons(scored, shape);
  for (const list of neurons) assert.equal(list.length, 2);
  assertZeroed(spk, input, scored);
  // At least one neuron even for a tiny ratio.
  const tiny = maskSpikes(spk, shape, options({ mode: "neuron", ratio: 0.01 }), new Random(5));
  for (const list of maskedNeurons(tiny.scored, shape)) assert.equal(list.length, 1);
});

Deno.test("maskSpikes span: exactly round(ratio * bins) whole bins in spans", () => {
  const shape: Shape = [6, 20, 3];
  const spk = spikes(shape);
  for (const maxSpan of [1, 3, 6]) {
    for (const ratio of [0.2, 0.3, 0.5]) {
      const { input, scored } = maskSpikes(
        spk,
        shape,
        options({ mode: "span", ratio, maxSpan }),
        new Random(11 + maxSpan),
      );
      for (const list of maskedBins(scored, shape)) {
        assert.equal(list.length, Math.round(ratio * 20), `maxSpan ${maxSpan} ratio ${ratio}`);
      }
      assertZeroed(spk, input, scored);
    }
  }
  // With long spans the masked bins come in runs: fewer runs than bins on average.
  const long = maskSpikes(
    spk,
    shape,
    options({ mode: "span", ratio: 0.5, maxSpan: 6 }),
    new Random(4),
  );
  let runs = 0, total = 0;
  for (const list of maskedBins(long.scored, shape)) {
    total += list.length;
    runs += list.filter((t, i) => i === 0 || list[i - 1] !== t - 1).length;
  }
  assert.ok(runs < 0.6 * total, `${runs} runs over ${total} bins`);
});

Deno.test("maskSpikes element: the masked fraction is near ratio (binomial)", () => {
  const shape: Shape = [4, 50, 50];
  const spk = spikes(shape);
  const n = spk.length;
  for (const ratio of [0.1, 0.3, 0.6]) {
    const { input, scored } = maskSpikes(
      spk,
      shape,
      options({ mode: "element", ratio }),
      new Random(21),
    );
    const count = scored.reduce((a, v) => a + v, 0);
    const sd = Math.sqrt(n * ratio * (1 - ratio));
    assert.ok(Math.abs(count - n * ratio) < 5 * sd, `ratio ${ratio}: ${count} of ${n}`);
    assertZeroed(spk, input, scored);
  }
});

Deno.test("maskSpikes none: scores everything, input unchanged even with rescale", () => {
  const shape: Shape = [2, 5, 4];
  const spk = spikes(shape);
  const rng = new Random(3);
  const { input, scored } = maskSpikes(
    spk,
    shape,
    options({ mode: "none", ratio: 0.5, rescale: true }),
    rng,
  );
  assert.deepEqual(input, spk);
  assert.notEqual(input, spk, "a copy, not the caller's array");
  assert.deepEqual(scored, new Float32Array(spk.length).fill(1));
  // No random numbers are drawn.
  assert.equal(rng.nextUint32(), new Random(3).nextUint32());
});

Deno.test("maskSpikes random replacement: integer counts within [0, max count]", () => {
  const shape: Shape = [4, 30, 20];
  const spk = spikes(shape);
  const maxCount = Math.max(...spk);
  assert.equal(maxCount, 5);
  const { input, scored } = maskSpikes(
    spk,
    shape,
    options({ mode: "element", ratio: 0.5, zeroFraction: 0, randomFraction: 1 }),
    new Random(8),
  );
  const seen = new Set<number>();
  let changed = 0, masked = 0;
  for (let j = 0; j < spk.length; j++) {
    if (!scored[j]) {
      assert.equal(input[j], spk[j]);
      continue;
    }
    masked++;
    assert.ok(Number.isInteger(input[j]) && input[j] >= 0 && input[j] <= maxCount, `${input[j]}`);
    seen.add(input[j]);
    if (input[j] !== spk[j]) changed++;
  }
  // Every value 0..max turns up, and most replacements differ from the true count.
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
  assert.ok(changed > 0.6 * masked, `${changed} of ${masked} changed`);
});

Deno.test("maskSpikes keep and mixed recipes: kept entries are still scored", () => {
  const shape: Shape = [4, 40, 25];
  const spk = spikes(shape);
  // zeroFraction 0, randomFraction 0: every masked entry keeps its value but is scored.
  const kept = maskSpikes(
    spk,
    shape,
    options({ mode: "element", ratio: 0.4, zeroFraction: 0, randomFraction: 0 }),
    new Random(9),
  );
  assert.deepEqual(kept.input, spk);
  assert.ok(kept.scored.reduce((a, v) => a + v, 0) > 0);
  // BERT's 80/10/10: about 80% of masked entries become 0 (plus random draws that hit 0 and
  // true zeros kept); entries whose true count is nonzero and stay unchanged are ~10%+.
  const { input, scored } = maskSpikes(
    spk,
    shape,
    options({ mode: "element", ratio: 0.5, zeroFraction: 0.8, randomFraction: 0.1 }),
    new Random(10),
  );
  let masked = 0, zero = 0;
  for (let j = 0; j < spk.length; j++) {
    if (!scored[j]) {
      assert.equal(input[j], spk[j]);
      continue;
    }
    masked++;
    assert.ok(Number.isInteger(input[j]) && input[j] >= 0 && input[j] <= 5);
    if (input[j] === 0) zero++;
  }
  // P(input 0 | masked) = 0.8 + 0.1 / 6 + 0.1 * P(count 0); bounded by [0.8, 0.92].
  const fraction = zero / masked;
  const sd = Math.sqrt(0.2 / masked);
  assert.ok(fraction > 0.8 - 5 * sd && fraction < 0.92 + 5 * sd, `${fraction}`);
});

Deno.test("maskSpikes rescale multiplies unmasked inputs by 1 / (1 - ratio)", () => {
  const shape: Shape = [3, 10, 6];
  const spk = spikes(shape);
  for (const mode of ["element", "timestep"] as const) {
    const { input, scored } = maskSpikes(
      spk,
      shape,
      options({ mode, ratio: 0.3, rescale: true }),
      new Random(12),
    );
    let unmasked = 0;
    for (let j = 0; j < spk.length; j++) {
      if (scored[j]) assert.equal(input[j], 0);
      else {
        unmasked++;
        assert.equal(input[j], Math.fround(spk[j] * (1 / 0.7)), `${mode} entry ${j}`);
      }
    }
    assert.ok(unmasked > 0);
  }
});

Deno.test("maskSpikes: same seed gives the same mask, another seed another", () => {
  const shape: Shape = [3, 12, 7];
  const spk = spikes(shape);
  for (const mode of ["timestep", "neuron", "span", "element"] as const) {
    const o = options({ mode, ratio: 0.3, maxSpan: 3, zeroFraction: 0.5, randomFraction: 0.3 });
    const a = maskSpikes(spk, shape, o, new Random(77));
    const b = maskSpikes(spk, shape, o, new Random(77));
    const c = maskSpikes(spk, shape, o, new Random(78));
    assert.deepEqual(a.scored, b.scored, mode);
    assert.deepEqual(a.input, b.input, mode);
    assert.notDeepEqual(a.scored, c.scored, mode);
  }
});

Deno.test("maskSpikes never mutates its input", () => {
  const shape: Shape = [2, 8, 4];
  const spk = spikes(shape);
  const before = spk.slice();
  for (const mode of ["timestep", "neuron", "span", "element", "none"] as const) {
    const o = options({ mode, ratio: 0.5, rescale: true, zeroFraction: 0.5, randomFraction: 0.5 });
    const r = maskSpikes(spk, shape, o, new Random(1));
    assert.equal(r.input.length, spk.length);
    assert.equal(r.scored.length, spk.length);
    assert.deepEqual(spk, before, mode);
  }
});

Deno.test("NDT's default masking is BERT's: of the chosen bins 80% zeroed, 10% random, 10% kept, all scored", () => {
  const m = resolveMasking("ndt");
  assert.deepEqual([m.mode, m.ratio, m.zeroFraction, m.randomFraction], [
    "timestep",
    0.25,
    0.8,
    0.1,
  ]);
  // Every count is 5 except one 9, so a random replacement is uniform on 0..9: it lands on
  // 0 with probability 1/10 and on 5 with 1/10.
  const shape: Shape = [200, 40, 25];
  const counts = new Float32Array(200 * 40 * 25).fill(5);
  counts[0] = 9;
  const { input, scored } = maskSpikes(counts, shape, m, new Random(11));
  let chosen = 0, zero = 0, kept = 0, other = 0;
  for (let j = 1; j < counts.length; j++) {
    if (!scored[j]) {
      assert.equal(input[j], 5, "bins that were not chosen are untouched");
      continue;
    }
    chosen++;
    if (input[j] === 0) zero++;
    else if (input[j] === 5) kept++;
    else other++;
  }
  assert.equal(chosen + scored[0], 200 * 10 * 25, "10 of 40 bins in every trial, every neuron");
  const expected = { zero: 0.8 + 0.1 / 10, kept: 0.1 + 0.1 / 10, other: 0.1 * 8 / 10 };
  for (
    const [name, n, p] of [["zero", zero, expected.zero], ["kept", kept, expected.kept], [
      "other",
      other,
      expected.other,
    ]] as const
  ) {
    const sd = Math.sqrt(p * (1 - p) / chosen);
    assert.ok(Math.abs(n / chosen - p) < 5 * sd, `${name}: ${(n / chosen).toFixed(4)} vs ${p}`);
  }
});
