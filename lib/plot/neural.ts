/**
 * Figures of neural population data: a spike raster with inferred rates, predicted vs true
 * rates, condition PSTHs, latent trajectories (PCA) and decoded behavior. Each is an async,
 * pure function of plain arrays (`Array3`, `Int32Array`, numbers and names; never tensors
 * or models) that returns one `<svg>` element ({@link Figure}) holding every panel, its
 * titles and its legend; it saves as SVG or PNG (`output.ts`) and displays inline in the
 * Deno Jupyter kernel.
 *
 * Units: rates come in **spikes per bin** (what `predict` and a dataset's `truth` hold) and
 * are drawn in **spikes/s** (`x 1000 / binMs`); time is in ms from the start of bin 0 (or
 * from `startMs`, to align to an event such as movement onset). Every panel is a
 * `<g class="blend-panel">` whose `data-*` attributes name what it shows.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * import { rasterFigure } from "./neural.ts";
 * import { saveFigure } from "./output.ts";
 * const data = reachDataset({ trials: 30, heldinNeurons: 30, heldoutNeurons: 5, conditions: 3 });
 * const figure = await rasterFigure({
 *   spikes: data.heldinSpikes,
 *   rates: data.truth!.heldinRates,
 *   trial: 0,
 *   binMs: data.binMs,
 * });
 * await saveFigure(figure, "out/raster.png");
 * ```
 * @module
 */

import { type Array3, assertArray3 } from "../array.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { conditionPSTH, smoothSpikes } from "../metrics/nlb.ts";
import { pca, pcaProject } from "../pca.ts";
import { Random } from "../random.ts";
import { type DomElement, type PlotDocument, plotDocument } from "./document.ts";
import {
  AXIS_FONT,
  categoricalColors,
  checkWidth,
  dotSwatch,
  element,
  figureRoot,
  finishRoot,
  legend,
  type LegendItem,
  lineSwatch,
  MUTED_COLOR,
  PAD,
  panelGroup,
  panelTitle,
  rampLegend,
  TEXT_COLOR,
} from "./layout.ts";
import type { Figure } from "./output.ts";

// ---------------------------------------------------------------------------------------
// Options every neural figure takes

/** Options shared by every figure of this module. */
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

type PlotApi = Awaited<ReturnType<typeof loadPlot>>;

/** A Plot `<svg>` with its scales, to place marks Plot does not draw (the heatmap). */
interface PlotWithScales extends DomElement {
  scale(name: "x" | "y"): { apply(value: number): number };
}

const TRUE_COLOR = TEXT_COLOR;
const PREDICTED_COLOR = "#4269d0";
const HIGHLIGHT_COLOR = "#e66101";

/** Reserved for Plot's y axis when its label is drawn rotated at the left. */
const MARGIN_LEFT = 54;

// ---------------------------------------------------------------------------------------
// Validation

function checkInput(fn: string, input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ArgumentError(`${fn}: expects one options object, got ${describe(input)}`);
  }
  return input as Record<string, unknown>;
}

function checkArray(fn: string, name: string, value: unknown): asserts value is Array3 {
  if (value === undefined) {
    throw new ArgumentError(
      `${fn}: ${name} is missing; pass an Array3 { data, shape: [trials, time, channels] }`,
    );
  }
  try {
    assertArray3(value, name);
  } catch (error) {
    if (error instanceof ArgumentError) throw new ArgumentError(`${fn}: ${error.message}`);
    throw error;
  }
}

function shapeText(a: Array3): string {
  return `[${a.shape.join(", ")}]`;
}

function checkSameShape(fn: string, name: string, a: Array3, refName: string, ref: Array3): void {
  if (a.shape.some((n, i) => n !== ref.shape[i])) {
    throw new ArgumentError(
      `${fn}: ${name} has shape ${shapeText(a)} but ${refName} has ${shapeText(ref)}`,
    );
  }
}

function checkNotEmpty(fn: string, name: string, a: Array3): void {
  if (a.shape.some((n) => n === 0)) {
    throw new ArgumentError(
      `${fn}: ${name} has shape ${shapeText(a)}; it needs at least one trial, bin and channel`,
    );
  }
}

/**
 * Throw at the first value that is not finite (NaN passes when `allowNaN`) or, with
 * `nonNegative`, below 0; the message names the trial, bin and channel.
 */
function checkValues(
  fn: string,
  name: string,
  a: Array3,
  rule: { nonNegative?: boolean; allowNaN?: boolean; what: string },
): void {
  const { data } = a;
  const [, time, channels] = a.shape;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const ok = Number.isFinite(v)
      ? !(rule.nonNegative && v < 0)
      : rule.allowNaN === true && Number.isNaN(v);
    if (!ok) {
      const c = i % channels, t = Math.floor(i / channels) % time;
      const trial = Math.floor(i / (channels * time));
      throw new ArgumentError(
        `${fn}: ${name} has ${v} at trial ${trial}, bin ${t}, channel ${c}; ${rule.what}`,
      );
    }
  }
}

function checkPositive(fn: string, name: string, value: unknown, unit: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ArgumentError(
      `${fn}: ${name} must be a positive number of ${unit}, got ${describe(value)}`,
    );
  }
  return value;
}

