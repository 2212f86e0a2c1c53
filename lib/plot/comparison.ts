/**
 * The comparison of teacher, baseline and distilled students, across metrics and seeds, as a
 * pure function of plain data (records of numbers and names), drawn with Observable Plot. It
 * returns one `<svg>` element ({@link Figure}) holding every panel, its title and its legend,
 * that saves as SVG or PNG (`output.ts`) and displays inline in the Deno Jupyter kernel.
 *
 * Panels that need their own y scale are separate Plot plots placed side by side in one SVG
 * (Plot's facets share one y scale). Each panel is a `<g class="blend-panel">` carrying
 * `data-*` attributes that name what it shows, so tests and tools can find it.
 *
 * Missing values: a row whose `value` is `null` is skipped (a metric a dataset cannot have,
 * such as velocity R² without behavior). `NaN` and infinities are rejected with an error
 * naming the row, because they usually mean a bug upstream, not an absent value.
 * @module
 */

import { summarize } from "../math.ts";
import { loadPlot } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { type DomElement, type PlotDocument, plotDocument } from "./document.ts";
import {
  AXIS_FONT,
  checkWidth,
  element,
  figureRoot,
  finishRoot,
  legend,
  type LegendItem,
  MUTED_COLOR,
  PAD,
  panelGroup,
  TEXT_COLOR,
  textWidth,
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
  unique,
} from "./validate.ts";

/**
 * Colours by role (colour-blind safe): orange teacher, grey baseline, dark blue student,
 * light blue self-distilled control, purple multi-task control.
 */
const ROLE_COLORS = {
  teacher: "#e66101",
  baseline: "#7f7f7f",
  student: "#2166ac",
  "self-student": "#92c5de",
  multitask: "#5e3c99",
} as const;

/**
 * Who produced a score: the teacher (behavior at input), the baseline, a student distilled
 * from the behavior teacher, a student distilled from a spikes-only teacher (the
 * self-distillation control), or the multi-task control (behavior as a training target).
 */
export type Role = "teacher" | "baseline" | "student" | "self-student" | "multitask";

const ROLES: readonly Role[] = ["teacher", "baseline", "student", "self-student", "multitask"];

/** One score of one run: a model, an arm (teacher, baseline or a strategy), a metric, a seed. */
export interface StrategyRow {
  /** The architecture or model name (one row of panels per model). */
  model: string;
  /** `"teacher"`, `"baseline"` or a distillation strategy (`"hard"`, `"soft"`, ...). */
  arm: string;
  /** The arm's role; it sets the colour. */
  role: Role;
  /** The metric key: `coBps`, `velR2`, `psthR2`, `fpBps`, or any other name (shown as is). */
  metric: string;
  /** The seed of the run (one dot per seed). */
  seed: number;
  /** The score, or null when the metric is absent for this run (the row is skipped). */
  value: number | null;
}

/** Axis labels (with units) of the NLB metrics, by metric key. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  coBps: "co-bps (bits/spike)",
  velR2: "vel R²",
  psthR2: "PSTH R²",
  fpBps: "fp-bps (bits/spike)",
  heldinR2: "held-in R² (truth)",
  heldoutR2: "held-out R² (truth)",
  latentR2: "latent R² (truth)",
};

/** Options of {@link strategyComparisonFigure}. */
export interface StrategyComparisonOptions {
  /** A title above the figure. */
  title?: string;
  /** A line below the title (dataset, number of seeds, ...). */
  subtitle?: string;
  /** Width of the whole figure in pixels. Default 800. */
  width?: number;
  /** Height of each panel in pixels. Default 260. */
  panelHeight?: number;
  /**
   * Which metrics, in which order. Default: every metric in the rows, the NLB ones first in
   * the order co-bps, vel R², PSTH R², fp-bps.
   */
  metrics?: string[];
  /** Axis labels for metrics, overriding {@link METRIC_LABELS} (unknown keys show as is). */
  metricLabels?: Record<string, string>;
}

