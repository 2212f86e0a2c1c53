import assert from "node:assert/strict";
import {
  array3,
  assertArray3,
  channelMeans,
  concat3,
  get3,
  index3,
  selectTrials,
  size3,
  sliceTime,
  trialMean,
} from "../lib/array.ts";
import { ArgumentError } from "../lib/errors.ts";

/** A [trials, time, channels] array whose entry (i, t, c) is 100 i + 10 t + c. */
function coded(trials: number, time: number, channels: number, offset = 0) {
  const data = new Float64Array(trials * time * channels);
  let k = 0;
  for (let i = 0; i < trials; i++) {
    for (let t = 0; t < time; t++) {
      for (let c = 0; c < channels; c++) data[k++] = offset + 100 * i + 10 * t + c;
    }
  }
  return array3([trials, time, channels], data);
}

function throwsArgument(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArgumentError, `expected ArgumentError, got ${e}`);
    for (const part of parts) {
      assert.ok(e.message.includes(part), `message "${e.message}" lacks "${part}"`);
    }
    return true;
  });
}

Deno.test("array3 allocates zeros of the requested kind", () => {
  const a = array3([2, 3, 4]);
  assert.ok(a.data instanceof Float32Array);
  assert.equal(a.data.length, 24);
  assert.ok(a.data.every((v) => v === 0));
  assert.deepEqual(a.shape, [2, 3, 4]);
  assert.equal(size3(a), 24);
  const b = array3([1, 2, 2], undefined, "float64");
  assert.ok(b.data instanceof Float64Array);
  assert.equal(b.data.length, 4);
  const empty = array3([0, 5, 3]);
  assert.equal(empty.data.length, 0);
});

Deno.test("array3 wraps data without copying and copies the shape", () => {
  const data = new Float64Array([5, 6]);
  const shape = [1, 1, 2] as const;
  const b = array3(shape, data);
  assert.equal(b.data, data);
  assert.equal(get3(b, 0, 0, 1), 6);
  data[1] = 9;
  assert.equal(get3(b, 0, 0, 1), 9);
  assert.notEqual(b.shape, shape as unknown);
});

Deno.test("array3 rejects a length mismatch and bad shapes", () => {
  throwsArgument(
    () => array3([2, 2, 2], new Float32Array(7)),
    "data has 7 values but shape [2, 2, 2] needs 8",
  );
  throwsArgument(() => array3([2, -1, 2]), "shape must be", "[2, -1, 2]");
  throwsArgument(() => array3([2, 1.5, 2]), "[2, 1.5, 2]");
});

Deno.test("index3/get3: row-major with channels fastest", () => {
  const a = coded(2, 3, 4);
  // (i, t, c) sits at (i * time + t) * channels + c.
  assert.equal(index3(a, 0, 0, 0), 0);
  assert.equal(index3(a, 0, 0, 1), 1);
  assert.equal(index3(a, 0, 1, 0), 4);
  assert.equal(index3(a, 1, 0, 0), 12);
  assert.equal(index3(a, 1, 2, 3), (1 * 3 + 2) * 4 + 3);
  for (let i = 0; i < 2; i++) {
    for (let t = 0; t < 3; t++) {
      for (let c = 0; c < 4; c++) assert.equal(get3(a, i, t, c), 100 * i + 10 * t + c);
    }
  }
});

Deno.test("selectTrials picks whole trials in the given order, keeping the kind", () => {
  const a = coded(3, 2, 2);
  const s = selectTrials(a, [2, 0, 2]);
  assert.deepEqual(s.shape, [3, 2, 2]);
  assert.ok(s.data instanceof Float64Array);
  assert.deepEqual(
    Array.from(s.data),
    [200, 201, 210, 211, 0, 1, 10, 11, 200, 201, 210, 211],
  );
  assert.deepEqual(selectTrials(a, []).shape, [0, 2, 2]);
  const f32 = selectTrials(array3([2, 1, 1], new Float32Array([1, 2])), new Int32Array([1]));
  assert.ok(f32.data instanceof Float32Array);
  assert.deepEqual(Array.from(f32.data), [2]);
  throwsArgument(() => selectTrials(a, [3]), "trial index 3 is outside 0..2");
  throwsArgument(() => selectTrials(a, [-1]), "trial index -1");
  throwsArgument(() => selectTrials(a, [0.5]), "trial index 0.5");
});

Deno.test("sliceTime keeps bins [start, end) of every trial", () => {
  const a = coded(2, 4, 2);
  const s = sliceTime(a, 1, 3);
  assert.deepEqual(s.shape, [2, 2, 2]);
  assert.deepEqual(Array.from(s.data), [10, 11, 20, 21, 110, 111, 120, 121]);
  assert.deepEqual(sliceTime(a, 2, 2).shape, [2, 0, 2]);
  assert.deepEqual(Array.from(sliceTime(a, 0, 4).data), Array.from(a.data));
  throwsArgument(() => sliceTime(a, 3, 2), "need 0 <= start <= end <= 4", "got [3, 2)");
  throwsArgument(() => sliceTime(a, 0, 5), "got [0, 5)");
  throwsArgument(() => sliceTime(a, -1, 2), "got [-1, 2)");
});

Deno.test("concat3 along trials", () => {
  const a = coded(1, 2, 2);
  const b = coded(2, 2, 2, 1000);
  const c = concat3([a, b], 0);
  assert.deepEqual(c.shape, [3, 2, 2]);
  assert.deepEqual(
    Array.from(c.data),
    [0, 1, 10, 11, 1000, 1001, 1010, 1011, 1100, 1101, 1110, 1111],
  );
});