function checkIndex(fn: string, name: string, value: unknown, size: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= size) {
    throw new ArgumentError(
      `${fn}: ${name} must be an integer from 0 to ${size - 1} (there are ${size} ${what}), got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/** A non-empty list of distinct integer indices below `size`, at most `max` of them. */
function checkIndexList(
  fn: string,
  name: string,
  value: unknown,
  size: number,
  what: string,
  max = Infinity,
): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ArgumentError(
      `${fn}: ${name} must be a non-empty array of ${what} indices, got ${describe(value)}`,
    );
  }
  if (value.length > max) {
    throw new ArgumentError(
      `${fn}: ${name} has ${value.length} entries, but at most ${max} fit in one figure`,
    );
  }
  const seen = new Set<number>();
  value.forEach((v, k) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= size) {
      throw new ArgumentError(
        `${fn}: ${name}[${k}] is ${describe(v)}, but there are ${size} ${what} (indices 0 to ${
          size - 1
        })`,
      );
    }
    if (seen.has(v)) throw new ArgumentError(`${fn}: ${name} lists ${what} index ${v} twice`);
    seen.add(v);
  });
  return value as number[];
}

function checkCondition(
  fn: string,
  condition: unknown,
  refName: string,
  trials: number,
): Int32Array {
  if (!(condition instanceof Int32Array)) {
    throw new ArgumentError(
      `${fn}: condition must be an Int32Array with one condition id per trial, got ${
        describe(condition)
      }`,
    );
  }
  if (condition.length !== trials) {
    throw new ArgumentError(
      `${fn}: condition has ${condition.length} entries but ${refName} has ${trials} trials`,
    );
  }
  return condition;
}

/** The conditions to draw: `requested` (each must occur), else every id present, ascending. */
function chooseConditions(fn: string, condition: Int32Array, requested: unknown): number[] {
  const present = [...new Set(condition)].sort((a, b) => a - b);
  if (requested === undefined) return present;
  if (!Array.isArray(requested) || requested.length === 0) {
    throw new ArgumentError(
      `${fn}: conditions must be a non-empty array of condition ids, got ${describe(requested)}`,
    );
  }
  const seen = new Set<number>();
  for (const [k, id] of requested.entries()) {
    if (!present.includes(id)) {
      throw new ArgumentError(
        `${fn}: conditions[${k}] is ${describe(id)}, which no trial has (condition ids present: ${
          compactList(present)
        })`,
      );
    }
    if (seen.has(id)) throw new ArgumentError(`${fn}: conditions lists condition ${id} twice`);
    seen.add(id);
  }
  return requested as number[];
}

function compactList(values: number[]): string {
  return values.length > 12
    ? `${values.slice(0, 10).join(", ")}, ... (${values.length} in all)`
    : values.join(", ");
}

/** Width, startMs, title and subtitle, checked. */
function commonOptions(fn: string, input: NeuralFigureOptions): { width: number; startMs: number } {
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

// ---------------------------------------------------------------------------------------
// Shared pieces

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The values of some channels of an `Array3`, as float64: trials x time x chosen. */
function selectChannels(a: Array3, channels: readonly number[]): Array3<Float64Array> {
  const [n, time, width] = a.shape;
  const out = new Float64Array(n * time * channels.length);
  for (let row = 0; row < n * time; row++) {
    for (let k = 0; k < channels.length; k++) {
      out[row * channels.length + k] = a.data[row * width + channels[k]];
    }
  }
  return { data: out, shape: [n, time, channels.length] };
}

/** R² of `predicted` against `actual` (1 - SSres / SStot), over pairs where `actual` is not NaN. */
function rSquared(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  pick?: (i: number) => boolean,
): number {
  let count = 0, sum = 0;
  for (let i = 0; i < actual.length; i++) {
    if ((pick && !pick(i)) || Number.isNaN(actual[i])) continue;
    sum += actual[i];
    count++;
  }
  if (count === 0) return NaN;
  const mean = sum / count;
  let residual = 0, total = 0;
  for (let i = 0; i < actual.length; i++) {
    if ((pick && !pick(i)) || Number.isNaN(actual[i])) continue;
    residual += (actual[i] - predicted[i]) ** 2;
    total += (actual[i] - mean) ** 2;
  }
  return total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
}

function formatR2(r2: number): string {
  return Number.isNaN(r2) ? "n/a" : formatNumber(Number(r2.toFixed(3)), 3);
}

/** A number as in axis labels: a typographic minus (U+2212), `digits` fixed when given. */
function formatNumber(value: number, digits?: number): string {
  const text = digits === undefined ? String(Number(value.toPrecision(6))) : value.toFixed(digits);
  return text.replace("-", "\u2212");
}

function plotPanel(
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
function placePanel(
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

/** Round tick values (0, 1, 2, 5, 10, 20, 50, ...) for a sqrt axis, at least `gapPx` apart. */
function sqrtTicks(max: number, lengthPx: number, gapPx: number): number[] {
  const ticks = [0];
  const at = (v: number) => Math.sqrt(v / max) * lengthPx;
  for (let power = 1e-3; power <= max; power *= 10) {
    for (const m of [1, 2, 5]) {
      const v = m * power;
      if (v <= max && at(v) - at(ticks[ticks.length - 1]) >= gapPx) ticks.push(v);
    }
  }
  return ticks;
}

/** Domains that show `x` and `y` ranges (padded 5 %) at the same units per pixel. */
function equalAspect(
  xr: [number, number],
  yr: [number, number],
  widthPx: number,
  heightPx: number,
): { x: [number, number]; y: [number, number] } {
  const spanX = Math.max(xr[1] - xr[0], 1e-9) * 1.1, spanY = Math.max(yr[1] - yr[0], 1e-9) * 1.1;
  const unit = Math.max(spanX / widthPx, spanY / heightPx);
  const cx = (xr[0] + xr[1]) / 2, cy = (yr[0] + yr[1]) / 2;
  const hx = (unit * widthPx) / 2, hy = (unit * heightPx) / 2;
  return { x: [cx - hx, cx + hx], y: [cy - hy, cy + hy] };
}

function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** The root, title, subtitle and legend; returns where panels start. */
function header(
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

function conditionLegend(ids: number[], colors: string[]): LegendItem[] {
  return [
    legendHeading("condition:"),
    ...ids.map((id, k) => ({ label: String(id), swatch: lineSwatch(colors[k], 3) })),
  ];
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

// ---------------------------------------------------------------------------------------
// Raster

/** Input of {@link rasterFigure}. */
export interface RasterFigureInput extends NeuralFigureOptions {
  /** Spike counts, trials x bins x neurons. */
  spikes: Array3;
  /** Inferred rates (spikes per bin), same shape as `spikes`, drawn as a heatmap below. */
  rates?: Array3;
  /** Which trial to draw (0-based). */
  trial: number;
  /** Bin width, ms. */
  binMs: number;
  /** Which neurons (channel indices), top to bottom. Default: all. */
  neurons?: number[];
}

/**
 * A spike raster of one trial: a tick at every bin where a neuron fired (thicker for 2 and
 * for 3 or more spikes in the bin), time in ms on x, neurons on y (top to bottom in the order
 * given). With `rates`, a second panel below shows the inferred rates of the same neurons
 * and bins as a heatmap in spikes/s, with its colour scale.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 30, heldinNeurons: 30, heldoutNeurons: 5, conditions: 3 });
 * const figure = await rasterFigure({
 *   spikes: data.heldinSpikes,
 *   rates: data.truth!.heldinRates, // or a model's predict(...).heldin
 *   trial: 4,
 *   binMs: data.binMs,
 *   startMs: -250, // 0 ms = movement onset
 * });
 * ```
 */
export async function rasterFigure(input: RasterFigureInput): Promise<Figure> {
  const fn = "rasterFigure";
  checkInput(fn, input);
  const { spikes, rates } = input;
  checkArray(fn, "spikes", spikes);
  checkNotEmpty(fn, "spikes", spikes);
  if (rates !== undefined) {
    checkArray(fn, "rates", rates);
    checkSameShape(fn, "rates", rates, "spikes", spikes);
  }
  const binMs = checkPositive(fn, "binMs", input.binMs, "milliseconds");
  const [trials, bins, channels] = spikes.shape;
  const trial = checkIndex(fn, "trial", input.trial, trials, "trials");
  const neurons = input.neurons === undefined
    ? range(channels)
    : checkIndexList(fn, "neurons", input.neurons, channels, "neurons");
  const { width, startMs } = commonOptions(fn, input);
  const at = (t: number, c: number) => (trial * bins + t) * channels + c;
  const spikeRule = { nonNegative: true, what: "spike counts must be finite and >= 0" };
  const rateRule = { nonNegative: true, what: "rates must be finite and >= 0 (spikes per bin)" };
  for (
    const [name, a, rule] of [["spikes", spikes, spikeRule], ["rates", rates, rateRule]] as const
  ) {
    if (a === undefined) continue;
    for (const c of neurons) {
      for (let t = 0; t < bins; t++) {
        const v = a.data[at(t, c)];
        if (!Number.isFinite(v) || v < 0) {
          throw new ArgumentError(
            `${fn}: ${name} has ${v} at trial ${trial}, bin ${t}, channel ${c}; ${rule.what}`,
          );
        }
      }
    }
  }

  const ticks: { x: number; row: number; count: number }[] = [];
  neurons.forEach((c, row) => {
    for (let t = 0; t < bins; t++) {
      const count = spikes.data[at(t, c)];
      if (count > 0) ticks.push({ x: startMs + (t + 0.5) * binMs, row, count });
    }
  });
  const counts = new Set(ticks.map((d) => Math.min(3, Math.round(d.count))));
  const tickWidth = (count: number) => (count >= 3 ? 3 : count >= 2 ? 2 : 1.1);
  const tickSwatch = (w: number) => (d: PlotDocument) =>
    element(d, "line", { x1: 0, x2: 0, y1: -7, y2: 7, stroke: TEXT_COLOR, "stroke-width": w });
  const items: LegendItem[] = [
    { label: "1 spike in a bin", swatch: tickSwatch(1.1) },
    ...(counts.has(2) ? [{ label: "2 spikes", swatch: tickSwatch(2) }] : []),
    ...(counts.has(3) ? [{ label: "3 or more", swatch: tickSwatch(3) }] : []),
  ];

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const totalSpikes = ticks.reduce((sum, d) => sum + d.count, 0);
  const { root, top } = header(
    document,
    width,
    input.title ?? `Spike raster, trial ${trial}`,
    input.subtitle ??
      `${plural(neurons.length, "neuron")} · ${plural(bins, "bin")} of ${binMs} ms · ${
        plural(totalSpikes, "spike")
      }`,
    items,
  );

  const n = neurons.length;
  const plotHeight = Math.max(120, Math.min(420, n * 6));
  const marginTop = 22, marginBottom = 36;
  const panelHeight = plotHeight + marginTop + marginBottom;
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => (s * plotHeight) / n >= 13) ?? 1000;
  const rowTicks = range(n).filter((r) => r % step === 0);
  const xDomain = [startMs, startMs + bins * binMs];
  const axes = {
    width: width - 2 * PAD,
    height: panelHeight,
    marginLeft: MARGIN_LEFT,
    marginRight: 12,
    marginTop,
    marginBottom,
    x: { domain: xDomain, label: "time (ms)", labelArrow: "none", labelAnchor: "center" },
    y: {
      domain: [-0.5, n - 0.5],
      reverse: true,
      ticks: rowTicks,
      tickFormat: (r: number) => String(neurons[r] ?? ""),
      label: "neuron",
      labelArrow: "none",
      labelAnchor: "center",
    },
  };
  const raster = plotPanel(Plot, document, {
    ...axes,
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      Plot.ruleX(ticks, {
        x: "x",
        y1: (d: { row: number }) => d.row - 0.42,
        y2: (d: { row: number }) => d.row + 0.42,
        stroke: TEXT_COLOR,
        strokeWidth: (d: { count: number }) => tickWidth(d.count),
        className: "blend-spike",
      }),
    ],
  });
  let y = top;
  placePanel(document, root, raster, {
    x: PAD,
    y,
    title: "Spikes",
    titleX: MARGIN_LEFT,
  }, { kind: "raster", trial: String(trial) });
  y += panelHeight + 6;

  if (rates !== undefined) {
    const toHz = 1000 / binMs;
    let max = 0;
    for (const c of neurons) {
      for (let t = 0; t < bins; t++) max = Math.max(max, rates.data[at(t, c)] * toHz);
    }
    const maxHz = max || 1;
    const color = Plot.scale({ color: { type: "linear", scheme: "viridis", domain: [0, maxHz] } });
    const heat = plotPanel(Plot, document, {
      ...axes,
      marks: [Plot.frame({ stroke: "#ccc" })],
    }) as PlotWithScales;
    const levels = 48;
    const paths = Array.from({ length: levels }, () => [] as string[]);
    const xs = heat.scale("x"), ys = heat.scale("y");
    const px = (v: number) => v.toFixed(2);
    neurons.forEach((c, row) => {
      const y0 = ys.apply(row - 0.5), y1 = ys.apply(row + 0.5);
      let t0 = 0;
      const level = (t: number) =>
        Math.min(levels - 1, Math.floor(((rates.data[at(t, c)] * toHz) / maxHz) * levels));
      for (let t = 1; t <= bins; t++) {
        if (t < bins && level(t) === level(t0)) continue;
        const xa = xs.apply(startMs + t0 * binMs), xb = xs.apply(startMs + t * binMs);
        paths[level(t0)].push(
          `M${px(xa)} ${px(Math.min(y0, y1))}H${px(xb)}V${px(Math.max(y0, y1))}H${px(xa)}Z`,
        );
        t0 = t;
      }
    });
    const group = element(document, "g", {
      class: "blend-heatmap",
      "aria-label": "heatmap",
      "shape-rendering": "crispEdges",
    });
    paths.forEach((d, k) => {
      if (d.length === 0) return;
      group.appendChild(
        element(document, "path", {
          d: d.join(""),
          fill: color.apply(((k + 0.5) / levels) * maxHz),
        }),
      );
    });
    // Behind the axes and the frame: right after Plot's <style>.
    (heat as unknown as { insertBefore(node: DomElement, before: DomElement | null): void })
      .insertBefore(group, heat.children[1] ?? null);
    placePanel(document, root, heat, {
      x: PAD,
      y,
      title: "Inferred rates",
      titleX: MARGIN_LEFT,
    }, { kind: "rates", trial: String(trial) });
    y += panelHeight + 4;
    const ramp = rampLegend(document, {
      label: "inferred rate (spikes/s)",
      domain: [0, maxHz],
      color: (v) => color.apply(v) as string,
      x: PAD + MARGIN_LEFT,
      y,
      width: 260,
    });
    root.appendChild(ramp.group);
    y += ramp.height + 4;
  }
  return finishRoot(root, width, y + PAD);
}

