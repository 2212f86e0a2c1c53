/**
 * Predicted against true firing rates: traces of a few trials and neurons, a scatter of every
 * value with the pooled R², and the R² of each neuron. An async, pure function of plain
 * arrays (`Array3`, numbers and names; never tensors or models) that returns one `<svg>`
 * element ({@link Figure}) holding every panel, its titles and its legend; it saves as SVG or
 * PNG (`output.ts`) and displays inline in the Deno Jupyter kernel.
 *
 * Units: rates come in **spikes per bin** (what `predict` and a dataset's `truth` hold) and
 * are drawn in **spikes/s** (`x 1000 / binMs`); time is in ms from the start of bin 0 (or
 * from `startMs`, to align to an event such as movement onset). Every panel is a
 * `<g class="blend-panel">` whose `data-*` attributes name what it shows.
 * @module
 */

import type { Array3 } from "../array.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { Random } from "../random.ts";
import { plotDocument } from "./document.ts";
import {
  commonOptions,
  finishRoot,
  header,
  lineSwatch,
  MARGIN_LEFT,
  MUTED_COLOR,
  type NeuralFigureOptions,
  PAD,
  placePanel,
  plotPanel,
  TEXT_COLOR,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import { formatR2, plural, range, rSquared } from "./scales.ts";
import {
  checkArray,
  checkIndexList,
  checkInput,
  checkNotEmpty,
  checkPositive,
  checkSameShape,
  checkValues,
} from "./validate.ts";

const TRUE_COLOR = TEXT_COLOR;
const PREDICTED_COLOR = "#4269d0";
const HIGHLIGHT_COLOR = "#e66101";

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
