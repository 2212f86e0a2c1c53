/**
 * Choose, start and report the compute backend for TensorFlow.js.
 *
 * Automatic choice: WebGPU when a hardware GPU adapter exists, else wasm (XNNPACK, the
 * fast CPU path), else tfjs's plain JavaScript `cpu` backend. A software WebGPU adapter
 * (Mesa's llvmpipe, which reports itself as a fallback) is slower than wasm, so it is used
 * only when asked for by name. The environment variable `BLEND_BACKEND` (`webgpu`, `wasm`
 * or `cpu`) overrides both the automatic choice and the caller's preference.
 * @module
 */

import { attachDisplay, htmlTable } from "./html.ts";
import { tf, tfWasm } from "./deps.ts";
import { BackendError } from "./errors.ts";
import { installWasmIdentity, uninstallWasmIdentity } from "./kernels/wasm_identity.ts";
import { installWasmMatMul, uninstallWasmMatMul } from "./kernels/wasm_matmul.ts";
import { installWasmSlice, uninstallWasmSlice } from "./kernels/wasm_slice.ts";
import { installWasmSum, uninstallWasmSum } from "./kernels/wasm_sum.ts";
import {
  type BlasInfo,
  blasUnavailable,
  installWasmBlasMatMul,
  loadBlas,
  shareBlasLock,
  uninstallWasmBlasMatMul,
} from "./kernels/wasm_blas.ts";
import { installWebGPUAddN } from "./kernels/webgpu_addn.ts";

/** The backends blend can run on. */
export type BackendName = "webgpu" | "wasm" | "cpu";

/** The backends, in the order the automatic choice tries them. */
export const BACKENDS: readonly BackendName[] = ["webgpu", "wasm", "cpu"];

/** What the WebGPU adapter says about itself. */
export interface AdapterInfo {
  /** Vendor name or PCI id. */
  vendor: string;
  /** GPU family, when the driver reports one. */
  architecture: string;
  /** Device name or id. */
  device: string;
  /** Human-readable adapter name (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"). */
  description: string;
  /** True for a software (CPU-emulated) adapter such as Mesa's llvmpipe. */
  isFallback: boolean;
}

/** What `backendInfo()` reports. */
export interface BackendInfo {
  /** The backend tfjs is running on now. */
  backend: BackendName;
  /** How it was chosen: `"BLEND_BACKEND"`, `"argument"` or `"automatic"`. */
  chosenBy: "BLEND_BACKEND" | "argument" | "automatic";
  /** Why this backend, in words. */
  reason: string;
  /** The WebGPU adapter, or null when none could be found. */
  adapter: AdapterInfo | null;
  /** wasm features (SIMD, threads); null until the wasm backend has been started. */
  wasm: {
    simd: boolean;
    multithread: boolean;
    threads: number;
    /**
     * Who multiplies matrices: `blas`, the system BLAS through FFI (with blend's other
     * wasm kernels); `fast`, blend's wasm kernels on XNNPACK; `naive`, tfjs's own kernels.
     * Chosen by `BLEND_WASM_MATMUL` (`auto`, the default: blas when it loads, else fast).
     */
    matMul: WasmMatMul;
    /** The BLAS in use when `matMul` is `blas`; else null. */
    blas: BlasInfo | null;
    /** When `BLEND_WASM_MATMUL` is `auto` and the BLAS did not load: why. */
    blasUnavailable?: string;
  } | null;
  /** tfjs version. */
  tfjs: string;
}

let current: BackendInfo | null = null;

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /**
   * Who multiplies matrices on wasm, overriding `BLEND_WASM_MATMUL`: `auto`, `blas`, `fast`
   * or `naive`.
   */
  wasmMatMul?: "auto" | "blas" | "fast" | "naive";
  /**
   * A lock (a 4-byte `SharedArrayBuffer`) shared by every worker of the process that
   * trains: the single-threaded OpenBLAS keeps its work buffers in shared state and is not
   * safe to enter from two threads at once (two workers' runs silently corrupted each
   * other's products), so its calls take turns.
   */
  blasLock?: SharedArrayBuffer;
}

/** Who multiplies matrices on the wasm backend (see `BackendInfo.wasm.matMul`). */
export type WasmMatMul = "blas" | "fast" | "naive";

/**
 * Install the wasm kernels `BLEND_WASM_MATMUL` asks for: `auto` (the default) uses the
 * system BLAS when it loads (`--allow-ffi` and libopenblas0-serial) and blend's XNNPACK kernels
 * otherwise; `blas` requires the BLAS; `fast` is blend's kernels on XNNPACK (matrix
 * products on its fast path, copy-free Identity and Cast, slices that copy only what they
 * return, sums over leading axes without a transpose); `naive` is tfjs's own kernels.
 */