// ---------------------------------------------------------------------------------------
// Predicted vs true rates

/** Input of {@link ratesVsTruthFigure}. */
export interface RatesVsTruthInput extends NeuralFigureOptions {
  /** Predicted rates (spikes per bin), trials x bins x neurons. */
  predicted: Array3;
  /** True rates (spikes per bin), same shape (a synthetic dataset's `truth`). */
  truth: Array3;
  /** Bin width, ms. */
  binMs: number;
  /** Trials whose traces to draw (one row of panels each, at most 6). Default: the first 3. */
  trials?: number[];
  /**
   * Neurons whose traces to draw (one column each, at most 6). Default: the 4 whose true
   * rates vary most.
   */
  neurons?: number[];
  /**
   * At most this many points in the scatter, drawn at random (seeded) when there are more;
   * R² always uses every value. Default 2500.
   */
  maxPoints?: number;
  /**
   * Scale of both scatter axes: `"sqrt"` (default) spreads the many low rates (a Poisson
   * count's spread grows with its rate), or `"linear"`. The identity line is straight either way.
   */
  scatterScale?: "sqrt" | "linear";
}

/**
 * Predicted against true rates (spikes/s). Small multiples of rate over time, one row per
 * trial and one column per neuron (true solid dark, predicted blue); below, a scatter of
 * predicted vs true values of every trial, bin and neuron with the identity line and the
 * pooled R² (`1 - Σ(pred - true)² / Σ(true - mean)²`, over all values) in its title, and the
 * R² of each neuron (over its trials and bins), the drawn neurons highlighted.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * import { smoothSpikes } from "../metrics/nlb.ts";
 * const data = reachDataset({ trials: 60, heldinNeurons: 30, heldoutNeurons: 5, conditions: 4 });
 * const figure = await ratesVsTruthFigure({
 *   predicted: smoothSpikes(data.heldinSpikes, 40, data.binMs), // or predict(...).heldin
 *   truth: data.truth!.heldinRates,
 *   binMs: data.binMs,
 * });
 * ```
 */
