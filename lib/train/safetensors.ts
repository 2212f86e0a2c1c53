/**
 * The safetensors file format (https://github.com/huggingface/safetensors), written from
 * its specification, without TensorFlow.js:
 *
 * - 8 bytes: N, the header's length, an unsigned 64-bit little-endian integer;
 * - N bytes: the header, UTF-8 JSON: `{"name": {"dtype": "F32", "shape": [2, 3],
 *   "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}}`;
 * - the data: every tensor's bytes, row-major and little-endian, at `[begin, end)`
 *   relative to the data's start. The tensors cover the data exactly: no gap, no overlap,
 *   nothing after the last one.
 *
 * Supported dtypes and the arrays that hold them:
 *
 * | dtype | array          | note                                                        |
 * | ----- | -------------- | ----------------------------------------------------------- |
 * | F64   | `Float64Array` |                                                             |
 * | F32   | `Float32Array` |                                                             |
 * | F16   | `Uint16Array`  | the raw IEEE half-precision bits; `float16ToFloat32` widens |
 * | I64   | `BigInt64Array`| exact 64-bit integers (bigint), never rounded to `number`   |
 * | I32   | `Int32Array`   |                                                             |
 * | I8    | `Int8Array`    |                                                             |
 * | U8    | `Uint8Array`   |                                                             |
 *
 * Other dtypes (BF16, BOOL, U16, U32, U64, I16, the F8 kinds) are refused with a
 * `CheckpointError` that says so.
 *
 * Written files match the reference implementation (the Rust crate behind the Python
 * `safetensors` package) byte for byte when there is at most one metadata entry: the
 * header is compact JSON with `__metadata__` first, tensors are laid out by dtype, widest
 * first (so each tensor starts aligned to its element size), then by name (byte order of
 * the UTF-8), and the header is padded with spaces so the data starts 8-byte aligned. The
 * reference writes metadata in hash order; this module sorts its keys.
 * @module
 */

import { CheckpointError, describe } from "../errors.ts";

/** The element types this module reads and writes. */
export type SafetensorsDtype = "F64" | "F32" | "F16" | "I64" | "I32" | "I8" | "U8";

/** The typed array that holds each dtype's values. */
export interface SafetensorsArrays {
  /** 64-bit floats. */
  F64: Float64Array;
  /** 32-bit floats. */
  F32: Float32Array;
  /** Half-precision floats as their raw 16-bit patterns. */
  F16: Uint16Array;
  /** 64-bit signed integers. */
  I64: BigInt64Array;
  /** 32-bit signed integers. */
  I32: Int32Array;
  /** 8-bit signed integers. */
  I8: Int8Array;
  /** 8-bit unsigned integers. */
  U8: Uint8Array;
}

/** Any array a `NamedTensor` may hold. */
export type SafetensorsData = SafetensorsArrays[SafetensorsDtype];

/** One tensor of a safetensors file: its dtype, its shape, its values in row-major order. */
export interface NamedTensor {
  /** The element type; `data` must be the matching array (see `SafetensorsArrays`). */
  dtype: SafetensorsDtype;
  /** Dimensions; `[]` for a scalar. The product of the dimensions is `data.length`. */
  shape: number[];
  /** The values, row-major. */
  data: SafetensorsData;
}

/** What `decodeSafetensors` returns. */
export interface DecodedSafetensors {
  /** Every tensor by name, in the order of the data. */
  tensors: Map<string, NamedTensor>;
  /** The `__metadata__` map; `{}` when the file has none. */
  metadata: Record<string, string>;
}

interface DtypeInfo {
  size: number;
  /** Rank in the reference implementation's dtype order (it lays out the highest first). */
  rank: number;
  array: { new (buffer: ArrayBuffer): SafetensorsData; name: string };
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  U8: { size: 1, rank: 0, array: Uint8Array },
  I8: { size: 1, rank: 1, array: Int8Array },
  F16: { size: 2, rank: 2, array: Uint16Array },
  I32: { size: 4, rank: 3, array: Int32Array },
  F32: { size: 4, rank: 4, array: Float32Array },
  F64: { size: 8, rank: 5, array: Float64Array },
  I64: { size: 8, rank: 6, array: BigInt64Array },
};

