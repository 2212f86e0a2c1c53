/**
 * `Array3`: a trials x time x channels block of numbers in one typed array, row-major
 * (channels fastest). Everything that crosses a module boundary is one of these, so data,
 * metrics and figures never need tensors.
 * @module
 */

import { ArgumentError, describe } from "./errors.ts";

/** The typed arrays an `Array3` may hold. */
export type FloatArray = Float32Array | Float64Array;

/** Shape of an `Array3`: `[trials, time, channels]`. */
export type Shape3 = [trials: number, time: number, channels: number];

/** A trials x time x channels array, row-major with channels fastest. */
export interface Array3<T extends FloatArray = FloatArray> {
  /** The values; entry (i, t, c) is at `(i * time + t) * channels + c`. */
  data: T;
  /** `[trials, time, channels]`. */
  shape: Shape3;
}

/** Which typed array to allocate. */
export type FloatKind = "float32" | "float64";

function allocate(kind: FloatKind, length: number): FloatArray {
  return kind === "float64" ? new Float64Array(length) : new Float32Array(length);
}

/** Throw unless `shape` is three non-negative integers. */
function checkShape(shape: readonly number[], name: string): void {
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ArgumentError(
      `${name}: shape must be [trials, time, channels] of non-negative integers, got [${
        shape.join(", ")
      }]`,
    );
  }
}

/**
 * Make an `Array3`: zeros of the given kind, or wrap existing data (checked for length).
 *
 * @example
 * ```ts
 * import { array3, get3 } from "./array.ts";
 * const a = array3([2, 3, 4]);          // 2 trials, 3 bins, 4 channels of zeros
 * const b = array3([1, 1, 2], new Float64Array([5, 6]));
 * get3(b, 0, 0, 1); // 6
 * ```
 */
export function array3<T extends FloatArray = Float32Array>(
  shape: readonly [number, number, number],
  data?: T,
  kind: FloatKind = "float32",
): Array3<T> {
  checkShape(shape, "array3");
  const length = shape[0] * shape[1] * shape[2];
  const values = data ?? (allocate(kind, length) as T);
  if (values.length !== length) {
    throw new ArgumentError(
      `array3: data has ${values.length} values but shape [${shape.join(", ")}] needs ${length}`,
    );
  }
  return { data: values, shape: [shape[0], shape[1], shape[2]] };
}

/** Number of entries of an `Array3`. */
export function size3(a: Array3): number {
  return a.shape[0] * a.shape[1] * a.shape[2];
}

/** Flat index of entry (trial, time, channel). */
export function index3(a: Array3, trial: number, time: number, channel: number): number {
  return (trial * a.shape[1] + time) * a.shape[2] + channel;
}

/** The value at (trial, time, channel). */
export function get3(a: Array3, trial: number, time: number, channel: number): number {
  return a.data[index3(a, trial, time, channel)];
}

/**
 * Throw a clear error unless `value` is a well-formed `Array3` (a typed float array whose
 * length matches its shape). `name` is the field named in the message.
 */
export function assertArray3(value: unknown, name: string): asserts value is Array3 {
  const a = value as Partial<Array3> | null;
  if (a === null || typeof a !== "object" || !Array.isArray(a.shape)) {
    throw new ArgumentError(
      `${name}: expected { data, shape: [trials, time, channels] }, got ${describe(value)}`,
    );
  }
  checkShape(a.shape, name);
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array)) {
    throw new ArgumentError(
      `${name}.data: expected a Float32Array or Float64Array, got ${describe(a.data)}`,
    );
  }
  const length = a.shape[0] * a.shape[1] * a.shape[2];
  if (a.data.length !== length) {
    throw new ArgumentError(
      `${name}: data has ${a.data.length} values but shape [${a.shape.join(", ")}] needs ${length}`,
    );
  }
}