export async function ratesVsTruthFigure(input: RatesVsTruthInput): Promise<Figure> {
  const fn = "ratesVsTruthFigure";
  checkInput(fn, input);
  const { predicted, truth } = input;
  checkArray(fn, "predicted", predicted);
  checkArray(fn, "truth", truth);
  checkSameShape(fn, "predicted", predicted, "truth", truth);
  checkNotEmpty(fn, "truth", truth);
  const rule = { nonNegative: true, what: "rates must be finite and >= 0 (spikes per bin)" };
  checkValues(fn, "predicted", predicted, rule);
  checkValues(fn, "truth", truth, rule);
  const binMs = checkPositive(fn, "binMs", input.binMs, "milliseconds");
  const [trials, bins, channels] = truth.shape;
  const shownTrials = input.trials === undefined
    ? range(Math.min(3, trials))
    : checkIndexList(fn, "trials", input.trials, trials, "trials", 6);
  const maxPoints = input.maxPoints ?? 2500;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new ArgumentError(`${fn}: maxPoints must be an integer >= 1, got ${describe(maxPoints)}`);
  }
  const scale = input.scatterScale ?? "sqrt";
  if (scale !== "sqrt" && scale !== "linear") {
    throw new ArgumentError(
      `${fn}: scatterScale must be "sqrt" or "linear", got ${describe(scale)}`,
    );
  }
  const { width, startMs } = commonOptions(fn, input);
  const toHz = 1000 / binMs;

  // Per-neuron R² and variance of the truth, and the pooled R².
  const pooledR2 = rSquared(truth.data, predicted.data);
  const neuronR2 = range(channels).map((c) =>
    rSquared(truth.data, predicted.data, (i) => i % channels === c)
  );
  const variance = range(channels).map((c) => {
    let sum = 0, squares = 0;
    for (let i = c; i < truth.data.length; i += channels) {
      (sum += truth.data[i], squares += truth.data[i] ** 2);
    }
    const m = sum / (trials * bins);
    return squares / (trials * bins) - m * m;
  });
  const shownNeurons = input.neurons === undefined
    ? range(channels).sort((a, b) => variance[b] - variance[a] || a - b).slice(0, 4).sort((a, b) =>
      a - b
    )
    : checkIndexList(fn, "neurons", input.neurons, channels, "neurons", 6);

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const { root, top } = header(
    document,
    width,
    input.title ?? "Predicted vs true firing rates",
    input.subtitle ??
      `${plural(trials, "trial")} × ${plural(bins, "bin")} of ${binMs} ms × ${
        plural(channels, "neuron")
      }; traces of trials ${shownTrials.join(", ")}`,
    [
      { label: "true", swatch: lineSwatch(TRUE_COLOR, 2) },
      { label: "predicted", swatch: lineSwatch(PREDICTED_COLOR, 2) },
    ],
  );

  // Small multiples: rows = trials, columns = neurons; each column shares its y scale.
  const columns = shownNeurons.length;
  const cellWidth = Math.floor((width - 2 * PAD) / columns);
  const cellHeight = 132;
  const xDomain = [startMs, startMs + bins * binMs];
  let y = top;
  shownTrials.forEach((trial, r) => {
    const last = r === shownTrials.length - 1;
    shownNeurons.forEach((c, k) => {
      let max = 0;
      for (const i of shownTrials) {
        for (let t = 0; t < bins; t++) {
          const j = (i * bins + t) * channels + c;
          max = Math.max(max, truth.data[j] * toHz, predicted.data[j] * toHz);
        }
      }
      const series: { x: number; y: number; kind: string }[] = [];
      for (const [kind, a] of [["true", truth], ["predicted", predicted]] as const) {
        for (let t = 0; t < bins; t++) {
          series.push({
            x: startMs + (t + 0.5) * binMs,
            y: a.data[(trial * bins + t) * channels + c] * toHz,
            kind,
          });
        }
      }
      const plot = plotPanel(Plot, document, {
        width: cellWidth,
        height: cellHeight + (last ? 14 : 0),
        marginLeft: k === 0 ? MARGIN_LEFT : 40,
        marginRight: 8,
        marginTop: 22,
        marginBottom: last ? 36 : 22,
        x: {
          domain: xDomain,
          label: last ? "time (ms)" : null,
          labelArrow: "none",
          labelAnchor: "center",
          ticks: 4,
        },
        y: {
          domain: [0, max || 1],
          nice: true,
          ticks: 4,
          grid: true,
          label: k === 0 ? "rate (spikes/s)" : null,
          labelArrow: "none",
          labelAnchor: "center",
        },
        color: {
          type: "ordinal",
          domain: ["true", "predicted"],
          range: [TRUE_COLOR, PREDICTED_COLOR],
        },
        marks: [
          Plot.line(series, {
            x: "x",
            y: "y",
            z: "kind",
            stroke: "kind",
            strokeWidth: 1.6,
            className: "blend-trace",
          }),
        ],
      });
      placePanel(document, root, plot, {
        x: PAD + k * cellWidth,
        y,
        title: `trial ${trial} · neuron ${c}`,
        titleX: k === 0 ? MARGIN_LEFT : 40,
      }, { kind: "trace", trial: String(trial), neuron: String(c) });
    });
    y += cellHeight + (last ? 14 : 0) + 4;
  });
  y += 6;

  // Scatter of every value (a seeded sample when there are many) with the identity line.
  const total = truth.data.length;
  let picked: number[];
  if (total <= maxPoints) picked = range(total);
  else {
    const rng = new Random(0);
    picked = range(maxPoints);
    for (let i = maxPoints; i < total; i++) {
      const j = Math.floor(rng.uniform() * (i + 1));
      if (j < maxPoints) picked[j] = i;
    }
    picked.sort((a, b) => a - b);
  }
  const points = picked.map((i) => ({ x: truth.data[i] * toHz, y: predicted.data[i] * toHz }));
  let maxAll = 0;
  for (let i = 0; i < total; i++) {
    maxAll = Math.max(maxAll, truth.data[i] * toHz, predicted.data[i] * toHz);
  }
  const side = Math.min(400, Math.floor((width - 2 * PAD) / 2));
  const inner = side - MARGIN_LEFT - 14;
  const scatterHeight = inner + 44 + 40;
  const domain = [0, maxAll || 1];
  // Plot's own sqrt ticks crowd at the top; pick round values at least 22 px apart.
  const axisTicks = scale === "sqrt" ? sqrtTicks(maxAll || 1, inner, 22) : undefined;
  const scatter = plotPanel(Plot, document, {
    width: side,
    height: scatterHeight,
    marginLeft: MARGIN_LEFT,
    marginRight: 14,
    marginTop: 44,
    marginBottom: 40,
    x: {
      type: scale,
      domain,
      nice: scale === "linear",
      ticks: axisTicks,
      label: `true rate (spikes/s${scale === "sqrt" ? ", √ scale" : ""})`,
      labelArrow: "none",
      labelAnchor: "center",
    },
    y: {
      type: scale,
      domain,
      nice: scale === "linear",
      ticks: axisTicks,
      label: `predicted rate (spikes/s${scale === "sqrt" ? ", √ scale" : ""})`,
      labelArrow: "none",
      labelAnchor: "center",
    },
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      Plot.dot(points, {
        x: "x",
        y: "y",
        r: 1.6,
        fill: PREDICTED_COLOR,
        fillOpacity: 0.3,
        className: "blend-scatter",
      }),
      Plot.line([{ x: 0, y: 0 }, { x: maxAll || 1, y: maxAll || 1 }], {
        x: "x",
        y: "y",
        stroke: HIGHLIGHT_COLOR,
        strokeWidth: 1.5,
        strokeDasharray: "5 4",
        className: "blend-identity",
      }),
    ],
  });
  const scatterGroup = placePanel(document, root, scatter, {
    x: PAD,
    y,
    title: `All values: R² = ${formatR2(pooledR2)}`,
    note: points.length < total
      ? `${points.length.toLocaleString("en-US")} of ${
        total.toLocaleString("en-US")
      } values drawn; dashed: y = x`
      : `${total.toLocaleString("en-US")} values; dashed: y = x`,
  }, { kind: "scatter" });
  scatterGroup.setAttribute("data-r2", String(pooledR2));

  // R² of each neuron (clipped at -1 for drawing), the traced ones highlighted.
  const floor = -1;
  const neuronRows = neuronR2.map((r2, c) => ({
    neuron: c,
    r2,
    shown: Math.max(floor, r2),
    highlight: shownNeurons.includes(c),
  })).filter((d) => !Number.isNaN(d.r2));
  const clipped = neuronRows.filter((d) => d.r2 < floor).length;
  const sorted = neuronRows.map((d) => d.r2).sort((a, b) => a - b);
  const median = sorted.length === 0
    ? NaN
    : sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const lowest = Math.min(0, ...neuronRows.map((d) => d.shown));
  const r2Panel = plotPanel(Plot, document, {
    width: width - 2 * PAD - side,
    height: scatterHeight,
    marginLeft: MARGIN_LEFT + 10,
    marginRight: 14,
    marginTop: 44,
    marginBottom: 40,
    x: {
      domain: [-0.5, channels - 0.5],
      label: "neuron",
      labelArrow: "none",
      labelAnchor: "center",
    },
    y: {
      domain: [lowest, 1],
      nice: true,
      grid: true,
      label: "R² of the neuron's rate",
      labelArrow: "none",
      labelAnchor: "center",
    },
    marks: [
      Plot.ruleY([0], { stroke: "#999" }),
      Plot.dot(neuronRows.filter((d) => !d.highlight), {
        x: "neuron",
        y: "shown",
        r: 2.5,
        fill: MUTED_COLOR,
        fillOpacity: 0.7,
        className: "blend-neuron-r2",
      }),
      Plot.dot(neuronRows.filter((d) => d.highlight), {
        x: "neuron",
        y: "shown",
        r: 4,
        fill: HIGHLIGHT_COLOR,
        className: "blend-neuron-r2",
      }),
      Plot.text(neuronRows.filter((d) => d.highlight), {
        x: "neuron",
        y: "shown",
        text: (d: { neuron: number }) => String(d.neuron),
        dy: -9,
        fill: HIGHLIGHT_COLOR,
        fontSize: 10,
      }),
    ],
  });
  placePanel(document, root, r2Panel, {
    x: PAD + side,
    y,
    title: `R² per neuron (median ${formatR2(median)})`,
    titleX: MARGIN_LEFT + 10,
    note: `orange: neurons traced above${clipped > 0 ? `; ${clipped} below −1 drawn at −1` : ""}`,
  }, { kind: "neuron-r2" });
  y += scatterHeight;
  return finishRoot(root, width, y + PAD);
}

