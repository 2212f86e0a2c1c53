/**
 * The shared layout of blend's multi-panel figures: one `<svg>` root with a title, a
 * legend, and panels (Observable Plot plots moved into `<g class="blend-panel">` groups),
 * plus the colours, text sizes and option checks every figure module uses.
 *
 * Used by every figure module: `comparison.ts` and `curves.ts` (summaries of runs), and
 * `raster.ts`, `rates.ts`, `psth.ts`, `latents.ts` and `decoding.ts` (neural data), which
 * also share {@link NeuralFigureOptions}, their checks, the header and the panel placement
 * below. Not part of the public API, except {@link NeuralFigureOptions}, which `mod.ts`
 * re-exports.
 * @module
 */

import type { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { type DomElement, type PlotDocument, SVG_NS } from "./document.ts";
import { asFigure, type Figure } from "./output.ts";

/** Font of every text (DejaVu Sans in PNGs, the system UI font in a browser). */
export const FONT_FAMILY = "system-ui, sans-serif";
/** Colour of titles, labels and legend text. */
export const TEXT_COLOR = "#222";
/** Colour of subtitles and notes. */
export const MUTED_COLOR = "#555";
/** Font size of tick labels and axis labels inside panels. */
export const AXIS_FONT = 11;
/** Font size of legend labels. */
export const LEGEND_FONT = 12;
/** Outer padding of a figure, px. */
export const PAD = 12;

/** Observable's ten categorical colours (Plot's `observable10`), for runs and trials. */
export const RUN_COLORS: readonly string[] = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

/**
 * `count` distinguishable colours: {@link RUN_COLORS} for up to 10, else hues evenly spaced
 * around the colour wheel (saturated and dark enough to read on white), which also suits
 * conditions that are directions (reach targets).
 */
export function categoricalColors(count: number): string[] {
  if (count <= RUN_COLORS.length) return RUN_COLORS.slice(0, count);
  return Array.from(
    { length: count },
    (_, k) => `hsl(${Math.round((360 * k) / count)}, 72%, ${k % 2 === 0 ? 44 : 56}%)`,
  );
}

/** Approximate width of `text` in pixels (DejaVu Sans / system UI fonts average ~0.6 em). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** Create an SVG element with attributes and, optionally, text. */
export function element(
  document: PlotDocument,
  name: string,
  attributes: Record<string, string | number> = {},
  text?: string,
): DomElement {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Move a Plot `<svg>`'s content into a `<g>` translated to (x, y), keeping its presentation
 * attributes and dropping its `<style>` (whose `height: auto` would stretch a nested SVG in
 * a browser), so the panel is plain SVG that composes anywhere. `data` becomes `data-*`
 * attributes that name what the panel shows.
 */
export function panelGroup(
  document: PlotDocument,
  plot: DomElement,
  x: number,
  y: number,
  data: Record<string, string>,
): DomElement {
  const group = element(document, "g", { class: "blend-panel", transform: `translate(${x},${y})` });
  for (const [key, value] of Object.entries(data)) group.setAttribute(`data-${key}`, value);
  for (const name of ["fill", "font-family", "text-anchor"]) {
    const value = plot.getAttribute(name);
    if (value !== null) group.setAttribute(name, value);
  }
  group.setAttribute("font-size", String(AXIS_FONT));
  for (const child of Array.from(plot.children)) {
    if (child.tagName.toLowerCase() === "style") continue;
    group.appendChild(child);
  }
  // Plot paints halos and marker centres with var(--plot-background), defined in the
  // dropped <style>; resvg has no CSS variables, so name the colour.
  for (const node of Array.from(group.querySelectorAll("[fill], [stroke]"))) {
    for (const name of ["fill", "stroke"]) {
      if (node.getAttribute(name) === "var(--plot-background)") node.setAttribute(name, "white");
    }
  }
  return group;
}

/**
 * A bold title above a panel: `(x, y)` is the left end of its baseline, in the coordinates
 * of the parent (typically the panel's own group, with `y` inside its top margin).
 */
export function panelTitle(
  document: PlotDocument,
  text: string,
  x: number,
  y: number,
  fontSize = 12,
): DomElement {
  return element(document, "text", {
    class: "blend-panel-title",
    x,
    y,
    "font-size": fontSize,
    "font-weight": "bold",
    "text-anchor": "start",
    fill: TEXT_COLOR,
  }, text);
}

/** One legend entry: a label and a swatch drawn in a 16 x 16 box centred on (0, 0). */
export interface LegendItem {
  /** The text beside the swatch. */
  label: string;
  /** Draw the swatch (centred on the origin). */
  swatch: (document: PlotDocument) => DomElement;
}

/** A legend swatch: a short horizontal line (dashed when `dash` is given). */
export function lineSwatch(color: string, width = 2.5, dash?: string): LegendItem["swatch"] {
  return (d) =>
    element(d, "line", {
      x1: -8,
      x2: 8,
      y1: 0,
      y2: 0,
      stroke: color,
      "stroke-width": width,
      ...(dash ? { "stroke-dasharray": dash } : {}),
    });
}

/** A legend swatch: a dot, filled (default) or with a dark outline. */
export function dotSwatch(color: string, r = 5, stroke?: string): LegendItem["swatch"] {
  return (d) =>
    element(d, "circle", {
      r,
      fill: color,
      ...(stroke ? { stroke, "stroke-width": 1.5 } : {}),
    });
}

/** Lay legend items out in rows that wrap at `maxWidth`; returns the group and its height. */
export function legend(
  document: PlotDocument,
  items: LegendItem[],
  x: number,
  y: number,
  maxWidth: number,
): { group: DomElement; height: number } {
  const group = element(document, "g", {
    class: "blend-legend",
    transform: `translate(${x},${y})`,
    "font-size": LEGEND_FONT,
    "text-anchor": "start",
    fill: TEXT_COLOR,
  });
  const lineHeight = 20;
  let cx = 0;
  let row = 0;
  for (const item of items) {
    const width = 20 + textWidth(item.label, LEGEND_FONT) + 18;
    if (cx > 0 && cx + width > maxWidth) {
      cx = 0;
      row++;
    }
    const entry = element(document, "g", {
      class: "blend-legend-item",
      transform: `translate(${cx},${row * lineHeight})`,
    });
    const swatch = element(document, "g", { transform: "translate(8,8)" });
    swatch.appendChild(item.swatch(document));
    entry.appendChild(swatch);
    entry.appendChild(element(document, "text", { x: 20, y: 8, dy: "0.35em" }, item.label));
    group.appendChild(entry);
    cx += width;
  }
  return { group, height: (row + 1) * lineHeight };
}

/**
 * A horizontal colour ramp (for a continuous colour scale) with a label above and tick
 * values below, drawn as 64 adjacent rectangles (no gradient, so no document-wide ids).
 * `color` maps a value in `domain` to a CSS colour. Returns the group and its height.
 */
export function rampLegend(
  document: PlotDocument,
  options: {
    label: string;
    domain: [number, number];
    color: (value: number) => string;
    x: number;
    y: number;
    width: number;
    ticks?: number;
  },
): { group: DomElement; height: number } {
  const { label, domain: [lo, hi], color, width } = options;
  const group = element(document, "g", {
    class: "blend-ramp",
    transform: `translate(${options.x},${options.y})`,
    "font-size": AXIS_FONT,
    fill: TEXT_COLOR,
  });
  group.appendChild(
    element(
      document,
      "text",
      { x: 0, y: 11, "font-size": LEGEND_FONT, "text-anchor": "start" },
      label,
    ),
  );
  const top = 16, barHeight = 10, steps = 64;
  for (let k = 0; k < steps; k++) {
    group.appendChild(
      element(document, "rect", {
        x: ((k * width) / steps).toFixed(2),
        y: top,
        width: (width / steps + 0.5).toFixed(2),
        height: barHeight,
        fill: color(lo + ((k + 0.5) / steps) * (hi - lo)),
      }),
    );
  }
  for (const value of niceTicks(lo, hi, options.ticks ?? 5)) {
    const tx = ((value - lo) / (hi - lo || 1)) * width;
    group.appendChild(
      element(document, "line", {
        x1: tx.toFixed(2),
        x2: tx.toFixed(2),
        y1: top + barHeight,
        y2: top + barHeight + 4,
        stroke: TEXT_COLOR,
      }),
    );
    group.appendChild(
      element(document, "text", {
        x: tx.toFixed(2),
        y: top + barHeight + 15,
        "text-anchor": "middle",
      }, formatTick(value)),
    );
  }
  return { group, height: top + barHeight + 20 };
}

/** About `count` round values (1, 2 or 5 x 10^k apart) from `lo` to `hi`, both included if round. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

function formatTick(value: number): string {
  return Number(value.toPrecision(6)).toString();
}

/** The root `<svg>` with a white background, title and subtitle; returns it and the y below. */
export function figureRoot(
  document: PlotDocument,
  width: number,
  title: string | undefined,
  subtitle: string | undefined,
): { root: DomElement; top: number } {
  const root = element(document, "svg", {
    xmlns: SVG_NS,
    width,
    viewBox: `0 0 ${width} 0`,
    "font-family": FONT_FAMILY,
    "font-size": AXIS_FONT,
    color: TEXT_COLOR,
  });
  root.appendChild(
    element(document, "rect", {
      class: "blend-background",
      width: "100%",
      height: "100%",
      fill: "white",
    }),
  );
  let top = PAD;
  if (title) {
    root.appendChild(
      element(document, "text", {
        class: "blend-title",
        x: PAD,
        y: top + 16,
        "font-size": 16,
        "font-weight": "bold",
        fill: TEXT_COLOR,
      }, title),
    );
    top += 24;
  }
  if (subtitle) {
    root.appendChild(
      element(document, "text", {
        class: "blend-subtitle",
        x: PAD,
        y: top + 13,
        "font-size": 13,
        fill: MUTED_COLOR,
      }, subtitle),
    );
    top += 20;
  }
  if (title || subtitle) top += 6;
  return { root, top };
}

/** Set the root's height (and viewBox) once every panel is placed, and make it a {@link Figure}. */
export function finishRoot(root: DomElement, width: number, height: number): Figure {
  const h = Math.ceil(height);
  root.setAttribute("height", String(h));
  root.setAttribute("viewBox", `0 0 ${width} ${h}`);
  return asFigure(root);
}

/** A number option that must be finite and at least `min` (a width, a height, ...). */
export function checkWidth(fn: string, name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new ArgumentError(`${fn}: ${name} must be a number >= ${min}, got ${describe(value)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// Shared by the neural figures (raster, rates vs truth, PSTHs, latents, decoding)

/** Options shared by every neural figure (raster, rates vs truth, PSTH, latents, decoding). */
export interface NeuralFigureOptions {
  /** A title above the figure (each figure has a default). */
  title?: string;
  /** A line below the title (each figure has a default describing the data). */
  subtitle?: string;
  /** Width of the whole figure in pixels. Default 800. */
  width?: number;
  /**
   * Time of the start of bin 0, in ms: `-250` puts 0 ms at bin 50 of 5 ms bins (movement
   * onset in `reachDataset`). Default 0.
   */
  startMs?: number;
}

/** The Observable Plot module, as `loadPlot` resolves it. */
export type PlotApi = Awaited<ReturnType<typeof loadPlot>>;

/** Reserved for Plot's y axis when its label is drawn rotated at the left. */
export const MARGIN_LEFT = 54;

/** Width, startMs, title and subtitle, checked. */
export function commonOptions(
  fn: string,
  input: NeuralFigureOptions,
): { width: number; startMs: number } {
  const width = checkWidth(fn, "width", input.width ?? 800, 320);
  const startMs = input.startMs ?? 0;
  if (typeof startMs !== "number" || !Number.isFinite(startMs)) {
    throw new ArgumentError(
      `${fn}: startMs must be a finite number of ms, got ${describe(startMs)}`,
    );
  }
  for (const key of ["title", "subtitle"] as const) {
    if (input[key] !== undefined && typeof input[key] !== "string") {
      throw new ArgumentError(`${fn}: ${key} must be a string, got ${describe(input[key])}`);
    }
  }
  return { width, startMs };
}

/** `Plot.plot` with blend's axis font size and the given DOM. */
export function plotPanel(
  Plot: PlotApi,
  document: PlotDocument,
  options: Record<string, unknown>,
): DomElement {
  return Plot.plot(
    {
      document,
      style: { fontSize: `${AXIS_FONT}px` },
      ...options,
    } as Parameters<PlotApi["plot"]>[0],
  ) as unknown as DomElement;
}

/** Place a Plot panel at (x, y) with a bold title at its top-left and, optionally, a note. */
export function placePanel(
  document: PlotDocument,
  root: DomElement,
  plot: DomElement,
  at: { x: number; y: number; title?: string; note?: string; titleX?: number },
  data: Record<string, string>,
): DomElement {
  const group = panelGroup(document, plot, at.x, at.y, data);
  const titleX = at.titleX ?? 4;
  if (at.title) group.appendChild(panelTitle(document, at.title, titleX, 14));
  if (at.note) {
    group.appendChild(
      element(document, "text", {
        class: "blend-panel-note",
        x: titleX,
        y: 29,
        "font-size": AXIS_FONT,
        "text-anchor": "start",
        fill: MUTED_COLOR,
      }, at.note),
    );
  }
  root.appendChild(group);
  return group;
}

/** The root, title, subtitle and legend; returns where panels start. */
export function header(
  document: PlotDocument,
  width: number,
  title: string,
  subtitle: string | undefined,
  items: LegendItem[],
): { root: DomElement; top: number } {
  const { root, top } = figureRoot(document, width, title, subtitle);
  if (items.length === 0) return { root, top };
  const { group, height } = legend(document, items, PAD, top, width - 2 * PAD);
  root.appendChild(group);
  return { root, top: top + height + 4 };
}

/** A label-only legend entry (the name of what the following swatches encode). */
function legendHeading(label: string): LegendItem {
  return { label, swatch: (d) => element(d, "g") };
}

/** The legend of condition colours: a heading, then one line swatch per condition id. */
export function conditionLegend(ids: number[], colors: string[]): LegendItem[] {
  return [
    legendHeading("condition:"),
    ...ids.map((id, k) => ({ label: String(id), swatch: lineSwatch(colors[k], 3) })),
  ];
}