Deno.test("concat3 along time", () => {
  const a = coded(2, 1, 2); // trial 0: [0, 1]; trial 1: [100, 101]
  const b = coded(2, 2, 2, 1000); // trial 0: [1000, 1001, 1010, 1011]; trial 1: +100
  const c = concat3([a, b], 1);
  assert.deepEqual(c.shape, [2, 3, 2]);
  assert.deepEqual(
    Array.from(c.data),
    [0, 1, 1000, 1001, 1010, 1011, 100, 101, 1100, 1101, 1110, 1111],
  );
  for (let i = 0; i < 2; i++) {
    assert.equal(get3(c, i, 0, 1), get3(a, i, 0, 1));
    assert.equal(get3(c, i, 2, 0), get3(b, i, 1, 0));
  }
});

Deno.test("concat3 along channels", () => {
  const a = coded(2, 2, 1);
  const b = coded(2, 2, 2, 1000);
  const c = concat3([a, b], 2);
  assert.deepEqual(c.shape, [2, 2, 3]);
  assert.deepEqual(
    Array.from(c.data),
    [
      ...[0, 1000, 1001], // trial 0, bin 0
      ...[10, 1010, 1011], // trial 0, bin 1
      ...[100, 1100, 1101], // trial 1, bin 0
      ...[110, 1110, 1111], // trial 1, bin 1
    ],
  );
});

Deno.test("concat3 of three arrays, the first's kind, and a single array", () => {
  const a = array3([1, 1, 1], new Float32Array([1]));
  const b = array3([1, 1, 2], new Float32Array([2, 3]));
  const c = array3([1, 1, 1], new Float32Array([4]));
  const out = concat3([a, b, c], 2);
  assert.ok(out.data instanceof Float32Array);
  assert.deepEqual(Array.from(out.data), [1, 2, 3, 4]);
  const one = concat3([coded(2, 2, 2)], 1);
  assert.deepEqual(Array.from(one.data), Array.from(coded(2, 2, 2).data));
});

Deno.test("concat3 rejects mismatched shapes, naming the array and axis", () => {
  const a = coded(2, 3, 4);
  throwsArgument(
    () => concat3([a, coded(2, 3, 5)], 0),
    "concat3 along axis 0: array 1 has shape [2, 3, 5], expected size 4 on axis 2",
  );
  throwsArgument(
    () => concat3([a, a, coded(1, 3, 4)], 2),
    "concat3 along axis 2: array 2 has shape [1, 3, 4], expected size 2 on axis 0",
  );
  throwsArgument(() => concat3([], 0), "need at least one array");
});

Deno.test("channelMeans averages over trials and time, skipping NaN", () => {
  // channel 0: 1, 3, 5, NaN -> 3; channel 1: NaN everywhere -> NaN; channel 2: 2, 4, 6, 8 -> 5.
  const a = array3(
    [2, 2, 3],
    new Float32Array([1, NaN, 2, 3, NaN, 4, 5, NaN, 6, NaN, NaN, 8]),
  );
  const m = channelMeans(a);
  assert.ok(m instanceof Float64Array);
  assert.equal(m[0], 3);
  assert.ok(Number.isNaN(m[1]));
  assert.equal(m[2], 5);
});

Deno.test("trialMean averages trials per (bin, channel), skipping NaN and honouring trials", () => {
  const a = array3(
    [3, 2, 1],
    new Float64Array([
      ...[1, 10], // trial 0
      ...[3, NaN], // trial 1
      ...[8, NaN], // trial 2
    ]),
  );
  const all = trialMean(a);
  assert.deepEqual(all.shape, [1, 2, 1]);
  assert.equal(all.data[0], 4); // (1 + 3 + 8) / 3
  assert.equal(all.data[1], 10); // only trial 0 is not NaN
  const some = trialMean(a, [1, 2]);
  assert.equal(some.data[0], 5.5);
  assert.ok(Number.isNaN(some.data[1]));
  assert.throws(() => trialMean(a, [0, 5]), /trialMean: trial index 5 is outside 0\.\.2/);
  assert.throws(() => trialMean(a, [-1]), /trial index -1 is outside/);
});

Deno.test("assertArray3 accepts a good array and names the field in every error", () => {
  assertArray3(coded(1, 2, 3), "rates");
  throwsArgument(() => assertArray3(null, "rates"), "rates: expected { data, shape", "got null");
  throwsArgument(
    () => assertArray3({ data: new Float32Array(2) }, "rates"),
    "rates: expected { data, shape: [trials, time, channels] }",
    "got an object",
  );
  throwsArgument(
    () => assertArray3({ data: [1, 2], shape: [1, 1, 2] }, "rates"),
    "rates.data: expected a Float32Array or Float64Array",
    "got array of length 2",
  );
  throwsArgument(
    () => assertArray3({ data: new Int32Array(2), shape: [1, 1, 2] }, "rates"),
    "rates.data",
    "Int32Array(2)",
  );
  throwsArgument(
    () => assertArray3({ data: new Float64Array(5), shape: [1, 2, 3] }, "rates"),
    "rates: data has 5 values but shape [1, 2, 3] needs 6",
  );
  throwsArgument(
    () => assertArray3({ data: new Float64Array(2), shape: [1, 2] }, "rates"),
    "rates: shape must be [trials, time, channels]",
    "got [1, 2]",
  );
});