/** Every dtype this module supports. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = [
  "F64",
  "F32",
  "F16",
  "I64",
  "I32",
  "I8",
  "U8",
];

/** Dtypes of the format that this module knows of but does not support. */
const KNOWN_UNSUPPORTED = [
  "BOOL",
  "BF16",
  "I16",
  "U16",
  "U32",
  "U64",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F6_E2M3",
  "F6_E3M2",
  "F4",
  "C64",
];

/** The reference implementation's limit on the header's length (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && Object.hasOwn(DTYPES, value);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Reverse the bytes of each `size`-byte element in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Compare two strings by their UTF-8 bytes (the reference implementation's order). */
function compareUtf8(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * Serialize tensors (and optional string metadata) to safetensors bytes.
 *
 * Checks every tensor first: a non-empty name other than `__metadata__`, a supported
 * dtype held in its matching array, a shape of non-negative integers whose product is the
 * array's length. Throws `CheckpointError` naming the tensor otherwise.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   new Map([["w", { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) }]]),
 *   { format: "blend" },
 * );
 * const { tensors } = decodeSafetensors(bytes);
 * ```
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  for (const [name, tensor] of tensors) {
    const where = `safetensors: tensor ${JSON.stringify(name)}`;
    if (name === "") throw new CheckpointError("safetensors: a tensor name must not be empty");
    if (name === METADATA_KEY) {
      throw new CheckpointError(
        `safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`,
      );
    }
    if (!isDtype(tensor.dtype)) {
      throw new CheckpointError(
        `${where}: dtype ${describe(tensor.dtype)} is not supported (supported: ${
          SAFETENSORS_DTYPES.join(", ")
        })`,
      );
    }
    const info = DTYPES[tensor.dtype];
    if (!(tensor.data instanceof info.array)) {
      throw new CheckpointError(
        `${where}: dtype ${tensor.dtype} needs a ${info.array.name}, got ${describe(tensor.data)}`,
      );
    }
    if (
      !Array.isArray(tensor.shape) ||
      !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new CheckpointError(
        `${where}: shape must be an array of non-negative integers, got ${describe(tensor.shape)}`,
      );
    }
    if (product(tensor.shape) !== tensor.data.length) {
      throw new CheckpointError(
        `${where}: shape ${shapeText(tensor.shape)} holds ${product(tensor.shape)} values ` +
          `but the data has ${tensor.data.length}`,
      );
    }
  }
  // The header is built as text: a JS object would put integer-like names first.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const entries: string[] = [];
    for (const key of Object.keys(metadata).sort(compareUtf8)) {
      const value = metadata[key];
      if (typeof value !== "string") {
        throw new CheckpointError(
          `safetensors: metadata ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
        );
      }
      entries.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${entries.join(",")}}`);
  }
  const order = [...tensors.keys()].sort((a, b) =>
    DTYPES[tensors.get(b)!.dtype].rank - DTYPES[tensors.get(a)!.dtype].rank || compareUtf8(a, b)
  );
  let offset = 0;
  for (const name of order) {
    const { dtype, shape, data } = tensors.get(name)!;
    const begin = offset;
    offset += data.byteLength;
    const entry = { dtype, shape: [...shape], data_offsets: [begin, offset] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const name of order) {
    const { dtype, data } = tensors.get(name)!;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    out.set(bytes, at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + bytes.length), DTYPES[dtype].size);
    at += bytes.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, value: unknown, fail: (problem: string) => never): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${where}: its header entry must be an object, got ${describe(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype)) {
    const known = typeof dtype === "string" && KNOWN_UNSUPPORTED.includes(dtype);
    fail(
      `${where}: ${known ? "unsupported" : "unknown"} dtype ${describe(dtype)} ` +
        `(supported: ${SAFETENSORS_DTYPES.join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    fail(
      `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${
        JSON.stringify(offsets)
      }`,
    );
  }
  const [begin, end] = offsets as number[];
  const values = product(shape);
  if (
    !Number.isSafeInteger(values * DTYPES[dtype].size) ||
    values * DTYPES[dtype].size !== end - begin
  ) {
    fail(
      `${where}: shape ${shapeText(shape)} of ${dtype} needs ${values} x ${
        DTYPES[dtype].size
      } bytes ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/**
 * Parse safetensors bytes, checking everything the format promises.
 *
 * Throws `CheckpointError` naming `source` and the problem when the bytes are shorter than
 * 8, the header runs past the end, the header is not a JSON object, the metadata is not a
 * map of strings, a dtype is unknown or unsupported, a shape or `data_offsets` is
 * malformed, a shape disagrees with its byte length, or the tensors' bytes fall outside
 * the data, overlap, leave a gap, or do not reach its end. Values are copied into fresh,
 * aligned arrays, so the result does not share memory with `bytes`.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = decodeSafetensors(await Deno.readFile("model.safetensors"), "model.safetensors");
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "safetensors data",
): DecodedSafetensors {
  const fail = (problem: string): never => {
    throw new CheckpointError(`${source} is not a valid safetensors file: ${problem}`);
  };
  if (bytes.length < 8) {
    fail(`it has ${bytes.length} byte(s), fewer than the 8 that give the header's length`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `the header is said to be ${declared} bytes long but only ${
        bytes.length - 8
      } follow (truncated file?)`,
    );
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) {
    fail(`the header is ${headerLength} bytes long, more than the limit of ${MAX_HEADER_BYTES}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail("the header is not valid UTF-8");
  }
  if (!text.startsWith("{")) {
    fail(
      `the header must be a JSON object starting with "{", got ${
        JSON.stringify(text.slice(0, 20))
      }`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return fail("the header must be a JSON object");
  }

  const metadataEntries: [string, string][] = [];
  const rawMeta = (header as Record<string, unknown>)[METADATA_KEY];
  if (rawMeta !== undefined && rawMeta !== null) {
    if (typeof rawMeta !== "object" || Array.isArray(rawMeta)) {
      fail(`"${METADATA_KEY}" must be an object of strings, got ${describe(rawMeta)}`);
    }
    for (const [key, value] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof value !== "string") {
        fail(
          `"${METADATA_KEY}" entry ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
        );
      }
      metadataEntries.push([key, value as string]);
    }
  }
  const metadata: Record<string, string> = Object.fromEntries(metadataEntries);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) continue;
    const entry = parseEntry(name, value, fail);
    if (entry.end > dataLength) {
      fail(
        `tensor ${JSON.stringify(name)}: data_offsets [${entry.begin}, ${entry.end}] reach past ` +
          `the end of the data (${dataLength} bytes; truncated file?)`,
      );
    }
    entries.push(entry);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered) {
      fail(
        `tensor ${JSON.stringify(entry.name)} [${entry.begin}, ${entry.end}] overlaps ` +
          `tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`,
      );
    }
    if (entry.begin > covered) {
      fail(
        `bytes [${covered}, ${entry.begin}) of the data belong to no tensor (a gap before ${
          JSON.stringify(entry.name)
        })`,
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) {
    fail(`the tensors cover ${covered} bytes of data but ${dataLength} follow the header`);
  }

  const tensors = new Map<string, NamedTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    if (!LITTLE_ENDIAN) swapBytes(copy, DTYPES[dtype].size);
    tensors.set(name, { dtype, shape, data: new DTYPES[dtype].array(copy.buffer) } as NamedTensor);
  }
  return { tensors, metadata };
}

/**
 * Widen IEEE half-precision bit patterns (an `F16` tensor's data) to 32-bit floats,
 * exactly (every half is a float).
 */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    out[i] = exponent === 0
      ? sign * fraction * 2 ** -24
      : exponent === 31
      ? (fraction === 0 ? sign * Infinity : NaN)
      : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
