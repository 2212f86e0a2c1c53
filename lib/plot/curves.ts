/**
 * Training curves, one panel per quantity and one line per run, as a pure function of plain
 * data (records of numbers and names), drawn with Observable Plot. It returns one `<svg>`
 * element ({@link Figure}) holding every panel, its title and its legend, that saves as SVG
 * or PNG (`output.ts`) and displays inline in the Deno Jupyter kernel.
 *
 * Panels that need their own y scale are separate Plot plots placed side by side in one SVG
 * (Plot's facets share one y scale). Each panel is a `<g class="blend-panel">` carrying
 * `data-*` attributes that name what it shows, so tests and tools can find it.
 *
 * Missing values: a row whose `value` is `null` is skipped (a quantity not measured at that
 * epoch). `NaN` and infinities are rejected with an error naming the row, because they
 * usually mean a bug upstream, not an absent value.
 * @module
 */

import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { type DomElement, plotDocument } from "./document.ts";
import {
  AXIS_FONT,
  checkWidth,
  element,
  figureRoot,
  finishRoot,
  legend,
  PAD,
  panelGroup,
  RUN_COLORS,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import {
  checkFinite,
  checkName,
  checkRecord,
  checkRowsArray,
  checkValue,
  inRowOrder,
  orderKeys,
} from "./validate.ts";

/** One value of one quantity at one epoch of one run. */
export interface CurveRow {
  /** The run's name (one line, one colour, per run). */
  run: string;
  /**
   * The epoch number as shown: 1-based, so the trainer's zero-based `epoch` plus 1.
   */
  epoch: number;
  /** What is measured (`"train loss"`, `"val co-bps"`, ...; one panel each). */
  quantity: string;
  /** The value, or null where the quantity was not measured at this epoch (skipped). */
  value: number | null;
}

/** Options of {@link trainingCurvesFigure}. */
export interface TrainingCurvesOptions {
  /** A title above the figure. */
  title?: string;
  /** A line below the title. */
  subtitle?: string;
  /** Width of the whole figure in pixels. Default 800. */
  width?: number;
  /** Height of each panel in pixels. Default 220. */
  panelHeight?: number;
  /** Panels per row. Default 2 (1 when there is one quantity). */
  columns?: number;
  /** Which quantities, in which order. Default: all, in order of first appearance. */
  quantities?: string[];
  /**
   * Units by quantity, shown in the y label as `quantity (unit)`. A quantity whose name
   * contains `bps` defaults to `bits/spike` (unless the name ends in a parenthesis, which
   * is taken to hold the unit already); give `""` to show no unit.
   */
  units?: Record<string, string>;
  /** Log-scale y for these quantities (their values must then be positive). */
  logY?: string[];
}

/**
 * Training curves: one panel per quantity (each with its own y scale), epoch on x
 * (1-based, as given: the trainer's zero-based `epoch` + 1; 0 is refused), one line per
 * run coloured by run, with a legend. Points are marked in a panel where no run has more
 * than 30 values.
 * Rows whose `value` is null are skipped; NaN or infinite values throw.
 *
 * @example
 * ```ts
 * // From a trainer's history: `history.map((h) => ({ run, epoch: h.epoch + 1, ... }))`.
 * const rows = [0.52, 0.44, 0.41].map((loss, i) => ({
 *   run: "ndt",
 *   epoch: i + 1, // 1, 2, 3
 *   quantity: "train loss",
 *   value: loss,
 * }));
 * const figure = await trainingCurvesFigure(rows, {
 *   title: "NDT on MC_Maze",
 *   units: { "train loss": "nats/bin" },
 * });
 * ```
 */
export async function trainingCurvesFigure(
  rows: readonly CurveRow[],
  options: TrainingCurvesOptions = {},
): Promise<Figure> {
  const fn = "trainingCurvesFigure";
  checkRowsArray(fn, rows);
  const parsed: { run: string; epoch: number; quantity: string; value: number }[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const row = checkRecord(fn, rows, i);
    const run = checkName(fn, row, i, "run");
    const epoch = checkFinite(fn, row, i, "epoch");
    if (!Number.isInteger(epoch) || epoch < 1) {
      throw new ArgumentError(
        `${fn}: rows[${i}].epoch must be a 1-based epoch number (an integer >= 1; ` +
          `the trainer's records count from 0, so add 1), got ${epoch}`,
      );
    }
    const quantity = checkName(fn, row, i, "quantity");
    const value = checkValue(fn, row, i);
    const key = JSON.stringify([run, epoch, quantity]);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ArgumentError(
        `${fn}: rows[${i}] repeats run ${describe(run)}, epoch ${epoch}, quantity ${
          describe(quantity)
        } (first at rows[${earlier}])`,
      );
    }
    seen.set(key, i);
    if (value !== null) parsed.push({ run, epoch, quantity, value });
  }
  if (parsed.length === 0) {
    throw new ArgumentError(`${fn}: every row's value is null; there is nothing to draw`);
  }
  const width = checkWidth(fn, "width", options.width ?? 800, 200);
  const panelHeight = checkWidth(fn, "panelHeight", options.panelHeight ?? 220, 120);
  const quantities = orderKeys(
    fn,
    "options.quantities",
    inRowOrder(rows, parsed, "quantity"),
    options.quantities,
  );
  const columns = Math.min(
    quantities.length,
    checkWidth(fn, "columns", options.columns ?? 2, 1),
  );
  if (!Number.isInteger(columns)) {
    throw new ArgumentError(`${fn}: columns must be an integer, got ${options.columns}`);
  }
  const logY = new Set(options.logY ?? []);
  for (const r of parsed) {
    if (logY.has(r.quantity) && r.value <= 0) {
      throw new ArgumentError(
        `${fn}: ${describe(r.quantity)} is drawn on a log scale (options.logY) but run ${
          describe(r.run)
        } has ${r.value} at epoch ${r.epoch}`,
      );
    }
  }
  const runs = inRowOrder(rows, parsed, "run");
  const runColor = (run: string) => RUN_COLORS[runs.indexOf(run) % RUN_COLORS.length];

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const { root, top } = figureRoot(document, width, options.title, options.subtitle);
  const { group: legendGroup, height: legendHeight } = legend(
    document,
    runs.map((run) => ({
      label: run,
      swatch: (d) =>
        element(d, "line", {
          x1: -8,
          x2: 8,
          y1: 0,
          y2: 0,
          stroke: runColor(run),
          "stroke-width": 2.5,
        }),
    })),
    PAD,
    top,
    width - 2 * PAD,
  );
  root.appendChild(legendGroup);

  const epochs = parsed.map((r) => r.epoch);
  const first = Math.min(...epochs);
  const last = Math.max(...epochs);
  const ticks = epochTicks(first, last, Math.max(2, Math.floor(width / columns / 70)));
  const domain = first === last ? [first - 0.5, last + 0.5] : [first, last];
  const panelWidth = Math.floor((width - 2 * PAD) / columns);
  const y0 = top + legendHeight + 6;
  quantities.forEach((quantity, q) => {
    const points = parsed.filter((r) => r.quantity === quantity);
    const unit = options.units?.[quantity] ?? defaultUnit(quantity);
    const label = unit ? `${quantity} (${unit})` : quantity;
    const longest = Math.max(
      ...points.map((r) => r.run)
        .map((run) => points.filter((p) => p.run === run).length),
    );
    const plot = Plot.plot({
      document,
      width: panelWidth,
      height: panelHeight,
      marginLeft: 56,
      marginRight: 14,
      marginTop: 26,
      marginBottom: 36,
      style: { fontSize: `${AXIS_FONT}px` },
      x: { type: "linear", domain, ticks, tickFormat: "d", label: "epoch", labelArrow: "none" },
      y: {
        type: logY.has(quantity) ? "log" : "linear",
        label,
        labelArrow: "none",
        grid: true,
        nice: true,
      },
      color: { type: "ordinal", domain: runs, range: runs.map(runColor) },
      marks: [
        Plot.line(points, {
          x: "epoch",
          y: "value",
          z: "run",
          stroke: "run",
          strokeWidth: 2,
          marker: longest <= 30 ? "circle-stroke" : "none",
          className: "blend-curve",
        }),
      ],
    }) as unknown as DomElement;
    const x = PAD + (q % columns) * panelWidth;
    const y = y0 + Math.floor(q / columns) * (panelHeight + 8);
    root.appendChild(panelGroup(document, plot, x, y, { quantity }));
  });
  const rowsOfPanels = Math.ceil(quantities.length / columns);
  return finishRoot(root, width, y0 + rowsOfPanels * (panelHeight + 8) + PAD - 8);
}

/** `bits/spike` for a `...bps` quantity that does not already name its unit in parentheses. */
function defaultUnit(quantity: string): string {
  return /bps/.test(quantity) && !/\)\s*$/.test(quantity) ? "bits/spike" : "";
}

/** Integer epoch ticks from `first` to `last`: about `count` of them, 1, 2 or 5 x 10^k apart. */
function epochTicks(first: number, last: number, count: number): number[] {
  const span = Math.max(1, last - first);
  let step = 1;
  for (let k = 0; step * count < span; k++) {
    step = [1, 2, 5][k % 3] * 10 ** Math.floor(k / 3);
  }
  const ticks: number[] = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t);
  // Label the first epoch too when the first round tick is far from it.
  if (ticks.length === 0 || ticks[0] - first >= step / 2) ticks.unshift(first);
  return ticks;
}