// ---------------------------------------------------------------------------------------
// PSTHs

/** Input of {@link psthFigure}. */
export interface PsthFigureInput extends NeuralFigureOptions {
  /** Predicted rates (spikes per bin), trials x bins x neurons. */
  rates: Array3;
  /**
   * Spike counts, same shape: when given, their smoothed condition means (the empirical
   * PSTHs) are drawn beside the predicted ones, on the same y scale.
   */
  spikes?: Array3;
  /** Condition id of each trial. */
  condition: Int32Array;
  /** Bin width, ms. */
  binMs: number;
  /** Which neurons (one panel, or a pair of panels, each; at most 12). */
  neurons: number[];
  /** Which conditions (one line each). Default: every condition present, ascending. */
  conditions?: number[];
  /** Standard deviation of the Gaussian that smooths `spikes`, ms. Default 50. */
  smoothSdMs?: number;
  /** Panels per row without `spikes`. Default 3 (fewer with fewer neurons). */
  columns?: number;
}

/**
 * Peri-stimulus time histograms: for each neuron, the mean rate over the trials of each
 * condition (spikes/s over time, one line per condition, coloured by condition). With
 * `spikes`, each neuron gets two panels on one y scale: the PSTH of the predicted rates and
 * that of the spikes smoothed with a Gaussian (`smoothSdMs`, the NLB kernel), the "true"
 * PSTH a model should reproduce.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 80, heldinNeurons: 20, heldoutNeurons: 5, conditions: 4 });
 * const figure = await psthFigure({
 *   rates: data.truth!.heldinRates, // or predict(...).heldin
 *   spikes: data.heldinSpikes,
 *   condition: data.condition,
 *   binMs: data.binMs,
 *   neurons: [0, 3, 7],
 * });
 * ```
 */