function chooseWasmMatMul(requested?: string): WasmMatMul {
  let choice = requested ?? "auto";
  try {
    choice = requested ?? (Deno.env.get("BLEND_WASM_MATMUL") || "auto");
  } catch {
    // No env permission: the default.
  }
  if (!["auto", "blas", "fast", "naive"].includes(choice)) {
    throw new BackendError(
      `BLEND_WASM_MATMUL must be "auto", "blas", "fast" or "naive", got "${choice}"`,
    );
  }
  // The BLAS kernel wraps the XNNPACK one: take it off first, put it on last.
  uninstallWasmBlasMatMul();
  const blas = choice === "auto" || choice === "blas" ? loadBlas() : null;
  if (choice === "blas" && !blas) {
    throw new BackendError(`BLEND_WASM_MATMUL=blas, but ${blasUnavailable()}`);
  }
  if (choice === "naive") {
    uninstallWasmMatMul();
    uninstallWasmIdentity();
    uninstallWasmSlice();
    uninstallWasmSum();
    return "naive";
  }
  installWasmMatMul();
  installWasmIdentity();
  installWasmSlice();
  installWasmSum();
  if (!blas) return "fast";
  installWasmBlasMatMul();
  return "blas";
}

// tfjs's cpu backend prints an advert for tfjs-node on its first write when it believes it
// runs in Node (Deno's npm layer looks like Node). It is not useful advice here.
function silenceCpuBanner(): void {
  const cpu = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (cpu && "firstUse" in cpu) cpu.firstUse = false;
}

// Mesa's Vulkan driver prints an error when XDG_RUNTIME_DIR is unset (common in CI and
// containers); point it at the temp directory before the first adapter request.
function quietMesa(): void {
  try {
    if (Deno.build.os === "linux" && !Deno.env.get("XDG_RUNTIME_DIR")) {
      Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
    }
  } catch {
    // No env permission: the driver may print its warning, nothing else changes.
  }
}

let adapterProbe: Promise<AdapterInfo | null> | null = null;

/** Ask the platform for a WebGPU adapter (once per process); null when there is none. */
export function probeAdapter(): Promise<AdapterInfo | null> {
  adapterProbe ??= (async () => {
    const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
    if (!gpu) return null;
    quietMesa();
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return null;
      const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
      const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
      return {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallback: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
      };
    } catch {
      return null;
    }
  })();
  return adapterProbe;
}

function readEnvironmentChoice(): string | undefined {
  try {
    return Deno.env.get("BLEND_BACKEND") || undefined;
  } catch {
    return undefined; // not allowed to read the environment: no override
  }
}

