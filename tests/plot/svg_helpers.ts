// Shared by the figure tests (raster_test.ts, comparison_test.ts, ...): read a figure's SVG
// back into elements, find its panels and titles, and save it as a PNG.
import assert from "node:assert/strict";
import { loadLinkedom } from "../../lib/deps.ts";
import type { DomElement } from "../../lib/plot/document.ts";
import { type Figure, figureToSvg, saveFigure } from "../../lib/plot/output.ts";

/** Parse SVG text back into elements (linkedom's XML parser), to read what was written. */
export async function parseSvg(text: string): Promise<DomElement> {
  const { DOMParser } = await loadLinkedom();
  const document = new DOMParser().parseFromString(text, "image/svg+xml") as unknown as {
    documentElement: DomElement;
  };
  return document.documentElement;
}

/** A figure's SVG text, parsed back. */
export async function parsed(figure: DomElement): Promise<DomElement> {
  return await parseSvg(figureToSvg(figure));
}

/** Every element under `root` that matches `selector`. */
export function all(root: DomElement, selector: string): DomElement[] {
  return Array.from(root.querySelectorAll(selector));
}

/** The panels of a figure, or those of one `data-kind`. */
export function panels(root: DomElement, kind?: string): DomElement[] {
  return all(root, "g.blend-panel").filter((p) => !kind || p.getAttribute("data-kind") === kind);
}

/** The bold title of a panel. */
export function titleOf(panel: DomElement): string {
  return panel.querySelector("text.blend-panel-title")?.textContent ?? "";
}

/** The number after "R² = " in a title (typographic minus allowed). */
export function r2InTitle(title: string): number {
  const match = /R² = ([\u2212\-\d.]+)/.exec(title);
  assert.ok(match, `title "${title}" shows an R²`);
  return Number(match[1].replace("\u2212", "-"));
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "PNG signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Save `figure` as a PNG at scale 1 in a temporary directory; returns the PNG's size. */
export async function savedPngSize(figure: Figure): Promise<{ width: number; height: number }> {
  const dir = await Deno.makeTempDir({ prefix: "blend_figure_" });
  try {
    const path = `${dir}/figure.png`;
    await saveFigure(figure, path, { scale: 1 });
    return pngSize(await Deno.readFile(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
