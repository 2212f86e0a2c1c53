/**
 * File output that never leaves a half-written file behind: write beside the target, then
 * rename over it (atomic on one file system).
 * @module
 */

/** Write text to `path` atomically, creating its directory if needed. */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeAtomic(path, (temporary) => Deno.writeTextFile(temporary, text));
}

/** Write bytes to `path` atomically, creating its directory if needed. */
export function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return writeAtomic(path, (temporary) => Deno.writeFile(temporary, bytes));
}

async function writeAtomic(
  path: string,
  write: (temporary: string) => Promise<void>,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.partial`;
  try {
    await write(temporary);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Write a value as indented JSON to `path` atomically (typed arrays become arrays). */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const json = JSON.stringify(
    value,
    (_key, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v),
    2,
  );
  return writeTextAtomic(path, json + "\n");
}
