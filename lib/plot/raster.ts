/**
 * The spike raster of one trial, with the inferred rates as a heatmap below: an async, pure
 * function of plain arrays (`Array3`, numbers; never tensors or models) that returns one
 * `<svg>` element ({@link Figure}) holding every panel, its titles and its legend; it saves
 * as SVG or PNG (`output.ts`) and displays inline in the Deno Jupyter kernel.
 *
 * Units: rates come in **spikes per bin** (what `predict` and a dataset's `truth` hold) and
 * are drawn in **spikes/s** (`x 1000 / binMs`); time is in ms from the start of bin 0 (or
 * from `startMs`, to align to an event such as movement onset). Every panel is a
 * `<g class="blend-panel">` whose `data-*` attributes name what it shows.
 *
 * @example
 * ```ts
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * import { rasterFigure } from "./raster.ts";
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

import type { Array3 } from "../array.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { type DomElement, type PlotDocument, plotDocument } from "./document.ts";
import {
  commonOptions,
  element,
  finishRoot,
  header,
  type LegendItem,
  MARGIN_LEFT,
  type NeuralFigureOptions,
  PAD,
  placePanel,
  plotPanel,
  rampLegend,
  TEXT_COLOR,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import { plural, range } from "./scales.ts";
import {
  checkArray,
  checkIndexList,
  checkInput,
  checkNotEmpty,
  checkPositive,
  checkSameShape,
} from "./validate.ts";

/** A Plot `<svg>` with its scales, to place marks Plot does not draw (the heatmap). */
interface PlotWithScales extends DomElement {
  scale(name: "x" | "y"): { apply(value: number): number };
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
