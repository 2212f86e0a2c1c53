/**
 * The figures of a BLEND experiment, from its plain results record: the strategy
 * comparison (every arm, every metric, every seed) and the training curves (both loss
 * terms and validation co-bps, one line per arm).
 * @module
 */

import type { BlendResults } from "../distill/experiment.ts";
import { strategyComparisonFigure, type StrategyRow } from "./comparison.ts";
import { type CurveRow, trainingCurvesFigure } from "./curves.ts";
import { type Figure, figureToSvg, saveFigure } from "./output.ts";

/**
 * The comparison figure's rows: one per model, arm, run and metric that was scored. A run
 * is a (data seed, model seed) pair; its dot's `seed` is its index among the pairs.
 */
export function comparisonRows(results: BlendResults): StrategyRow[] {
  const pairs = [...new Set(results.runs.map((r) => `${r.dataSeed ?? 0}:${r.seed}`))];
  return results.runs.flatMap((run) =>
    Object.entries(run.scores).flatMap(([metric, value]) =>
      value === null || value === undefined ? [] : [{
        model: run.model,
        arm: run.arm,
        role: run.role,
        metric,
        seed: pairs.indexOf(`${run.dataSeed ?? 0}:${run.seed}`),
        value,
      }]
    )
  );
}

/**
 * The training-curve rows of one seed (the first, by default): per arm and epoch, the
 * optimized total, the masked-modeling term, the distillation term (students) and the
 * validation co-bps.
 */
export function curveRows(
  results: BlendResults,
  seed: number = results.settings.seeds[0],
): CurveRow[] {
  const rows: CurveRow[] = [];
  const several = results.settings.modelNames.length > 1;
  const dataSeed = results.settings.dataSeeds?.[0] ?? 0;
  for (const run of results.runs.filter((r) => r.seed === seed && (r.dataSeed ?? 0) === dataSeed)) {
    const name = several ? `${run.model} ${run.arm}` : run.arm;
    for (const c of run.curves) {
      const epoch = c.epoch + 1;
      const push = (quantity: string, value: number | undefined) => {
        if (value !== undefined && Number.isFinite(value)) {
          rows.push({ run: name, epoch, quantity, value });
        }
      };
      push("training loss (optimized)", c.trainLoss);
      push("masked Poisson NLL (nats/entry)", c.terms.poisson);
      push("distillation term", c.terms.distill);
      push("val co-bps (bits/spike)", c.validation?.coBps);
    }
  }
  return rows;
}

/** The strategy-comparison figure of an experiment (every arm, metric and seed). */
export function experimentComparisonFigure(results: BlendResults): Promise<Figure> {
  const s = results.settings;
  return strategyComparisonFigure(comparisonRows(results), {
    title: `BLEND, test split: ${(s.dataSeeds ?? [0]).length} data x ${s.seeds.length} model seeds`,
    subtitle: `${s.dataset.name}; dots = runs, bar = mean ± sd, dashed = baseline mean; alpha ${
      s.alpha.join(", ")
    }, T ${s.temperature.join(", ")}`,
  });
}

/** The comparison figure as SVG text (for an HTML report). */
export async function comparisonFigureSvg(results: BlendResults): Promise<string> {
  return figureToSvg(await experimentComparisonFigure(results));
}

/** Save the experiment's figures as SVG and PNG under `dir`; returns the paths written. */
export async function saveExperimentFigures(results: BlendResults, dir: string): Promise<string[]> {
  const s = results.settings;
  const comparison = await experimentComparisonFigure(results);
  const curves = await trainingCurvesFigure(curveRows(results), {
    title: `Training curves (seed ${s.seeds[0]})`,
  });
  const paths: string[] = [];
  for (const [name, figure] of [["comparison", comparison], ["curves", curves]] as const) {
    for (const ext of ["svg", "png"]) {
      const path = `${dir}/${name}.${ext}`;
      await saveFigure(figure, path);
      paths.push(path);
    }
  }
  return paths;
}
