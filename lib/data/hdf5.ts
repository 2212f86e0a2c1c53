/**
 * The small h5wasm layer every HDF5 reader and writer of blend shares: loading h5wasm
 * once, opening a file with a clear error (missing, not a file, not HDF5), writing a file
 * atomically (beside its target, then renamed over it), and reading numbers, strings,
 * booleans and attributes whatever their stored type.
 * @module
 */

import { loadH5wasm } from "../deps.ts";
import { DatasetError, describe } from "../errors.ts";

/** The h5wasm module (its Node entry), ready to use. */
export type H5 = Awaited<ReturnType<typeof loadH5wasm>>;
/** An open HDF5 file. */
export type H5File = InstanceType<H5["File"]>;
/** An HDF5 group (a file is one too). */
export type H5Group = InstanceType<H5["Group"]>;
/** An HDF5 dataset. */
export type H5Dataset = InstanceType<H5["Dataset"]>;

let ready: Promise<H5> | undefined;

/** h5wasm, loaded once and awaited until its WebAssembly module is ready. */
export function h5wasm(): Promise<H5> {
  ready ??= loadH5wasm().then(async (h5) => {
    await h5.ready;
    return h5;
  });
  return ready;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"

/** Whether the HDF5 signature is at offset 0, 512, 1024, ... (where HDF5 may put it). */
async function hasHDF5Signature(path: string, size: number): Promise<boolean> {
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(8);
    for (
      let offset = 0;
      offset + 8 <= size && offset <= 1 << 24;
      offset = offset ? offset * 2 : 512
    ) {
      await file.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < 8) {
        const n = await file.read(buffer.subarray(got));
        if (n === null) return false;
        got += n;
      }
      if (SIGNATURE.every((b, i) => buffer[i] === b)) return true;
    }
    return false;
  } finally {
    file.close();
  }
}

/**
 * Open an HDF5 file for reading. A missing file, a directory or a file that is not HDF5
 * is a `DatasetError` naming the path and what was expected (`what`, e.g. "an NWB file").
 */
export async function openHDF5(path: string, what = "an HDF5 file"): Promise<H5File> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new DatasetError(`${path}: no such file; expected ${what}`);
    }
    throw error;
  }
  if (!info.isFile) throw new DatasetError(`${path} is not a file; expected ${what}`);
  if (!(await hasHDF5Signature(path, info.size))) {
    throw new DatasetError(
      `${path} is not an HDF5 file (no HDF5 signature in its ${info.size} bytes); expected ${what}`,
    );
  }
  const h5 = await h5wasm();
  const file = new h5.File(path, "r");
  if (file.file_id < 0n) {
    throw new DatasetError(`${path}: the HDF5 library could not open it; expected ${what}`);
  }
  return file;
}

/**
 * Write an HDF5 file atomically: `write` fills a new file beside `path`, which is then
 * renamed over `path`. On any error the partial file is removed and `path` is untouched.
 */
export async function writeHDF5Atomic(
  path: string,
  write: (file: H5File) => void | Promise<void>,
): Promise<void> {
  const h5 = await h5wasm();
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.partial`;
  let file: H5File | undefined;
  try {
    file = new h5.File(temporary, "w");
    if (file.file_id < 0n) throw new DatasetError(`${temporary}: could not create an HDF5 file`);
    await write(file);
    file.close();
    file = undefined;
    await Deno.rename(temporary, path);
  } catch (error) {
    try {
      file?.close();
    } catch { /* already failing; the original error matters */ }
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** The dataset at `path` (relative to `group`), or null when there is none or it is a group. */
export function getDataset(group: H5Group, path: string): H5Dataset | null {
  const entity = group.get(path);
  return entity && (entity as { type?: string }).type === "Dataset" ? entity as H5Dataset : null;
}

/** The group at `path` (relative to `group`), or null when there is none or it is a dataset. */
export function getGroup(group: H5Group, path: string): H5Group | null {
  const entity = group.get(path);
  return entity && (entity as { type?: string }).type === "Group" ? entity as H5Group : null;
}

/** Convert what h5wasm returns for a numeric dataset (any int, float, bigint, enum) to float64. */
export function toFloat64(value: unknown, path: string): Float64Array {
  if (value instanceof Float64Array) return value;
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    return Float64Array.from(value as ArrayLike<bigint>, Number);
  }
  if (ArrayBuffer.isView(value)) return Float64Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === "number") return new Float64Array([value]);
  if (typeof value === "bigint") return new Float64Array([Number(value)]);
  if (typeof value === "boolean") return new Float64Array([value ? 1 : 0]);
  throw new DatasetError(`${path}: expected numbers, got ${describe(value)}`);
}

/** HDF5 type classes, as h5wasm reports them in `metadata.type`. */
export const H5T = { integer: 0, float: 1, string: 3, compound: 6, enum: 8, vlen: 9 } as const;

/** Numeric values of a dataset (or the rows `[start, end)` of its first axis) as float64. */
export function readNumbers(ds: H5Dataset, path: string, rows?: [number, number]): Float64Array {
  const type = ds.metadata.type;
  if (type !== H5T.integer && type !== H5T.float && type !== H5T.enum) {
    throw new DatasetError(`${path}: expected a numeric dataset, got HDF5 type ${ds.dtype}`);
  }
  const value = rows ? ds.slice([rows]) : ds.value;
  return toFloat64(value, path);
}

/** String values of a dataset (variable- or fixed-length strings). */
export function readStrings(ds: H5Dataset, path: string): string[] {
  if (ds.metadata.type !== H5T.string) {
    throw new DatasetError(`${path}: expected strings, got HDF5 type ${ds.dtype}`);
  }
  const value = ds.value;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new DatasetError(`${path}: expected strings, got ${describe(value)}`);
}

/** The value of an attribute, or undefined when the object has none of that name. */
export function readAttribute(object: H5Group | H5Dataset, name: string): unknown {
  const attrs = object.attrs;
  return name in attrs ? attrs[name].value : undefined;
}

/** Whether a dataset holds booleans: an h5py-style FALSE/TRUE enum, or our `dtype="bool"` mark. */
export function isBooleanDataset(ds: H5Dataset): boolean {
  const meta = ds.metadata;
  if (meta.type === H5T.enum && meta.enum_type) {
    const m = meta.enum_type.members;
    return Object.keys(m).length === 2 && m.FALSE === 0 && m.TRUE === 1;
  }
  return meta.type === H5T.integer && readAttribute(ds, "dtype") === "bool";
}

/** Write a float64 (`"<d"`) attribute, so whole numbers are not stored as integers. */
export function setNumberAttribute(object: H5Group | H5Dataset, name: string, value: number): void {
  object.create_attribute(name, value, null, "<d");
}