export async function psthFigure(input: PsthFigureInput): Promise<Figure> {
  const fn = "psthFigure";
  checkInput(fn, input);
  const { rates, spikes } = input;
  checkArray(fn, "rates", rates);
  checkNotEmpty(fn, "rates", rates);
  if (spikes !== undefined) {
    checkArray(fn, "spikes", spikes);
    checkSameShape(fn, "spikes", spikes, "rates", rates);
  }
  const binMs = checkPositive(fn, "binMs", input.binMs, "milliseconds");
  const [trials, bins, channels] = rates.shape;
  const condition = checkCondition(fn, input.condition, "rates", trials);
  const neurons = checkIndexList(fn, "neurons", input.neurons, channels, "neurons", 12);
  const ids = chooseConditions(fn, condition, input.conditions);
  const smoothSdMs = checkPositive(fn, "smoothSdMs", input.smoothSdMs ?? 50, "milliseconds");
  const { width, startMs } = commonOptions(fn, input);
  const columns = spikes !== undefined ? 2 : Math.min(neurons.length, input.columns ?? 3);
  if (!Number.isInteger(columns) || columns < 1) {
    throw new ArgumentError(
      `${fn}: columns must be an integer >= 1, got ${describe(input.columns)}`,
    );
  }
  const chosenTrials = range(trials).filter((i) => ids.includes(condition[i]));
  const selectedRates = selectChannels(rates, neurons);
  checkValues(fn, "rates", selectedRates, {
    nonNegative: true,
    what: "rates must be finite and >= 0 (spikes per bin)",
  });
  const toHz = 1000 / binMs;
  const predictedPsth = conditionPSTH(selectedRates, condition, chosenTrials);
  let spikePsth: ReturnType<typeof conditionPSTH> | undefined;
  if (spikes !== undefined) {
    const selected = selectChannels(spikes, neurons);
    checkValues(fn, "spikes", selected, {
      nonNegative: true,
      what: "spike counts must be finite and >= 0",
    });
    let smoothed: Array3;
    try {
      smoothed = smoothSpikes(selected, smoothSdMs, binMs);
    } catch (error) {
      if (error instanceof ArgumentError) {
        throw new ArgumentError(`${fn}: smoothSdMs: ${error.message}`);
      }
      throw error;
    }
    spikePsth = conditionPSTH(smoothed, condition, chosenTrials);
  }
  // conditionPSTH orders conditions ascending; map to the requested order.
  const slot = new Map(predictedPsth.conditionIds.map((id, k) => [id, k]));
  const trialsPer = ids.map((id) => chosenTrials.filter((i) => condition[i] === id).length);
  const colors = categoricalColors(ids.length);

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const minTrials = Math.min(...trialsPer), maxTrials = Math.max(...trialsPer);
  const { root, top } = header(
    document,
    width,
    input.title ?? "Condition-averaged rates (PSTHs)",
    input.subtitle ??
      `mean over ${
          minTrials === maxTrials ? minTrials : `${minTrials}–${maxTrials}`
        } trials per condition` +
        (spikes !== undefined ? `; spikes smoothed with a Gaussian of σ = ${smoothSdMs} ms` : ""),
    conditionLegend(ids, colors),
  );

  const k = neurons.length;
  const panelWidth = Math.floor((width - 2 * PAD) / columns);
  const panelHeight = 150;
  const rowsOfPanels = spikes !== undefined ? k : Math.ceil(k / columns);
  const xDomain = [startMs, startMs + bins * binMs];
  const linesOf = (psth: Array3, column: number) => {
    const rows: { x: number; y: number; condition: string }[] = [];
    for (const id of ids) {
      const s = slot.get(id)!;
      for (let t = 0; t < bins; t++) {
        rows.push({
          x: startMs + (t + 0.5) * binMs,
          y: psth.data[(s * bins + t) * k + column] * toHz,
          condition: String(id),
        });
      }
    }
    return rows;
  };
  const panels: { neuron: number; index: number; source: "predicted" | "spikes" }[] = [];
  neurons.forEach((neuron, index) => {
    panels.push({ neuron, index, source: "predicted" });
    if (spikePsth) panels.push({ neuron, index, source: "spikes" });
  });
  const top0 = top;
  panels.forEach((p, n) => {
    const column = n % columns, row = Math.floor(n / columns);
    const last = n + columns >= panels.length; // no panel below: label the time axis
    const own = linesOf(p.source === "predicted" ? predictedPsth.psth : spikePsth!.psth, p.index);
    const both = spikePsth
      ? [...linesOf(predictedPsth.psth, p.index), ...linesOf(spikePsth.psth, p.index)]
      : own;
    const [, max] = extent(both.map((d) => d.y));
    const left = column === 0 ? MARGIN_LEFT : 42;
    const plot = plotPanel(Plot, document, {
      width: panelWidth,
      height: panelHeight + (last ? 14 : 0),
      marginLeft: left,
      marginRight: 10,
      marginTop: 22,
      marginBottom: last ? 36 : 22,
      x: {
        domain: xDomain,
        label: last ? "time (ms)" : null,
        labelArrow: "none",
        labelAnchor: "center",
      },
      y: {
        domain: [0, max || 1],
        nice: true,
        grid: true,
        ticks: 4,
        label: column === 0 ? "rate (spikes/s)" : null,
        labelArrow: "none",
        labelAnchor: "center",
      },
      color: { type: "ordinal", domain: ids.map(String), range: colors },
      marks: [
        Plot.line(own, {
          x: "x",
          y: "y",
          z: "condition",
          stroke: "condition",
          strokeWidth: 1.6,
          className: "blend-psth",
        }),
      ],
    });
    const what = p.source === "predicted" ? (spikePsth ? "predicted" : "") : "smoothed spikes";
    placePanel(document, root, plot, {
      x: PAD + column * panelWidth,
      y: top0 + row * (panelHeight + 4),
      title: `neuron ${p.neuron}${what ? ` · ${what}` : ""}`,
      titleX: left,
    }, { kind: "psth", neuron: String(p.neuron), source: p.source });
  });
  return finishRoot(root, width, top0 + rowsOfPanels * (panelHeight + 4) + 14 + PAD);
}

// ---------------------------------------------------------------------------------------
// Latent trajectories

/** Input of {@link latentTrajectoriesFigure}. */
export interface LatentTrajectoriesInput extends NeuralFigureOptions {
  /** Latents (a model's, or a dataset's `truth.latents`): trials x bins x latent dims. */
  latents: Array3;
  /** Condition id of each trial. */
  condition: Int32Array;
  /** Bin width, ms. */
  binMs: number;
  /**
   * 2: PC1 vs PC2, beside PC1 and PC2 over time. 3: the three pairs PC1–PC2, PC1–PC3 and
   * PC2–PC3. Default 2.
   */
  components?: 2 | 3;
  /** Which conditions (one trajectory each). Default: every condition present. */
  conditions?: number[];
  /**
   * What the PCA is fit on: the condition-averaged trajectories (default; the usual choice
   * for such plots) or every single-trial bin. Either way the condition means are drawn.
   */
  fitOn?: "conditionMeans" | "trials";
}

/**
 * Latent trajectories: the condition-averaged latents projected on their principal
 * components (computed here in float64, see `lib/pca.ts`), one line per condition coloured
 * by condition, a dot at the first bin. Axis labels give each PC's share of the variance
 * (of what the PCA was fit on). PC axes are drawn at equal scale, so the shape is true.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 80, heldinNeurons: 20, heldoutNeurons: 5, conditions: 6 });
 * const figure = await latentTrajectoriesFigure({
 *   latents: data.truth!.latents, // or predict(..., { latents: true }).latents
 *   condition: data.condition,
 *   binMs: data.binMs,
 *   components: 3,
 * });
 * ```
 */
