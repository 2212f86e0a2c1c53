import assert from "node:assert/strict";
import { CheckpointError } from "../../lib/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  float16ToFloat32,
  type NamedTensor,
  SAFETENSORS_DTYPES,
} from "../../lib/train/safetensors.ts";
import { assertSameTensors } from "./tensors.ts";

const PYTHON = "/usr/bin/python3";
const hasPython = (() => {
  try {
    return Deno.statSync(PYTHON).isFile;
  } catch {
    return false;
  }
})();

/** The bytes behind a typed array (compares NaN payloads and -0 exactly). */

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
}

/** One tensor of every supported dtype, with edge values, a scalar and empty tensors. */
function everyDtype(): Map<string, NamedTensor> {
  return new Map<string, NamedTensor>([
    ["f64", {
      dtype: "F64",
      shape: [2, 3],
      data: new Float64Array([1.5, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE]),
    }],
    ["f32", { dtype: "F32", shape: [3, 1], data: new Float32Array([0.1, -3.4e38, 1e-45]) }],
    ["f16", { dtype: "F16", shape: [4], data: new Uint16Array([0x3c00, 0xb800, 0x7bff, 0x0001]) }],
    ["i64", {
      dtype: "I64",
      shape: [3],
      data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n]),
    }],
    ["i32", {
      dtype: "I32",
      shape: [2, 2],
      data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]),
    }],
    ["i8", { dtype: "I8", shape: [3], data: new Int8Array([-128, 127, 0]) }],
    ["u8", { dtype: "U8", shape: [2], data: new Uint8Array([0, 255]) }],
    ["scalar", { dtype: "F32", shape: [], data: new Float32Array([2.5]) }],
    ["empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
    ["empty_u8", { dtype: "U8", shape: [0], data: new Uint8Array(0) }],
  ]);
}

const METADATA = {
  format: "blend",
  "note with spaces": 'ünïcode \n and "quotes"',
  "0": "integer-like key",
};

Deno.test("safetensors: round trip of every dtype, metadata, a scalar and empty tensors", () => {
  const tensors = everyDtype();
  assert.deepEqual(new Set(SAFETENSORS_DTYPES), new Set([...tensors.values()].map((t) => t.dtype)));
  const bytes = encodeSafetensors(tensors, METADATA);
  const decoded = decodeSafetensors(bytes);
  assertSameTensors(decoded.tensors, tensors);
  assert.deepEqual(decoded.metadata, METADATA);
  for (const { data } of decoded.tensors.values()) {
    assert.equal(data.byteOffset % data.BYTES_PER_ELEMENT, 0, "decoded arrays are aligned");
    assert.notEqual(data.buffer, bytes.buffer, "decoded arrays do not share the input's memory");
  }
  // Without metadata the header has no __metadata__ key and decodes to {}.
  const bare = encodeSafetensors(tensors);
  assert.ok(!headerOf(bare).text.includes("__metadata__"));
  assert.deepEqual(decodeSafetensors(bare).metadata, {});
  assertSameTensors(decodeSafetensors(bare).tensors, tensors);
  // An empty file (no tensors at all) is valid too.
  assert.equal(decodeSafetensors(encodeSafetensors(new Map())).tensors.size, 0);
});

Deno.test("safetensors: decodes from a view at an odd offset into aligned copies", () => {
  const bytes = encodeSafetensors(everyDtype());
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  assertSameTensors(decodeSafetensors(shifted.subarray(3)).tensors, everyDtype());
});

Deno.test("safetensors: the header is padded so the data starts 8-byte aligned", () => {
  for (let n = 1; n <= 16; n++) {
    const name = "w".repeat(n);
    const bytes = encodeSafetensors(
      new Map([[name, { dtype: "U8", shape: [n], data: new Uint8Array(n).fill(n) }]]),
      { k: "v".repeat(n) },
    );
    const { length, text } = headerOf(bytes);
    assert.equal((8 + length) % 8, 0);
    assert.equal(text, text.trimEnd() + " ".repeat(length - text.trimEnd().length));
    assert.ok(length - text.trimEnd().length < 8, "at most 7 padding spaces");
    assert.equal(bytes.length, 8 + length + n);
  }
});