interface Summary {
  arm: string;
  role: Role;
  index: number;
  n: number;
  mean: number;
  sd: number;
}

/** Where, relative to its arm's tick, the dots and the mean ± sd bar go (in arm units). */
const DOTS_AT = -0.14;
const SUMMARY_AT = 0.2;

/**
 * Compare teacher, baseline and distilled students: one panel per metric (each with its
 * own y scale), one row of panels per model. Every seed is a dot; a bar spans the mean ± sd
 * (sample sd, n − 1; no bar with one seed) with a tick at the mean; the baseline's mean is a
 * dashed line across the panel. Colour shows the role (teacher, baseline, student), with a
 * legend. Rows whose `value` is null are skipped; NaN or infinite values throw.
 *
 * @example
 * ```ts
 * import { saveFigure } from "./output.ts";
 * const figure = await strategyComparisonFigure([
 *   { model: "NDT", arm: "teacher", role: "teacher", metric: "coBps", seed: 0, value: 0.36 },
 *   { model: "NDT", arm: "baseline", role: "baseline", metric: "coBps", seed: 0, value: 0.30 },
 *   { model: "NDT", arm: "soft", role: "student", metric: "coBps", seed: 0, value: 0.32 },
 * ], { title: "Distillation on MC_Maze" });
 * await saveFigure(figure, "out/strategies.png");
 * ```
 */
export async function strategyComparisonFigure(
  rows: readonly StrategyRow[],
  options: StrategyComparisonOptions = {},
): Promise<Figure> {
  const fn = "strategyComparisonFigure";
  const parsed = parseStrategyRows(fn, rows);
  const width = checkWidth(fn, "width", options.width ?? 800, 200);
  const panelHeight = checkWidth(fn, "panelHeight", options.panelHeight ?? 260, 120);
  const labels = { ...METRIC_LABELS, ...options.metricLabels };
  const metrics = orderKeys(
    fn,
    "options.metrics",
    inRowOrder(rows, parsed, "metric"),
    options.metrics,
    Object.keys(METRIC_LABELS),
  );
  const models = inRowOrder(rows, parsed, "model");

  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const { root, top: headerBottom } = figureRoot(
    document,
    width,
    options.title,
    options.subtitle,
  );

  // Legend: the roles present, then what the marks mean.
  const roles = ROLES.filter((role) => parsed.some((r) => r.role === role));
  const items: LegendItem[] = roles.map((role) => ({
    label: role,
    swatch: (d) => element(d, "circle", { r: 5, fill: ROLE_COLORS[role] }),
  }));
  const key = MUTED_COLOR;
  items.push(
    { label: "one seed", swatch: (d) => element(d, "circle", { r: 3.5, fill: key }) },
    {
      label: "mean ± sd",
      swatch: (d) => {
        const g = element(d, "g", { stroke: key });
        g.appendChild(element(d, "line", { x1: 0, x2: 0, y1: -7, y2: 7, "stroke-width": 2 }));
        g.appendChild(element(d, "line", { x1: -6, x2: 6, y1: 0, y2: 0, "stroke-width": 2.5 }));
        return g;
      },
    },
  );
  if (parsed.some((r) => r.role === "baseline")) {
    items.push({
      label: "baseline mean",
      swatch: (d) =>
        element(d, "line", {
          x1: -8,
          x2: 8,
          y1: 0,
          y2: 0,
          stroke: ROLE_COLORS.baseline,
          "stroke-width": 1.5,
          "stroke-dasharray": "4 3",
        }),
    });
  }
  const { group: legendGroup, height: legendHeight } = legend(
    document,
    items,
    PAD,
    headerBottom,
    width - 2 * PAD,
  );
  root.appendChild(legendGroup);

  const panelWidth = Math.floor((width - 2 * PAD) / metrics.length);
  const rowLabelHeight = models.length > 1 ? 22 : 0;
  let y = headerBottom + legendHeight + 6;

  for (const model of models) {
    const modelRows = parsed.filter((r) => r.model === model);
    const arms = armOrder(modelRows);
    const marginLeft = 50;
    const marginRight = 8;
    const band = (panelWidth - marginLeft - marginRight) / arms.length;
    const longest = Math.max(...arms.map(({ arm }) => textWidth(arm, AXIS_FONT)));
    const rotate = longest > band - 4;
    const marginBottom = rotate ? Math.ceil(longest * Math.sin(Math.PI / 4) + 18) : 30;

    if (rowLabelHeight > 0) {
      root.appendChild(
        element(document, "text", {
          class: "blend-row-label",
          x: PAD,
          y: y + 15,
          "font-size": 14,
          "font-weight": "bold",
          fill: TEXT_COLOR,
        }, model),
      );
    }
    metrics.forEach((metric, column) => {
      const cell = modelRows.filter((r) => r.metric === metric);
      const plot = strategyPanel(Plot, document, cell, arms, {
        label: labels[metric] ?? metric,
        width: panelWidth,
        height: panelHeight + marginBottom - 30,
        marginLeft,
        marginRight,
        marginBottom,
        rotate,
      });
      root.appendChild(
        panelGroup(document, plot, PAD + column * panelWidth, y + rowLabelHeight, {
          model,
          metric,
        }),
      );
    });
    y += rowLabelHeight + panelHeight + marginBottom - 30 + 8;
  }
  return finishRoot(root, width, y + PAD - 8);
}