export async function latentTrajectoriesFigure(input: LatentTrajectoriesInput): Promise<Figure> {
  const fn = "latentTrajectoriesFigure";
  checkInput(fn, input);
  const { latents } = input;
  checkArray(fn, "latents", latents);
  checkNotEmpty(fn, "latents", latents);
  const binMs = checkPositive(fn, "binMs", input.binMs, "milliseconds");
  const [trials, bins, dims] = latents.shape;
  const condition = checkCondition(fn, input.condition, "latents", trials);
  const components = input.components ?? 2;
  if (components !== 2 && components !== 3) {
    throw new ArgumentError(`${fn}: components must be 2 or 3, got ${describe(components)}`);
  }
  if (dims < components) {
    throw new ArgumentError(
      `${fn}: components is ${components} but latents have only ${dims} dimensions (shape ${
        shapeText(latents)
      })`,
    );
  }
  const fitOn = input.fitOn ?? "conditionMeans";
  if (fitOn !== "conditionMeans" && fitOn !== "trials") {
    throw new ArgumentError(
      `${fn}: fitOn must be "conditionMeans" or "trials", got ${describe(fitOn)}`,
    );
  }
  checkValues(fn, "latents", latents, { what: "latents must be finite" });
  const ids = chooseConditions(fn, condition, input.conditions);
  const { width, startMs } = commonOptions(fn, input);

  const chosenTrials = range(trials).filter((i) => ids.includes(condition[i]));
  const { psth: means, conditionIds } = conditionPSTH(latents, condition, chosenTrials);
  const meanRows = { data: means.data, rows: conditionIds.length * bins, cols: dims };
  let fit;
  try {
    fit = fitOn === "trials"
      ? pca({
        data: chosenTrials.flatMap((i) =>
          Array.from(latents.data.subarray(i * bins * dims, (i + 1) * bins * dims))
        ),
        rows: chosenTrials.length * bins,
        cols: dims,
      }, components)
      : pca(meanRows, components);
  } catch (error) {
    if (error instanceof ArgumentError) throw new ArgumentError(`${fn}: latents: ${error.message}`);
    throw error;
  }
  const scores = pcaProject(fit, meanRows);
  const slot = new Map(conditionIds.map((id, k) => [id, k]));
  const colors = categoricalColors(ids.length);
  const points: { t: number; time: number; condition: string; pc: number[] }[] = [];
  for (const id of ids) {
    const s = slot.get(id)!;
    for (let t = 0; t < bins; t++) {
      const row = s * bins + t;
      points.push({
        t,
        time: startMs + (t + 0.5) * binMs,
        condition: String(id),
        pc: Array.from(scores.data.subarray(row * components, (row + 1) * components)),
      });
    }
  }
  const percent = Array.from(fit.varianceRatio, (r) => `${(100 * r).toFixed(1)}%`);
  const axisLabel = (p: number) => `PC${p + 1} (${percent[p]} of variance)`;
  const explained = 100 * fit.varianceRatio.reduce((a, b) => a + b, 0);

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const startLabel = `start (${formatNumber(startMs + 0.5 * binMs)} ms)`;
  const { root, top } = header(
    document,
    width,
    input.title ?? "Latent trajectories",
    input.subtitle ??
      `PCA of the ${
        fitOn === "trials" ? "single-trial" : "condition-averaged"
      } latents (${dims} dims, ${plural(ids.length, "condition")}); PCs 1–${components} explain ${
        explained.toFixed(1)
      }%`,
    [
      ...conditionLegend(ids, colors),
      { label: startLabel, swatch: dotSwatch("white", 4, TEXT_COLOR) },
    ],
  );
  const colorScale = { type: "ordinal", domain: ids.map(String), range: colors };
  const starts = points.filter((d) => d.t === 0);

  const trajectory = (a: number, b: number, size: number, x: number, y: number) => {
    const margins = { left: MARGIN_LEFT, right: 12, top: 24, bottom: 40 };
    const inner = {
      w: size - margins.left - margins.right,
      h: size - margins.top - margins.bottom,
    };
    const domains = equalAspect(
      extent(points.map((d) => d.pc[a])),
      extent(points.map((d) => d.pc[b])),
      inner.w,
      inner.h,
    );
    const plot = plotPanel(Plot, document, {
      width: size,
      height: size,
      marginLeft: margins.left,
      marginRight: margins.right,
      marginTop: margins.top,
      marginBottom: margins.bottom,
      x: {
        domain: domains.x,
        label: axisLabel(a),
        labelArrow: "none",
        labelAnchor: "center",
        ticks: 5,
      },
      y: {
        domain: domains.y,
        label: axisLabel(b),
        labelArrow: "none",
        labelAnchor: "center",
        ticks: 5,
      },
      color: colorScale,
      marks: [
        Plot.frame({ stroke: "#ccc" }),
        Plot.line(points, {
          x: (d: { pc: number[] }) => d.pc[a],
          y: (d: { pc: number[] }) => d.pc[b],
          z: "condition",
          stroke: "condition",
          strokeWidth: 1.6,
          strokeOpacity: 0.9,
          className: "blend-trajectory",
        }),
        Plot.dot(starts, {
          x: (d: { pc: number[] }) => d.pc[a],
          y: (d: { pc: number[] }) => d.pc[b],
          fill: "condition",
          stroke: TEXT_COLOR,
          strokeWidth: 1,
          r: 3.5,
          className: "blend-start",
        }),
      ],
    });
    placePanel(document, root, plot, {
      x,
      y,
      title: `PC${a + 1} vs PC${b + 1}`,
      titleX: margins.left,
    }, {
      kind: "trajectory",
      pcs: `${a + 1},${b + 1}`,
    });
  };

  let bottom: number;
  if (components === 2) {
    const size = Math.min(440, Math.floor((width - 2 * PAD) * 0.55));
    trajectory(0, 1, size, PAD, top);
    const rest = width - 2 * PAD - size;
    const half = Math.floor(size / 2);
    for (const p of [0, 1]) {
      const plot = plotPanel(Plot, document, {
        width: rest,
        height: half,
        marginLeft: MARGIN_LEFT,
        marginRight: 12,
        marginTop: 24,
        marginBottom: p === 1 ? 40 : 22,
        x: {
          domain: [startMs, startMs + bins * binMs],
          label: p === 1 ? "time (ms)" : null,
          labelArrow: "none",
          labelAnchor: "center",
        },
        y: {
          label: `PC${p + 1} score (a.u.)`,
          labelArrow: "none",
          labelAnchor: "center",
          grid: true,
          ticks: 4,
          nice: true,
        },
        color: colorScale,
        marks: [
          Plot.line(points, {
            x: "time",
            y: (d: { pc: number[] }) => d.pc[p],
            z: "condition",
            stroke: "condition",
            strokeWidth: 1.4,
            className: "blend-pc-trace",
          }),
        ],
      });
      placePanel(document, root, plot, {
        x: PAD + size,
        y: top + p * half,
        title: `PC${p + 1} over time`,
        titleX: MARGIN_LEFT,
      }, { kind: "time", pc: String(p + 1) });
    }
    bottom = top + size;
  } else {
    const size = Math.floor((width - 2 * PAD) / 3);
    [[0, 1], [0, 2], [1, 2]].forEach(([a, b], k) => trajectory(a, b, size, PAD + k * size, top));
    bottom = top + size;
  }
  return finishRoot(root, width, bottom + PAD);
}

// ---------------------------------------------------------------------------------------
// Decoding

/** Input of {@link decodingFigure}. */
export interface DecodingFigureInput extends NeuralFigureOptions {
  /** Decoded behavior (e.g. hand velocity in mm/s), trials x bins x dims. */
  predicted: Array3;
  /** Measured behavior, same shape; NaN where not measured (skipped in R², gaps in traces). */
  actual: Array3;
  /** Bin width, ms. */
  binMs: number;
  /** One name per behavior dimension (`hand_vel_x`, ...). */
  names: string[];
  /** Trials to draw (at most 10). Default: the first 4. */
  trials?: number[];
  /** Unit of the behavior. Default `"mm/s"` (the path is then in mm). */
  unit?: string;
  /** The two dimensions integrated into the 2-D path. Default `[0, 1]` (none with one dim). */
  pathDims?: [number, number];
}

/**
 * Decoded against measured behavior. Left: one panel per dimension, behavior over time for a
 * few trials (solid measured, dashed decoded, coloured by trial), titled with the
 * dimension's R² over every trial and bin (pairs with NaN measured values skipped). Right:
 * the paths the two `pathDims` trace when integrated over time (velocity x bin width, from
 * the origin; a path stops at its first unmeasured bin), at equal scale in x and y.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 60, heldinNeurons: 20, heldoutNeurons: 5, conditions: 4 });
 * const figure = await decodingFigure({
 *   predicted: data.behavior, // a decoder's output, e.g. ridge from rates
 *   actual: data.behavior,
 *   binMs: data.binMs,
 *   names: data.behaviorNames,
 * });
 * ```
 */
