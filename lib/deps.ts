// deno-lint-ignore-file no-import-prefix -- this file exists to hold the pinned inline specifiers, so mod.ts works imported by URL
/**
 * The only module that names external packages. Every version is pinned here, as a
 * full `npm:` specifier, so `mod.ts` also works when imported by URL.
 *
 * TensorFlow.js and its backends load eagerly (every model needs them). The figure and
 * file-format packages load on first use, so importing `mod.ts` stays fast for work that
 * never draws or reads HDF5.
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs@4.22.0";
export * as tfWasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
// Registers the "webgpu" backend with tfjs; it starts only when asked for.
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

/** Observable Plot, loaded on first use. */
export const loadPlot = () => import("npm:@observablehq/plot@0.6.17");

/** linkedom (a DOM outside the browser, for Observable Plot), loaded on first use. */
export const loadLinkedom = () => import("npm:linkedom@0.18");

/**
 * resvg (SVG -> PNG, WebAssembly), loaded on first use: its bindings plus `wasm`, the compiled
 * module to pass to `initWasm`. The module is a source-phase import (`import.source`), so it
 * comes from Deno's npm cache like code does: no read or network permission.
 */
export const loadResvg = async (): Promise<
  typeof import("npm:@resvg/resvg-wasm@2.6.2") & { wasm: WebAssembly.Module }
> => ({
  ...(await import("npm:@resvg/resvg-wasm@2.6.2")),
  // @ts-expect-error: TypeScript does not type source-phase imports yet; Deno 2 runs them.
  wasm: await import.source("npm:@resvg/resvg-wasm@2.6.2/index_bg.wasm"),
});

/** h5wasm's Node entry (HDF5 / NWB files), loaded on first use; await its `ready`. */
export const loadH5wasm = () => import("npm:h5wasm@0.10.3/node");