interface ParsedStrategyRow {
  model: string;
  arm: string;
  role: Role;
  metric: string;
  seed: number;
  value: number;
}

function parseStrategyRows(fn: string, rows: readonly unknown[]): ParsedStrategyRow[] {
  checkRowsArray(fn, rows);
  const parsed: ParsedStrategyRow[] = [];
  const seen = new Map<string, number>();
  const armRole = new Map<string, { role: Role; at: number }>();
  for (let i = 0; i < rows.length; i++) {
    const row = checkRecord(fn, rows, i);
    const model = checkName(fn, row, i, "model");
    const arm = checkName(fn, row, i, "arm");
    const role = row.role;
    if (!ROLES.includes(role as Role)) {
      throw new ArgumentError(
        `${fn}: rows[${i}].role must be one of ${ROLES.join(", ")}, got ${describe(role)}`,
      );
    }
    const metric = checkName(fn, row, i, "metric");
    const seed = checkFinite(fn, row, i, "seed");
    const value = checkValue(fn, row, i);

    const armKey = JSON.stringify([model, arm]);
    const first = armRole.get(armKey);
    if (first && first.role !== role) {
      throw new ArgumentError(
        `${fn}: rows[${i}] gives arm ${describe(arm)} of model ${describe(model)} the role ${
          describe(role)
        }, but rows[${first.at}] gave it ${describe(first.role)}`,
      );
    }
    if (!first) armRole.set(armKey, { role: role as Role, at: i });

    const key = JSON.stringify([model, arm, metric, seed]);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ArgumentError(
        `${fn}: rows[${i}] repeats model ${describe(model)}, arm ${describe(arm)}, metric ${
          describe(metric)
        }, seed ${seed} (first at rows[${earlier}])`,
      );
    }
    seen.set(key, i);
    if (value !== null) parsed.push({ model, arm, role: role as Role, metric, seed, value });
  }
  if (parsed.length === 0) {
    throw new ArgumentError(`${fn}: every row's value is null; there is nothing to draw`);
  }
  return parsed;
}

/** Arms in role order (teacher, baseline, students, controls), each in order of appearance. */
function armOrder(rows: ParsedStrategyRow[]): { arm: string; role: Role }[] {
  const arms: { arm: string; role: Role }[] = [];
  for (const role of ROLES) {
    for (const arm of unique(rows.filter((r) => r.role === role).map((r) => r.arm))) {
      arms.push({ arm, role });
    }
  }
  return arms;
}

