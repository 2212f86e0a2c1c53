/**
 * Argument checks shared by the figure modules. Each throws an `ArgumentError` whose message
 * starts with the figure function's name (`fn`) and names the field, what it must be and
 * what it got.
 *
 * Two kinds of input: the typed arrays (`Array3`, condition ids, indices) of the neural
 * figures (`raster.ts`, `rates.ts`, `psth.ts`, `latents.ts`, `decoding.ts`), and the row
 * records of the summary figures (`comparison.ts`, `curves.ts`), where a `value` of null
 * marks an absent value and NaN is an error. Not part of the public API.
 * @module
 */

import { type Array3, assertArray3 } from "../array.ts";
import { ArgumentError, describe } from "../errors.ts";

// ---------------------------------------------------------------------------------------
// Typed-array inputs (neural figures)

/** The figure's single argument must be an options object. */
export function checkInput(fn: string, input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ArgumentError(`${fn}: expects one options object, got ${describe(input)}`);
  }
  return input as Record<string, unknown>;
}

/** `value` must be an `Array3` (`{ data, shape: [trials, time, channels] }`). */
export function checkArray(fn: string, name: string, value: unknown): asserts value is Array3 {
  if (value === undefined) {
    throw new ArgumentError(
      `${fn}: ${name} is missing; pass an Array3 { data, shape: [trials, time, channels] }`,
    );
  }
  try {
    assertArray3(value, name);
  } catch (error) {
    if (error instanceof ArgumentError) throw new ArgumentError(`${fn}: ${error.message}`);
    throw error;
  }
}

/** A shape as `[a, b, c]`, for messages. */
export function shapeText(a: Array3): string {
  return `[${a.shape.join(", ")}]`;
}

/** `a` must have the shape of `ref`. */
export function checkSameShape(
  fn: string,
  name: string,
  a: Array3,
  refName: string,
  ref: Array3,
): void {
  if (a.shape.some((n, i) => n !== ref.shape[i])) {
    throw new ArgumentError(
      `${fn}: ${name} has shape ${shapeText(a)} but ${refName} has ${shapeText(ref)}`,
    );
  }
}

/** `a` must have at least one trial, bin and channel. */
export function checkNotEmpty(fn: string, name: string, a: Array3): void {
  if (a.shape.some((n) => n === 0)) {
    throw new ArgumentError(
      `${fn}: ${name} has shape ${shapeText(a)}; it needs at least one trial, bin and channel`,
    );
  }
}

/**
 * Throw at the first value that is not finite (NaN passes when `allowNaN`) or, with
 * `nonNegative`, below 0; the message names the trial, bin and channel.
 */
export function checkValues(
  fn: string,
  name: string,
  a: Array3,
  rule: { nonNegative?: boolean; allowNaN?: boolean; what: string },
): void {
  const { data } = a;
  const [, time, channels] = a.shape;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const ok = Number.isFinite(v)
      ? !(rule.nonNegative && v < 0)
      : rule.allowNaN === true && Number.isNaN(v);
    if (!ok) {
      const c = i % channels, t = Math.floor(i / channels) % time;
      const trial = Math.floor(i / (channels * time));
      throw new ArgumentError(
        `${fn}: ${name} has ${v} at trial ${trial}, bin ${t}, channel ${c}; ${rule.what}`,
      );
    }
  }
}

/** A positive, finite number (a bin width, a smoothing width, ...). */
export function checkPositive(fn: string, name: string, value: unknown, unit: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ArgumentError(
      `${fn}: ${name} must be a positive number of ${unit}, got ${describe(value)}`,
    );
  }
  return value;
}

/** A non-empty list of distinct integer indices below `size`, at most `max` of them. */
export function checkIndexList(
  fn: string,
  name: string,
  value: unknown,
  size: number,
  what: string,
  max = Infinity,
): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ArgumentError(
      `${fn}: ${name} must be a non-empty array of ${what} indices, got ${describe(value)}`,
    );
  }
  if (value.length > max) {
    throw new ArgumentError(
      `${fn}: ${name} has ${value.length} entries, but at most ${max} fit in one figure`,
    );
  }
  const seen = new Set<number>();
  value.forEach((v, k) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= size) {
      throw new ArgumentError(
        `${fn}: ${name}[${k}] is ${describe(v)}, but there are ${size} ${what} (indices 0 to ${
          size - 1
        })`,
      );
    }
    if (seen.has(v)) throw new ArgumentError(`${fn}: ${name} lists ${what} index ${v} twice`);
    seen.add(v);
  });
  return value as number[];
}