/** A new `Array3` holding the given trials, in the given order. */
export function selectTrials<T extends FloatArray>(
  a: Array3<T>,
  trials: ArrayLike<number>,
): Array3<T> {
  const [n, time, channels] = a.shape;
  const stride = time * channels;
  const out = new (a.data.constructor as { new (n: number): T })(trials.length * stride);
  for (let i = 0; i < trials.length; i++) {
    const trial = trials[i];
    if (!Number.isInteger(trial) || trial < 0 || trial >= n) {
      throw new ArgumentError(`selectTrials: trial index ${trial} is outside 0..${n - 1}`);
    }
    out.set(a.data.subarray(trial * stride, (trial + 1) * stride), i * stride);
  }
  return { data: out, shape: [trials.length, time, channels] };
}

/** A new `Array3` with bins `[start, end)` of every trial. */
export function sliceTime<T extends FloatArray>(
  a: Array3<T>,
  start: number,
  end: number,
): Array3<T> {
  const [n, time, channels] = a.shape;
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= time)
  ) {
    throw new ArgumentError(`sliceTime: need 0 <= start <= end <= ${time}, got [${start}, ${end})`);
  }
  const width = end - start;
  const out = new (a.data.constructor as { new (n: number): T })(n * width * channels);
  for (let i = 0; i < n; i++) {
    const from = (i * time + start) * channels;
    out.set(a.data.subarray(from, from + width * channels), i * width * channels);
  }
  return { data: out, shape: [n, width, channels] };
}

/**
 * Join arrays along one axis (0 trials, 1 time, 2 channels); the other two sizes must
 * agree. The result has the typed-array kind of the first input.
 */
export function concat3<T extends FloatArray>(arrays: Array3<T>[], axis: 0 | 1 | 2): Array3<T> {
  if (arrays.length === 0) throw new ArgumentError("concat3: need at least one array");
  const first = arrays[0].shape;
  for (const [k, a] of arrays.entries()) {
    for (let d = 0; d < 3; d++) {
      if (d !== axis && a.shape[d] !== first[d]) {
        throw new ArgumentError(
          `concat3 along axis ${axis}: array ${k} has shape [${a.shape.join(", ")}], ` +
            `expected size ${first[d]} on axis ${d}`,
        );
      }
    }
  }
  const shape: Shape3 = [...first];
  shape[axis] = arrays.reduce((sum, a) => sum + a.shape[axis], 0);
  const out = new (arrays[0].data.constructor as { new (n: number): T })(
    shape[0] * shape[1] * shape[2],
  );
  // Copy contiguous runs: a run is everything from the concatenated axis inward.
  const outer = axis === 0 ? 1 : axis === 1 ? first[0] : first[0] * first[1];
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const a of arrays) {
      const run = axis === 0 ? a.data.length : axis === 1 ? a.shape[1] * a.shape[2] : a.shape[2];
      out.set(a.data.subarray(o * run, (o + 1) * run), offset);
      offset += run;
    }
  }
  return { data: out, shape };
}

/** Per-channel mean over trials and time, skipping NaN entries (NaN if a channel has none). */
export function channelMeans(a: Array3): Float64Array {
  const channels = a.shape[2];
  const sums = new Float64Array(channels);
  const counts = new Float64Array(channels);
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i];
    if (!Number.isNaN(v)) {
      sums[i % channels] += v;
      counts[i % channels]++;
    }
  }
  for (let c = 0; c < channels; c++) sums[c] = counts[c] > 0 ? sums[c] / counts[c] : NaN;
  return sums;
}

/** Mean over trials for every (time, channel): a `[1, time, channels]` array, NaN-skipping. */
export function trialMean(a: Array3, trials?: ArrayLike<number>): Array3<Float64Array> {
  const [n, time, channels] = a.shape;
  const stride = time * channels;
  const sums = new Float64Array(stride);
  const counts = new Float64Array(stride);
  const chosen = trials ?? Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < chosen.length; k++) {
    const trial = chosen[k];
    if (!Number.isInteger(trial) || trial < 0 || trial >= n) {
      throw new ArgumentError(`trialMean: trial index ${trial} is outside 0..${n - 1}`);
    }
    const base = trial * stride;
    for (let j = 0; j < stride; j++) {
      const v = a.data[base + j];
      if (!Number.isNaN(v)) (sums[j] += v, counts[j]++);
    }
  }
  for (let j = 0; j < stride; j++) sums[j] = counts[j] > 0 ? sums[j] / counts[j] : NaN;
  return { data: sums, shape: [1, time, channels] };
}
