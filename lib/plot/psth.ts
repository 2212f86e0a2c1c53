/**
 * Peri-stimulus time histograms: condition-averaged rates of chosen neurons, predicted and,
 * optionally, from smoothed spikes. An async, pure function of plain arrays (`Array3`,
 * `Int32Array`, numbers and names; never tensors or models) that returns one `<svg>` element
 * ({@link Figure}) holding every panel, its titles and its legend; it saves as SVG or PNG
 * (`output.ts`) and displays inline in the Deno Jupyter kernel.
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
import { conditionPSTH, smoothSpikes } from "../metrics/nlb.ts";
import { plotDocument } from "./document.ts";
import {
  categoricalColors,
  commonOptions,
  conditionLegend,
  finishRoot,
  header,
  MARGIN_LEFT,
  type NeuralFigureOptions,
  PAD,
  placePanel,
  plotPanel,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import { extent, range } from "./scales.ts";
import {
  checkArray,
  checkCondition,
  checkIndexList,
  checkInput,
  checkNotEmpty,
  checkPositive,
  checkSameShape,
  checkValues,
  chooseConditions,
} from "./validate.ts";

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