Deno.test("safetensors: tensors are laid out by dtype (widest first), then by name, contiguously", () => {
  const sameDtype = new Map<string, NamedTensor>(
    ["layer.10.w", "b", "layer.2.w", "a", "Z", "0"].map((name, i) => [
      name,
      { dtype: "F32", shape: [i + 1], data: new Float32Array(i + 1).fill(i) },
    ]),
  );
  const header = JSON.parse(headerOf(encodeSafetensors(sameDtype, { x: "y" })).text);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  assert.deepEqual(names.sort(), ["0", "Z", "a", "b", "layer.10.w", "layer.2.w"]);
  // Integer-like names would come first in a JS object, so read the order from the text.
  const text = headerOf(encodeSafetensors(sameDtype, { x: "y" })).text;
  const order = [...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
  assert.deepEqual(order, ["0", "Z", "a", "b", "layer.10.w", "layer.2.w"]);
  assert.ok(text.startsWith('{"__metadata__":{"x":"y"},'));
  let end = 0;
  for (const name of order) {
    assert.equal(header[name].data_offsets[0], end);
    end = header[name].data_offsets[1];
  }

  const mixed = encodeSafetensors(everyDtype());
  const mixedOrder = [...headerOf(mixed).text.matchAll(/"([^"]+)":\{"dtype":"([A-Z0-9]+)"/g)].map((
    m,
  ) => m[1]);
  assert.deepEqual(mixedOrder, [
    "i64",
    "f64",
    "empty",
    "f32",
    "scalar",
    "i32",
    "f16",
    "i8",
    "empty_u8",
    "u8",
  ]);
});

Deno.test("safetensors: encoding checks names, dtypes, arrays and shapes", () => {
  const one = (name: string, tensor: Partial<NamedTensor>) =>
    encodeSafetensors(
      new Map([[
        name,
        { dtype: "F32", shape: [2], data: new Float32Array(2), ...tensor } as NamedTensor,
      ]]),
    );
  assert.throws(() => one("w", { shape: [3] }), CheckpointError);
  assert.throws(
    () => one("w", { shape: [3] }),
    /tensor "w": shape \[3\] holds 3 values but the data has 2/,
  );
  assert.throws(() => one("w", { shape: [-1, -2] }), /non-negative integers/);
  assert.throws(
    () => one("w", { data: new Float64Array(2) }),
    /F32 needs a Float32Array, got Float64Array\(2\)/,
  );
  assert.throws(() => one("w", { dtype: "BF16" as never }), /dtype "BF16" is not supported/);
  assert.throws(() => one("", {}), /name must not be empty/);
  assert.throws(() => one("__metadata__", {}), /reserved/);
  assert.throws(
    () => encodeSafetensors(new Map(), { n: 1 as unknown as string }),
    /metadata "n" must be a string, got 1/,
  );
});

