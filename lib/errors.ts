/**
 * Error types. Messages name the field, the expected and the actual value, so a user can
 * act on them without reading the source.
 * @module
 */

/** Base class of every error blend throws on purpose. */
export class BlendError extends Error {
  /** An error whose `name` is its class name, so logs show which kind it is. */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A dataset (or one of its arrays) is malformed. */
export class DatasetError extends BlendError {}

/** A compute backend was asked for and cannot start. */
export class BackendError extends BlendError {}

/** An argument is outside what a function accepts. */
export class ArgumentError extends BlendError {}

/** Describe a value briefly for an error message (`NaN`, `-1`, `"foo"`, `Float32Array(12)`). */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  }
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** A checkpoint on disk is missing, corrupt, or does not fit the model it is loaded into. */
export class CheckpointError extends BlendError {}

/** Training cannot go on (for example the loss became NaN or infinite). */
export class TrainingError extends BlendError {}
