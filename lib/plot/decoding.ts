/**
 * Decoded against measured behavior: traces of each dimension with its R², and the 2-D paths
 * that two velocity dimensions trace when integrated. An async, pure function of plain arrays
 * (`Array3`, numbers and names; never tensors or models) that returns one `<svg>` element
 * ({@link Figure}) holding every panel, its titles and its legend; it saves as SVG or PNG
 * (`output.ts`) and displays inline in the Deno Jupyter kernel.
 *
 * Time is in ms from the start of bin 0 (or from `startMs`, to align to an event such as
 * movement onset). Every panel is a `<g class="blend-panel">` whose `data-*` attributes name
 * what it shows.
 * @module
 */

import type { Array3 } from "../array.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { plotDocument } from "./document.ts";
import {
  categoricalColors,
  commonOptions,
  finishRoot,
  header,
  lineSwatch,
  MARGIN_LEFT,
  type NeuralFigureOptions,
  PAD,
  placePanel,
  type PlotApi,
  plotPanel,
  TEXT_COLOR,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import { equalAspect, extent, formatNumber, formatR2, plural, range, rSquared } from "./scales.ts";
import {
  checkArray,
  checkIndexList,
  checkInput,
  checkNotEmpty,
  checkPositive,
  checkSameShape,
  checkValues,
  shapeText,
} from "./validate.ts";

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
    const rows: TracePoint[] = [];
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
        ...measuredAndDecoded(Plot, rows),
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
    const rows: TracePoint[] = [];
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
        ...measuredAndDecoded(Plot, rows),
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

/** One point of a trace or path: x, y, its trial and whether it was measured or decoded. */
interface TracePoint {
  x: number;
  y: number;
  trial: string;
  kind: string;
}

/** Measured lines solid and decoded lines dashed, one per trial, coloured by trial. */
function measuredAndDecoded(Plot: PlotApi, rows: TracePoint[]) {
  const line = (kind: "measured" | "decoded", dash?: string) =>
    Plot.line(rows.filter((r) => r.kind === kind), {
      x: "x",
      y: "y",
      z: "trial",
      stroke: "trial",
      strokeWidth: 1.8,
      strokeDasharray: dash,
      className: `blend-${kind}`,
    });
  return [line("measured"), line("decoded", "5 3")];
}