/** Build a file from a header object and a data length, by hand. */
function rawFile(
  header: unknown,
  dataBytes: number,
  headerText = JSON.stringify(header),
): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function assertCorrupt(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeSafetensors(bytes, "model.safetensors"), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
    assert.match(error.message, /^model\.safetensors is not a valid safetensors file: /);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("safetensors: every kind of corrupt input is a CheckpointError that says what is wrong", () => {
  const good = encodeSafetensors(
    new Map<string, NamedTensor>([
      ["a", { dtype: "F32", shape: [2, 2], data: new Float32Array(4) }],
      ["b", { dtype: "F32", shape: [3], data: new Float32Array(3) }],
    ]),
  );
  const f32 = (shape: number[], offsets: number[]) => ({
    dtype: "F32",
    shape,
    data_offsets: offsets,
  });

  assertCorrupt(new Uint8Array(0), /0 byte\(s\), fewer than the 8/);
  assertCorrupt(good.subarray(0, 5), /5 byte\(s\), fewer than the 8/);
  assertCorrupt(good.subarray(0, 40), /header is said to be \d+ bytes long but only 32 follow/);
  assertCorrupt(
    good.subarray(0, good.length - 1),
    /reach past the end of the data \(27 bytes; truncated file\?\)/,
  );
  assertCorrupt(rawFile(null, 0, '{"a": {"dtype": "F32",'), /header is not valid JSON/);
  assertCorrupt(rawFile(null, 0, "[1, 2]"), /must be a JSON object starting with "\{"/);
  assertCorrupt(
    rawFile({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12),
    /tensor "b" \[4, 12\] overlaps tensor "a" \[0, 8\]/,
  );
  assertCorrupt(
    rawFile({ a: f32([2], [0, 8]), b: f32([1], [12, 16]) }, 16),
    /bytes \[8, 12\) of the data belong to no tensor/,
  );
  assertCorrupt(
    rawFile({ a: f32([3], [0, 8]) }, 8),
    /shape \[3\] of F32 needs 3 x 4 bytes but data_offsets \[0, 8\] span 8/,
  );
  assertCorrupt(
    rawFile({ a: f32([2], [0, 8]) }, 12),
    /the tensors cover 8 bytes of data but 12 follow the header/,
  );
  assertCorrupt(
    rawFile({ a: f32([2], [8, 0]) }, 8),
    /data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[8,0\]/,
  );
  assertCorrupt(
    rawFile({ a: f32([2.5], [0, 10]) }, 10),
    /shape must be an array of non-negative integers, got \[2.5\]/,
  );
  assertCorrupt(
    rawFile({ a: { dtype: "Q7", shape: [1], data_offsets: [0, 1] } }, 1),
    /tensor "a": unknown dtype "Q7" \(supported: F64, F32/,
  );
  assertCorrupt(
    rawFile({ a: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, 2),
    /tensor "a": unsupported dtype "BF16"/,
  );
  assertCorrupt(rawFile({ a: "F32" }, 0), /tensor "a": its header entry must be an object/);
  assertCorrupt(
    rawFile({ __metadata__: { n: 1 } }, 0),
    /"__metadata__" entry "n" must be a string, got 1/,
  );
  const badUtf8 = rawFile(null, 0, '{"a"}');
  badUtf8[9] = 0xff;
  assertCorrupt(badUtf8, /header is not valid UTF-8/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  assertCorrupt(huge, /header is said to be 18446744073709551615 bytes long but only 8 follow/);
});

Deno.test("safetensors: float16ToFloat32 widens half-precision bits exactly", () => {
  const bits = new Uint16Array([
    0x0000,
    0x8000,
    0x3c00,
    0xc000,
    0x7bff,
    0x0001,
    0x0400,
    0x7c00,
    0xfc00,
    0x7e00,
  ]);
  const values = float16ToFloat32(bits);
  assert.deepEqual(
    Array.from(values.subarray(0, 9)),
    [0, -0, 1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity],
  );
  assert.ok(Object.is(values[1], -0));
  assert.ok(Number.isNaN(values[9]));
});

// ---- Cross-check against an independent implementation (Python, standard library only) ----

const PYTHON_SCRIPT = String.raw`
import json, math, struct, sys

FORMATS = {"F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "I64": ("q", 8),
           "I32": ("i", 4), "I8": ("b", 1), "U8": ("B", 1)}

def plain(value, code):
    if code == "q":
        return str(value)  # beyond 2**53: JSON numbers would lose digits in JavaScript
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return value

def read(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    text = raw[8:8 + n].decode("utf-8")
    header = json.loads(text)
    metadata = header.pop("__metadata__", {})
    tensors = []
    for name, info in header.items():
        code, size = FORMATS[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // size
        assert count * size == end - begin and count == math.prod(info["shape"]), name
        values = struct.unpack("<%d%s" % (count, code), raw[8 + n + begin:8 + n + end])
        tensors.append({"name": name, "dtype": info["dtype"], "shape": info["shape"],
                        "offsets": [begin, end], "values": [plain(v, code) for v in values]})
    return {"headerLength": n, "fileLength": len(raw), "metadata": metadata, "tensors": tensors}

# Laid out in this order (not sorted, not aligned), listed in the header in another order.
WRITTEN = [
    ("z.scalar", "F64", [], [3.25]),
    ("weights.b", "F32", [2, 2], [1.5, -2.0, 0.1, float("inf")]),
    ("half", "F16", [3], [1.0, -0.5, 65504.0]),
    ("big", "I64", [2], [-(2 ** 63), 2 ** 63 - 1]),
    ("ints", "I32", [2, 1], [-7, 2 ** 31 - 1]),
    ("bytes", "U8", [4], [0, 1, 254, 255]),
    ("signed", "I8", [2], [-128, 127]),
    ("empty", "F32", [0, 4], []),
]

def write(path):
    header, data, expected = {}, b"", []
    for name, dtype, shape, values in WRITTEN:
        code, _ = FORMATS[dtype]
        chunk = struct.pack("<%d%s" % (len(values), code), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(chunk)]}
        data += chunk
        stored = struct.unpack("<%d%s" % (len(values), code), chunk)
        expected.append({"name": name, "dtype": dtype, "shape": shape,
                         "values": [plain(v, code) for v in stored]})
    header = dict(reversed(list(header.items())))
    header["__metadata__"] = {"writer": "python stdlib", "format": "pt"}
    text = json.dumps(header).encode("utf-8")  # no padding: the data starts unaligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    return {"metadata": header["__metadata__"], "tensors": expected}

mode, path = sys.argv[1], sys.argv[2]
print(json.dumps(read(path) if mode == "read" else write(path)))
`;

/** Run Python on a script; returns its stdout parsed as JSON. */
async function python(script: string, args: string[]): Promise<unknown> {
  const result = await new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, `python failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

interface PythonTensor {
  name: string;
  dtype: string;
  shape: number[];
  offsets?: [number, number];
  values: (number | string)[];
}

/** A decoded tensor's values in the form the Python script prints them. */
function plainValues(tensor: NamedTensor): (number | string | bigint)[] {
  const values: (number | bigint)[] = tensor.dtype === "F16"
    ? Array.from(float16ToFloat32(tensor.data as Uint16Array))
    : Array.from(tensor.data as ArrayLike<number | bigint>);
  return values.map((v) =>
    typeof v === "bigint"
      ? String(v)
      : Number.isNaN(v)
      ? "nan"
      : v === Infinity
      ? "inf"
      : v === -Infinity
      ? "-inf"
      : v
  );
}

Deno.test({
  name: "safetensors: Python (stdlib struct + json) reads what encodeSafetensors writes",
  ignore: !hasPython,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/ours.safetensors`;
      const tensors = everyDtype();
      const bytes = encodeSafetensors(tensors, METADATA);
      await Deno.writeFile(path, bytes);
      const parsed = await python(PYTHON_SCRIPT, ["read", path]) as {
        headerLength: number;
        fileLength: number;
        metadata: Record<string, string>;
        tensors: PythonTensor[];
      };
      assert.equal(parsed.fileLength, bytes.length);
      assert.equal((8 + parsed.headerLength) % 8, 0);
      assert.deepEqual(parsed.metadata, METADATA);
      assert.deepEqual(parsed.tensors.map((t) => t.name).sort(), [...tensors.keys()].sort());
      for (const t of parsed.tensors) {
        const ours = tensors.get(t.name)!;
        assert.equal(t.dtype, ours.dtype, t.name);
        assert.deepEqual(t.shape, ours.shape, t.name);
        // Object.is-level equality, so -0 and NaN are checked too.
        const want = plainValues(ours);
        assert.equal(t.values.length, want.length, t.name);
        t.values.forEach((v, i) =>
          assert.ok(Object.is(v, want[i]), `${t.name}[${i}]: python ${v}, ours ${want[i]}`)
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "safetensors: decodeSafetensors reads a file Python writes by hand (unaligned, unsorted)",
  ignore: !hasPython,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/theirs.safetensors`;
      const written = await python(PYTHON_SCRIPT, ["write", path]) as {
        metadata: Record<string, string>;
        tensors: PythonTensor[];
      };
      const decoded = decodeSafetensors(await Deno.readFile(path), path);
      assert.deepEqual(decoded.metadata, written.metadata);
      assert.deepEqual(
        [...decoded.tensors.keys()],
        written.tensors.map((t) => t.name),
        "in data order",
      );
      for (const t of written.tensors) {
        const ours = decoded.tensors.get(t.name)!;
        assert.equal(ours.dtype, t.dtype);
        assert.deepEqual(ours.shape, t.shape);
        assert.equal(ours.data.byteOffset % ours.data.BYTES_PER_ELEMENT, 0);
        const got = plainValues(ours);
        t.values.forEach((v, i) =>
          assert.ok(Object.is(got[i], v), `${t.name}[${i}]: ours ${got[i]}, python ${v}`)
        );
      }
      assert.equal((decoded.tensors.get("big")!.data as BigInt64Array)[0], -(2n ** 63n));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Optional: the reference implementation, where it is installed (with numpy).
const hasReference = hasPython &&
  (await new Deno.Command(PYTHON, {
    args: ["-c", "import numpy, safetensors.numpy"],
    stdout: "null",
    stderr: "null",
  }).output().then((r) => r.success, () => false));

const REFERENCE_SCRIPT = String.raw`
import json, sys
import numpy as np
from safetensors.numpy import load_file, save_file, safe_open

mode, path = sys.argv[1], sys.argv[2]
if mode == "load":
    def plain(a):
        if a.dtype.kind == "i" and a.dtype.itemsize == 8:
            return [str(int(v)) for v in a.reshape(-1)]
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        out = []
        for v in a.reshape(-1).tolist():
            if isinstance(v, float) and v != v: out.append("nan")
            elif v == float("inf"): out.append("inf")
            elif v == float("-inf"): out.append("-inf")
            else: out.append(v)
        return out
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata()
    print(json.dumps({"metadata": metadata, "tensors": [
        {"name": k, "dtype": str(v.dtype), "shape": list(v.shape), "values": plain(v)} for k, v in tensors.items()]}))
else:
    save_file({
        "b": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "a": np.array([[-(2**63), 5]], dtype=np.int64),
        "c": np.array(2.5, dtype=np.float64),
        "d": np.array([1, -2], dtype=np.int8),
        "e": np.zeros((0, 3), dtype=np.float32),
        "h": np.array([0.5, -65504], dtype=np.float16),
    }, path, metadata={"format": "np"})
    print("{}")
`;

Deno.test({
  name: "safetensors: the reference library (safetensors.numpy) agrees, byte for byte",
  ignore: !hasReference,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // It loads ours, values and metadata included.
      const ours = `${dir}/ours.safetensors`;
      const tensors = everyDtype();
      await Deno.writeFile(ours, encodeSafetensors(tensors, METADATA));
      const loaded = await python(REFERENCE_SCRIPT, ["load", ours]) as {
        metadata: Record<string, string>;
        tensors: PythonTensor[];
      };
      assert.deepEqual(loaded.metadata, METADATA);
      assert.equal(loaded.tensors.length, tensors.size);
      for (const t of loaded.tensors) {
        assert.deepEqual(t.shape, tensors.get(t.name)!.shape);
        const want = plainValues(tensors.get(t.name)!);
        t.values.forEach((v, i) =>
          assert.ok(Object.is(v, want[i]), `${t.name}[${i}]: reference ${v}, ours ${want[i]}`)
        );
      }
      // It also reads the hand-written Python file, so that file is a fair test input.
      const theirs = `${dir}/theirs.safetensors`;
      await python(PYTHON_SCRIPT, ["write", theirs]);
      await python(REFERENCE_SCRIPT, ["load", theirs]);
      // What it writes, we decode; and re-encoding that gives the very same bytes.
      const saved = `${dir}/saved.safetensors`;
      await python(REFERENCE_SCRIPT, ["save", saved]);
      const bytes = await Deno.readFile(saved);
      const decoded = decodeSafetensors(bytes, saved);
      assert.deepEqual(decoded.metadata, { format: "np" });
      assert.deepEqual(
        Array.from(decoded.tensors.get("b")!.data as Float32Array),
        [0, 1, 2, 3, 4, 5].map((v) => Math.fround(v / 7)),
      );
      assert.deepEqual(decoded.tensors.get("a")!.shape, [1, 2]);
      assert.deepEqual(
        Array.from(float16ToFloat32(decoded.tensors.get("h")!.data as Uint16Array)),
        [0.5, -65504],
      );
      assert.deepEqual(encodeSafetensors(decoded.tensors, decoded.metadata), bytes);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
