// Shared by the safetensors and checkpoint tests.
import assert from "node:assert/strict";
import type { NamedTensor } from "../../lib/train/safetensors.ts";

/** The bytes behind a typed array (exact comparison, NaN and -0 included). */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Same names, dtypes, shapes, array types and bytes. */
export function assertSameTensors(
  actual: Map<string, NamedTensor>,
  expected: Map<string, NamedTensor>,
): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    assert.equal(got.dtype, want.dtype, name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.equal(got.data.constructor, want.data.constructor, name);
    assert.deepEqual(bytesOf(got.data), bytesOf(want.data), name);
  }
}
