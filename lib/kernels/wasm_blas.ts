/**
 * An optional accelerator for tfjs's wasm backend: matrix products by the system's BLAS
 * (OpenBLAS, through Deno's FFI), reading and writing the wasm heap in place.
 *
 * XNNPACK, wasm's fast path, reaches about 25 GFLOP/s here and packs its right-hand matrix
 * anew for every product (a gradient is always new); transposed operands must first be
 * copied out. OpenBLAS runs the same products with the CPU's own vector units (AVX2 or
 * AVX-512) at 60-100 GFLOP/s on one thread and takes transposes as flags. The tensors stay
 * where tfjs put them: `cblas_sgemm` gets pointers into the wasm memory.
 *
 * Used when the library loads: it needs `--allow-ffi` (asked for nothing: without the
 * permission blend stays on XNNPACK, silently) and Debian's `libopenblas0-serial` (or
 * `libopenblas0`, or any `libblas.so.3` with CBLAS). One thread by default, the same as
 * the PyTorch reference in the benchmark; `BLEND_BLAS_THREADS` sets another count.
 * @module
 */

import { tf } from "../deps.ts";
import { replaceKernel, restoreKernels } from "./registry.ts";
import { batchEntries, type Info, type WasmBackend } from "./wasm_heap.ts";

/**
 * Where to look for a CBLAS, in order. Debian's single-threaded OpenBLAS
 * (`libopenblas0-serial`) first: blend uses one thread, and the threaded build starts a
 * thread server whose shutdown at process exit is a known source of rare crashes (we saw
 * glibc report heap corruption at exit twice in about twenty runs of the test suite with
 * it, never with the serial build).
 */
const LIBRARIES = [
  ...["x86_64-linux-gnu", "aarch64-linux-gnu"].map((arch) =>
    `/usr/lib/${arch}/openblas-serial/libopenblas.so.0`
  ),
  "libopenblas.so.0",
  "libopenblas.so",
  "libblas.so.3",
  // macOS (not tested here: no such machine): Homebrew's OpenBLAS, then Apple's Accelerate,
  // which exports the same CBLAS interface.
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "pointer", // A
      "i32", // lda
      "pointer", // B
      "i32", // ldb
      "f32", // beta
      "pointer", // C
      "i32", // ldc
    ],
    result: "void",
  },
} as const;
const OPENBLAS_SYMBOLS = {
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** The loaded BLAS: which library, its own description, and the threads it uses. */
export interface BlasInfo {
  /** The file that was opened. */
  library: string;
  /** What the library says of itself (OpenBLAS's build configuration), or "". */
  config: string;
  /** Threads its products run on. */
  threads: number;
}

type Sgemm = (...args: (number | Deno.PointerValue)[]) => void;
let loaded: { info: BlasInfo; sgemm: Sgemm } | null = null;
/**
 * A lock shared by the workers of one process: OpenBLAS's single-threaded build keeps its
 * work buffers in shared state, so two threads must not be inside it at once (two
 * workers' training silently corrupted each other's products without this).
 */
let lock: Int32Array | null = null;

/**
 * Share one BLAS lock among the threads of a process: pass the same `SharedArrayBuffer`
 * (4 bytes) to every worker that trains, before it starts its backend.
 */
export function shareBlasLock(buffer: SharedArrayBuffer): void {
  lock = new Int32Array(buffer, 0, 1);
}

/** Run `f` holding the shared lock (when there is one). */
function locked(f: () => void): void {
  if (!lock) return f();
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1);
  try {
    f();
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0, 1);
  }
}
let loadFailure = "";

function permitted(name: "ffi" | "env"): boolean {
  try {
    return Deno.permissions.querySync({ name }).state === "granted";
  } catch {
    return false;
  }
}

function threadsFromEnvironment(): number {
  const text = permitted("env") ? Deno.env.get("BLEND_BLAS_THREADS") : undefined;
  if (text === undefined || text === "") return 1;
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`BLEND_BLAS_THREADS must be a positive integer, got "${text}"`);
  }
  return threads;
}

/**
 * Open the system BLAS (once). Returns its description, or null with `blasUnavailable()`
 * saying why (no FFI permission, no library found).
 */