interface PanelLayout {
  label: string;
  width: number;
  height: number;
  marginLeft: number;
  marginRight: number;
  marginBottom: number;
  rotate: boolean;
}

function strategyPanel(
  Plot: Awaited<ReturnType<typeof loadPlot>>,
  document: PlotDocument,
  rows: ParsedStrategyRow[],
  arms: { arm: string; role: Role }[],
  layout: PanelLayout,
): DomElement {
  const summaries: Summary[] = [];
  const dots: { x: number; value: number; role: Role; title: string }[] = [];
  arms.forEach(({ arm, role }, index) => {
    const armRows = rows.filter((r) => r.arm === arm).sort((a, b) => a.seed - b.seed);
    if (armRows.length === 0) return;
    const { mean, sd } = summarize(armRows.map((r) => r.value));
    summaries.push({ arm, role, index, n: armRows.length, mean, sd });
    // Spread the seeds' dots evenly over 0.2 arm units left of the bar, in seed order.
    const step = armRows.length > 1 ? Math.min(0.07, 0.2 / (armRows.length - 1)) : 0;
    armRows.forEach((r, k) => {
      dots.push({
        x: index + DOTS_AT + (k - (armRows.length - 1) / 2) * step,
        value: r.value,
        role,
        title: `${arm}, seed ${r.seed}: ${r.value.toPrecision(4)}`,
      });
    });
  });
  const baseline = summaries.filter((s) => s.role === "baseline");
  const spread = summaries.filter((s) => s.n > 1);
  const marks = [
    baseline.length > 0
      ? Plot.ruleY(baseline.map((s) => s.mean), {
        stroke: ROLE_COLORS.baseline,
        strokeWidth: 1.5,
        strokeDasharray: "5 4",
        className: "blend-baseline-mean",
      })
      : null,
    Plot.ruleX(spread, {
      x: (s: Summary) => s.index + SUMMARY_AT,
      y1: (s: Summary) => s.mean - s.sd,
      y2: (s: Summary) => s.mean + s.sd,
      stroke: "role",
      strokeWidth: 2,
      className: "blend-sd",
    }),
    Plot.ruleY(summaries, {
      y: "mean",
      x1: (s: Summary) => s.index + SUMMARY_AT - 0.11,
      x2: (s: Summary) => s.index + SUMMARY_AT + 0.11,
      stroke: "role",
      strokeWidth: 2.5,
      className: "blend-mean",
      title: (s: Summary) =>
        `${s.arm}: mean ${s.mean.toPrecision(4)}` +
        (s.n > 1 ? ` ± ${s.sd.toPrecision(3)} (sd, ${s.n} seeds)` : " (1 seed)"),
    }),
    Plot.dot(dots, {
      x: "x",
      y: "value",
      fill: "role",
      r: 3.5,
      fillOpacity: 0.85,
      stroke: "white",
      strokeWidth: 0.75,
      className: "blend-seed",
      title: "title",
    }),
    rows.length === 0
      ? Plot.text(["no values"], { frameAnchor: "middle", fill: MUTED_COLOR, fontSize: 12 })
      : null,
  ];
  return Plot.plot({
    document,
    width: layout.width,
    height: layout.height,
    marginLeft: layout.marginLeft,
    marginRight: layout.marginRight,
    marginTop: 26,
    marginBottom: layout.marginBottom,
    style: { fontSize: `${AXIS_FONT}px` },
    x: {
      type: "linear",
      domain: [-0.5, arms.length - 0.5],
      ticks: arms.map((_, i) => i),
      tickFormat: (i: number) => arms[i]?.arm ?? "",
      tickRotate: layout.rotate ? -45 : 0,
      label: null,
    },
    y: { label: layout.label, labelArrow: "none", grid: true, nice: true, zero: false },
    color: { type: "ordinal", domain: [...ROLES], range: ROLES.map((r) => ROLE_COLORS[r]) },
    marks,
  }) as unknown as DomElement;
}