export async function decodingFigure(input: DecodingFigureInput): Promise<Figure> {
  const fn = "decodingFigure";
  checkInput(fn, input);
  const { predicted, actual } = input;
  checkArray(fn, "predicted", predicted);
  checkArray(fn, "actual", actual);
  checkSameShape(fn, "predicted", predicted, "actual", actual);
  checkNotEmpty(fn, "actual", actual);
  const binMs = checkPositive(fn, "binMs", input.binMs, "milliseconds");
  const [trials, bins, dims] = actual.shape;
  const names = input.names;
  if (!Array.isArray(names) || names.length !== dims || names.some((n) => typeof n !== "string")) {
    throw new ArgumentError(
      `${fn}: names must be ${dims} strings, one per behavior dimension of actual (shape ${
        shapeText(actual)
      }), got ${describe(names)}`,
    );
  }
  checkValues(fn, "predicted", predicted, { what: "decoded values must be finite" });
  checkValues(fn, "actual", actual, {
    allowNaN: true,
    what: "measured values must be finite (or NaN where not measured)",
  });
  const shownTrials = input.trials === undefined
    ? range(Math.min(4, trials))
    : checkIndexList(fn, "trials", input.trials, trials, "trials", 10);
  const unit = input.unit ?? "mm/s";
  if (typeof unit !== "string") {
    throw new ArgumentError(`${fn}: unit must be a string, got ${describe(unit)}`);
  }
  let pathDims: [number, number] | undefined;
  if (input.pathDims !== undefined) {
    const pair = checkIndexList(fn, "pathDims", input.pathDims, dims, "behavior dimensions", 2);
    if (pair.length !== 2) {
      throw new ArgumentError(`${fn}: pathDims must name two dimensions, got ${pair.length}`);
    }
    pathDims = [pair[0], pair[1]];
  } else if (dims >= 2) pathDims = [0, 1];
  const { width, startMs } = commonOptions(fn, input);

  const r2 = range(dims).map((d) => rSquared(actual.data, predicted.data, (i) => i % dims === d));
  const colors = categoricalColors(shownTrials.length);
  const trialKeys = shownTrials.map((i) => `trial ${i}`);
  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const { root, top } = header(
    document,
    width,
    input.title ?? "Decoded vs measured behavior",
    input.subtitle ??
      `R² over ${plural(trials, "trial")} × ${plural(bins, "bin")} of ${binMs} ms; traces of ${
        plural(shownTrials.length, "trial")
      }`,
    [
      ...shownTrials.map((i, k) => ({ label: `trial ${i}`, swatch: lineSwatch(colors[k], 3) })),
      { label: "measured", swatch: lineSwatch(TEXT_COLOR, 2) },
      { label: "decoded", swatch: lineSwatch(TEXT_COLOR, 2, "5 3") },
    ],
  );
  const colorScale = { type: "ordinal", domain: trialKeys, range: colors };

  const pathSize = pathDims ? Math.min(360, Math.floor((width - 2 * PAD) * 0.45)) : 0;
  const traceWidth = width - 2 * PAD - pathSize;
  const traceHeight = Math.max(150, pathDims ? Math.floor(pathSize / dims) : 150);
  const xDomain = [startMs, startMs + bins * binMs];
  for (let d = 0; d < dims; d++) {
    const last = d === dims - 1;
    const rows: { x: number; y: number; trial: string; kind: string }[] = [];
    shownTrials.forEach((i, k) => {
      for (const [kind, a] of [["measured", actual], ["decoded", predicted]] as const) {
        for (let t = 0; t < bins; t++) {
          rows.push({
            x: startMs + (t + 0.5) * binMs,
            y: a.data[(i * bins + t) * dims + d],
            trial: trialKeys[k],
            kind,
          });
        }
      }
    });
    const plot = plotPanel(Plot, document, {
      width: traceWidth,
      height: traceHeight + (last ? 14 : 0),
      marginLeft: MARGIN_LEFT + 6,
      marginRight: 16,
      marginTop: 22,
      marginBottom: last ? 36 : 22,
      x: {
        domain: xDomain,
        label: last ? "time (ms)" : null,
        labelArrow: "none",
        labelAnchor: "center",
      },
      y: {
        label: `${names[d]} (${unit})`,
        labelArrow: "none",
        labelAnchor: "center",
        grid: true,
        nice: true,
        ticks: 5,
      },
      color: colorScale,
      marks: [
        Plot.ruleY([0], { stroke: "#bbb" }),
        Plot.line(rows.filter((r) => r.kind === "measured"), {
          x: "x",
          y: "y",
          z: "trial",
          stroke: "trial",
          strokeWidth: 1.8,
          className: "blend-measured",
        }),
        Plot.line(rows.filter((r) => r.kind === "decoded"), {
          x: "x",
          y: "y",
          z: "trial",
          stroke: "trial",
          strokeWidth: 1.8,
          strokeDasharray: "5 3",
          className: "blend-decoded",
        }),
      ],
    });
    const group = placePanel(document, root, plot, {
      x: PAD,
      y: top + d * (traceHeight + 8),
      title: `${names[d]}: R² = ${formatR2(r2[d])}`,
      titleX: MARGIN_LEFT + 6,
    }, { kind: "trace", dimension: names[d] });
    group.setAttribute("data-r2", String(r2[d]));
  }
  let bottom = top + dims * (traceHeight + 8) + 6;

  if (pathDims) {
    const [a, b] = pathDims;
    const step = binMs / 1000;
    const pathUnit = unit.endsWith("/s") ? unit.slice(0, -2) : `${unit}·s`;
    const rows: { x: number; y: number; trial: string; kind: string }[] = [];
    shownTrials.forEach((i, k) => {
      for (const [kind, arr] of [["measured", actual], ["decoded", predicted]] as const) {
        let px = 0, py = 0;
        rows.push({ x: 0, y: 0, trial: trialKeys[k], kind });
        for (let t = 0; t < bins; t++) {
          px += arr.data[(i * bins + t) * dims + a] * step;
          py += arr.data[(i * bins + t) * dims + b] * step;
          rows.push({ x: px, y: py, trial: trialKeys[k], kind }); // NaN once unmeasured: Plot stops
        }
      }
    });
    const margins = { left: MARGIN_LEFT + 6, right: 14, top: 38, bottom: 40 };
    const domains = equalAspect(
      extent(rows.map((r) => r.x)),
      extent(rows.map((r) => r.y)),
      pathSize - margins.left - margins.right,
      pathSize - margins.top - margins.bottom,
    );
    const plot = plotPanel(Plot, document, {
      width: pathSize,
      height: pathSize,
      marginLeft: margins.left,
      marginRight: margins.right,
      marginTop: margins.top,
      marginBottom: margins.bottom,
      x: {
        domain: domains.x,
        label: `∫ ${names[a]} dt (${pathUnit})`,
        labelArrow: "none",
        labelAnchor: "center",
        ticks: 5,
      },
      y: {
        domain: domains.y,
        label: `∫ ${names[b]} dt (${pathUnit})`,
        labelArrow: "none",
        labelAnchor: "center",
        ticks: 5,
      },
      color: colorScale,
      marks: [
        Plot.frame({ stroke: "#ccc" }),
        Plot.line(rows.filter((r) => r.kind === "measured"), {
          x: "x",
          y: "y",
          z: "trial",
          stroke: "trial",
          strokeWidth: 1.8,
          className: "blend-measured",
        }),
        Plot.line(rows.filter((r) => r.kind === "decoded"), {
          x: "x",
          y: "y",
          z: "trial",
          stroke: "trial",
          strokeWidth: 1.8,
          strokeDasharray: "5 3",
          className: "blend-decoded",
        }),
        Plot.dot([{ x: 0, y: 0 }], {
          x: "x",
          y: "y",
          r: 3.5,
          fill: TEXT_COLOR,
          className: "blend-start",
        }),
      ],
    });
    placePanel(document, root, plot, {
      x: PAD + traceWidth,
      y: top,
      title: "Paths (integrated)",
      note: `from the dot at ${formatNumber(startMs)} ms to ${
        formatNumber(startMs + bins * binMs)
      } ms`,
      titleX: margins.left,
    }, { kind: "path", dimensions: `${names[a]},${names[b]}` });
    bottom = Math.max(bottom, top + pathSize);
  }
  return finishRoot(root, width, bottom + PAD);
}