function checkName(name: string, source: string): BackendName {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new BackendError(
      `${source} must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return name as BackendName;
}

async function wasmFeatures(): Promise<
  Omit<NonNullable<BackendInfo["wasm"]>, "matMul" | "blas" | "blasUnavailable">
> {
  return {
    simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
    multithread: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
    threads: tfWasm.getThreadsCount(),
  };
}

// Start one backend or say why it cannot start.
async function start(name: BackendName, adapter: AdapterInfo | null): Promise<void> {
  if (name === "webgpu" && !adapter) {
    const hasApi = Boolean((globalThis.navigator as { gpu?: GPU } | undefined)?.gpu);
    throw new BackendError(
      hasApi
        ? "webgpu cannot start: the platform offers no WebGPU adapter (no GPU driver; on " +
          "Debian, `apt-get install mesa-vulkan-drivers` gives a software one)"
        : "webgpu cannot start: this runtime has no navigator.gpu (WebGPU API)",
    );
  }
  let ok = false;
  let cause = "";
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    cause = `: ${error instanceof Error ? error.message : String(error)}`;
    ok = false;
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(`${name} backend failed to start${cause || " (tfjs refused it)"}`);
  }
}

/**
 * Start a compute backend and return what was chosen and why.
 *
 * Precedence: `BLEND_BACKEND` in the environment, then `prefer`, then the automatic
 * choice (hardware WebGPU > wasm > cpu). A backend asked for by name that cannot start
 * throws a `BackendError` saying why; the automatic choice falls through to the next one.
 *
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const info = await initBackend();          // e.g. { backend: "wasm", ... }
 * await initBackend("cpu");                   // explicit choice
 * ```
 */
export async function initBackend(
  prefer?: BackendName | "auto",
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  const fromEnvironment = readEnvironmentChoice();
  const adapter = await probeAdapter();
  let requested: BackendName | null = null;
  let chosenBy: BackendInfo["chosenBy"] = "automatic";
  if (fromEnvironment) {
    requested = checkName(fromEnvironment, "BLEND_BACKEND");
    chosenBy = "BLEND_BACKEND";
  } else if (prefer && prefer !== "auto") {
    requested = checkName(prefer, "initBackend(prefer)");
    chosenBy = "argument";
  }

  let reason: string;
  if (requested) {
    await start(requested, adapter);
    reason = chosenBy === "BLEND_BACKEND"
      ? `BLEND_BACKEND=${requested} in the environment`
      : `asked for ${requested}`;
  } else {
    const failures: string[] = [];
    const candidates: BackendName[] = adapter && !adapter.isFallback
      ? ["webgpu", "wasm", "cpu"]
      : ["wasm", "cpu"];
    let started: BackendName | null = null;
    for (const name of candidates) {
      try {
        await start(name, adapter);
        started = name;
        break;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (!started) throw new BackendError(`no backend could start: ${failures.join("; ")}`);
    reason = started === "webgpu"
      ? `hardware WebGPU adapter found (${adapter?.description || adapter?.vendor})`
      : adapter?.isFallback
      ? `only a software WebGPU adapter (${adapter.description}); ${started} is faster`
      : `no WebGPU adapter; ${started} is the fastest CPU backend that started`;
    if (failures.length > 0) reason += ` (skipped: ${failures.join("; ")})`;
  }

  silenceCpuBanner(); // tfjs may fall back to cpu internally whichever backend runs
  const backend = tf.getBackend() as BackendName;
  if (options.blasLock) shareBlasLock(options.blasLock);
  const matMul = backend === "wasm" ? chooseWasmMatMul(options.wasmMatMul) : null;
  if (backend === "webgpu") installWebGPUAddN(); // tfjs's drops inputs past a binding limit
  current = {
    backend,
    chosenBy,
    reason,
    adapter,
    wasm: backend === "wasm" || current?.wasm
      ? { ...(await wasmFeatures()), ...wasmMatMulInfo(matMul ?? current?.wasm?.matMul) }
      : null,
    tfjs: tf.version.tfjs,
  };
  return backendInfo();
}

function wasmMatMulInfo(
  matMul: WasmMatMul | undefined,
): Pick<NonNullable<BackendInfo["wasm"]>, "matMul" | "blas" | "blasUnavailable"> {
  const chosen = matMul ?? "fast";
  const blas = chosen === "blas" ? loadBlas() : null;
  const why = blasUnavailable();
  return { matMul: chosen, blas, ...(chosen === "fast" && why ? { blasUnavailable: why } : {}) };
}

/**
 * What backend is running, why, and what the hardware offers. Before `initBackend()` it
 * reports tfjs's own default without starting anything new.
 */
export function backendInfo(): BackendInfo {
  if (current && current.backend === tf.getBackend()) {
    return withInfoDisplay(structuredClone(current));
  }
  return withInfoDisplay({
    backend: tf.getBackend() as BackendName,
    chosenBy: "automatic",
    reason: "initBackend() has not been called; this is tfjs's default",
    adapter: current?.adapter ?? null,
    wasm: current?.wasm ?? null,
    tfjs: tf.version.tfjs,
  });
}

/**
 * Who multiplies matrices on the wasm backend, in words, with the reason when OpenBLAS is
 * not used (e.g. "XNNPACK (OpenBLAS not used: no FFI permission (run with --allow-ffi))");
 * null on other backends.
 */
export function describeMatMul(info: BackendInfo): string | null {
  const wasm = info.backend === "wasm" ? info.wasm : null;
  if (!wasm) return null;
  if (wasm.matMul === "blas" && wasm.blas) {
    return `OpenBLAS (${wasm.blas.library}, ${wasm.blas.threads} thread${
      wasm.blas.threads === 1 ? "" : "s"
    })`;
  }
  if (wasm.matMul === "naive") return "tfjs's own wasm kernels (BLEND_WASM_MATMUL=naive)";
  return `XNNPACK${wasm.blasUnavailable ? ` (OpenBLAS not used: ${wasm.blasUnavailable})` : ""}`;
}

/** Show backend info in Jupyter as a two-column table. */
function withInfoDisplay(info: BackendInfo): BackendInfo {
  return attachDisplay(info, () => {
    const a = info.adapter;
    const rows = [
      ["backend", info.backend],
      ["why", info.reason],
      ["chosen by", info.chosenBy],
      [
        "WebGPU adapter",
        a ? `${a.description || a.vendor}${a.isFallback ? " (software)" : ""}` : "none",
      ],
      [
        "wasm",
        info.wasm
          ? `SIMD ${info.wasm.simd ? "yes" : "no"}, threads ${
            info.wasm.multithread ? "yes" : "no"
          }, matMul ${info.wasm.matMul}${
            info.wasm.blas ? ` (${info.wasm.blas.library}, ${info.wasm.blas.threads} thread)` : ""
          }`
          : "not started",
      ],
      ["TensorFlow.js", info.tfjs],
    ];
    return {
      "text/html": htmlTable(["", ""], rows, "compute backend"),
      "text/plain": `${info.backend}: ${info.reason}`,
    };
  });
}

/**
 * Throw a clear error when no compute backend has started yet (tfjs would otherwise fail
 * deep inside with "backend 'webgpu' has not yet been initialized"). `caller` names the
 * function the user called.
 */
export function requireBackend(caller: string): void {
  if (tf.engine().backendName == null) {
    throw new BackendError(
      `${caller} needs a compute backend: call \`await initBackend()\` first ` +
        `(it picks WebGPU on a GPU, else wasm, else cpu)`,
    );
  }
}
