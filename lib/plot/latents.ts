/**
 * Latent trajectories: condition-averaged latents projected on their principal components.
 * An async, pure function of plain arrays (`Array3`, `Int32Array`, numbers; never tensors or
 * models) that returns one `<svg>` element ({@link Figure}) holding every panel, its titles
 * and its legend; it saves as SVG or PNG (`output.ts`) and displays inline in the Deno
 * Jupyter kernel.
 *
 * Time is in ms from the start of bin 0 (or from `startMs`, to align to an event such as
 * movement onset). Every panel is a `<g class="blend-panel">` whose `data-*` attributes name
 * what it shows.
 * @module
 */

import type { Array3 } from "../array.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { conditionPSTH } from "../metrics/nlb.ts";
import { pca, pcaProject } from "../pca.ts";
import { plotDocument } from "./document.ts";
import {
  categoricalColors,
  commonOptions,
  conditionLegend,
  dotSwatch,
  finishRoot,
  header,
  MARGIN_LEFT,
  type NeuralFigureOptions,
  PAD,
  placePanel,
  plotPanel,
  TEXT_COLOR,
} from "./layout.ts";
import type { Figure } from "./output.ts";
import { equalAspect, extent, formatNumber, plural, range } from "./scales.ts";
import {
  checkArray,
  checkCondition,
  checkInput,
  checkNotEmpty,
  checkPositive,
  checkValues,
  chooseConditions,
  shapeText,
} from "./validate.ts";

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