export function loadBlas(): BlasInfo | null {
  if (loaded) return loaded.info;
  if (loadFailure) return null;
  if (!permitted("ffi")) {
    loadFailure = "no FFI permission (run with --allow-ffi)";
    return null;
  }
  const threads = threadsFromEnvironment();
  const errors: string[] = [];
  // More than one thread needs a threaded build: skip the serial one.
  const candidates = threads > 1 ? LIBRARIES.filter((l) => !l.includes("serial")) : LIBRARIES;
  for (const library of candidates) {
    try {
      const lib = Deno.dlopen(library, SYMBOLS);
      let config = "";
      try {
        const openblas = Deno.dlopen(library, OPENBLAS_SYMBOLS);
        openblas.symbols.openblas_set_num_threads(threads);
        const text = openblas.symbols.openblas_get_config();
        config = text ? new Deno.UnsafePointerView(text).getCString() : "";
      } catch {
        // Not OpenBLAS: its own default threads; nothing to report.
      }
      loaded = {
        // A single-threaded build runs on one thread whatever was asked.
        info: { library, config, threads: config.includes("SINGLE_THREADED") ? 1 : threads },
        sgemm: lib.symbols.cblas_sgemm as unknown as Sgemm,
      };
      return loaded.info;
    } catch (error) {
      errors.push(`${library}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  loadFailure = `no CBLAS library could be opened (apt-get install libopenblas0-serial): ${
    errors.join("; ")
  }`;
  return null;
}

/** Why `loadBlas()` returned null ("" when it has not failed). */
export function blasUnavailable(): string {
  return loadFailure;
}

interface HeapBackend extends WasmBackend {
  wasm: WasmBackend["wasm"] & { HEAPU8: Uint8Array };
}

let original: tf.KernelConfig | null = null;

/**
 * Route the wasm backend's BatchMatMul to the system BLAS. Returns false when it was
 * already installed; throws when no BLAS could be loaded (call `loadBlas()` first).
 */
export function installWasmBlasMatMul(): boolean {
  if (original) return false;
  if (!loaded) throw new Error(`no BLAS to install: ${loadFailure || "call loadBlas() first"}`);
  const unlockedSgemm = loaded.sgemm;
  const sgemm: Sgemm = (...args: Parameters<Sgemm>) => locked(() => unlockedSgemm(...args));
  const config = tf.getKernel("BatchMatMul", "wasm");
  if (!config) throw new Error("tfjs's wasm backend has no BatchMatMul kernel to replace");
  const fallback = config.kernelFunc as unknown as (args: unknown) => Info;
  original = config;

  function blasBatchMatMul(
    args: { inputs: Record<string, Info>; backend: unknown; attrs: Record<string, unknown> },
  ): Info {
    const backend = args.backend as HeapBackend;
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length, rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = outerA.reduce((x, y) => x * y, 1), batchB = outerB.reduce((x, y) => x * y, 1);
    // Other types and empty products go to the kernel underneath.
    if (a.dtype !== "float32" || b.dtype !== "float32" || m * n * k === 0) return fallback(args);
    const { outer, entryA, entryB } = batchEntries(outerA, outerB);
    const out = backend.makeOutput([...outer, m, n], "float32");
    // The heap's address is read after makeOutput, which may have grown (moved) it.
    const heap = Deno.UnsafePointer.of(backend.wasm.HEAPU8 as Uint8Array<ArrayBuffer>);
    const at = (t: Info) => backend.dataIdMap.get(t.dataId).memoryOffset;
    const [offsetA, offsetB, offsetC] = [at(a), at(b), at(out)];
    const lda = a.shape[ra - 1], ldb = b.shape[rb - 1];
    const ta = transposeA ? TRANS : NO_TRANS, tb = transposeB ? TRANS : NO_TRANS;
    if (batchB === 1 && !transposeA) {
      // A batch times one matrix: one tall product over every row of the batch.
      sgemm(
        ROW_MAJOR,
        ta,
        tb,
        batchA * m,
        n,
        k,
        1,
        pointer(heap, offsetA),
        lda,
        pointer(heap, offsetB),
        ldb,
        0,
        pointer(heap, offsetC),
        n,
      );
      return out;
    }
    for (let i = 0; i < entryA.length; i++) {
      sgemm(
        ROW_MAJOR,
        ta,
        tb,
        m,
        n,
        k,
        1,
        pointer(heap, offsetA + 4 * entryA[i] * m * k),
        lda,
        pointer(heap, offsetB + 4 * entryB[i] * k * n),
        ldb,
        0,
        pointer(heap, offsetC + 4 * i * m * n),
        n,
      );
    }
    return out;
  }

  replaceKernel(config, blasBatchMatMul);
  return true;
}

function pointer(heap: Deno.PointerValue, offset: number): Deno.PointerValue {
  return Deno.UnsafePointer.offset(heap as Deno.PointerObject, offset);
}

/** Put back the BatchMatMul kernel that was registered before. Returns false if none. */
export function uninstallWasmBlasMatMul(): boolean {
  if (!original) return false;
  restoreKernels([original]);
  original = null;
  return true;
}