/** One condition id per trial of `refName`, as an `Int32Array`. */
export function checkCondition(
  fn: string,
  condition: unknown,
  refName: string,
  trials: number,
): Int32Array {
  if (!(condition instanceof Int32Array)) {
    throw new ArgumentError(
      `${fn}: condition must be an Int32Array with one condition id per trial, got ${
        describe(condition)
      }`,
    );
  }
  if (condition.length !== trials) {
    throw new ArgumentError(
      `${fn}: condition has ${condition.length} entries but ${refName} has ${trials} trials`,
    );
  }
  return condition;
}

/** The conditions to draw: `requested` (each must occur), else every id present, ascending. */
export function chooseConditions(fn: string, condition: Int32Array, requested: unknown): number[] {
  const present = [...new Set(condition)].sort((a, b) => a - b);
  if (requested === undefined) return present;
  if (!Array.isArray(requested) || requested.length === 0) {
    throw new ArgumentError(
      `${fn}: conditions must be a non-empty array of condition ids, got ${describe(requested)}`,
    );
  }
  const seen = new Set<number>();
  for (const [k, id] of requested.entries()) {
    if (!present.includes(id)) {
      throw new ArgumentError(
        `${fn}: conditions[${k}] is ${describe(id)}, which no trial has (condition ids present: ${
          compactList(present)
        })`,
      );
    }
    if (seen.has(id)) throw new ArgumentError(`${fn}: conditions lists condition ${id} twice`);
    seen.add(id);
  }
  return requested as number[];
}

function compactList(values: number[]): string {
  return values.length > 12
    ? `${values.slice(0, 10).join(", ")}, ... (${values.length} in all)`
    : values.join(", ");
}

// ---------------------------------------------------------------------------------------
// Row records (comparison and curves figures)

/** `rows` must be a non-empty array. */
export function checkRowsArray(fn: string, rows: unknown): asserts rows is unknown[] {
  if (!Array.isArray(rows)) {
    throw new ArgumentError(`${fn}: rows must be an array of records, got ${describe(rows)}`);
  }
  if (rows.length === 0) throw new ArgumentError(`${fn}: rows is empty; pass at least one row`);
}

/** `rows[i]` must be a record (a plain object). */
export function checkRecord(fn: string, rows: unknown[], i: number): Record<string, unknown> {
  const row = rows[i];
  if (row === null || typeof row !== "object" || Array.isArray(row)) {
    throw new ArgumentError(`${fn}: rows[${i}] must be a record, got ${describe(row)}`);
  }
  return row as Record<string, unknown>;
}

/** `rows[i][field]` must be a non-empty string. */
export function checkName(
  fn: string,
  row: Record<string, unknown>,
  i: number,
  field: string,
): string {
  const value = row[field];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ArgumentError(
      `${fn}: rows[${i}].${field} must be a non-empty string, got ${describe(value)}`,
    );
  }
  return value;
}

/** `rows[i][field]` must be a finite number. */
export function checkFinite(
  fn: string,
  row: Record<string, unknown>,
  i: number,
  field: string,
): number {
  const value = row[field];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArgumentError(
      `${fn}: rows[${i}].${field} must be a finite number, got ${describe(value)}`,
    );
  }
  return value;
}

/** A value or null (absent); anything else, NaN included, throws. */
export function checkValue(
  fn: string,
  row: Record<string, unknown>,
  i: number,
): number | null {
  const value = row.value;
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArgumentError(
      `${fn}: rows[${i}].value must be a finite number (or null when absent), got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/** The wanted keys in order: `chosen` when given (each must occur), else `preferred` first. */
export function orderKeys(
  fn: string,
  option: string,
  present: string[],
  chosen: string[] | undefined,
  preferred: readonly string[] = [],
): string[] {
  if (chosen !== undefined) {
    if (!Array.isArray(chosen) || chosen.length === 0) {
      throw new ArgumentError(
        `${fn}: ${option} must be a non-empty array, got ${describe(chosen)}`,
      );
    }
    for (const key of chosen) {
      if (!present.includes(key)) {
        throw new ArgumentError(
          `${fn}: ${option} names ${describe(key)}, which no row has (rows have ${
            present.map((p) => JSON.stringify(p)).join(", ")
          })`,
        );
      }
    }
    return [...new Set(chosen)];
  }
  const known = preferred.filter((key) => present.includes(key));
  return [...known, ...present.filter((key) => !known.includes(key))];
}

/** The distinct values, in order of first appearance. */
export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * The distinct values of `field` in the order the rows name them (null-valued rows count,
 * so the caller's order holds), keeping those that some drawn row has.
 */
export function inRowOrder<K extends string>(
  rows: readonly Record<K, unknown>[],
  drawn: readonly Record<K, unknown>[],
  field: K,
): string[] {
  const present = new Set(drawn.map((r) => r[field]));
  return unique(rows.map((r) => r[field] as string)).filter((v) => present.has(v));
}
