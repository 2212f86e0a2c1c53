import assert from "node:assert/strict";
import { strategyComparisonFigure, type StrategyRow } from "../../lib/plot/comparison.ts";
import type { DomElement } from "../../lib/plot/document.ts";
import { JUPYTER_DISPLAY } from "../../lib/html.ts";
import { figureToSvg } from "../../lib/plot/output.ts";
import { all, parseSvg } from "./svg_helpers.ts";

/** The y position (in panel pixels) of each y-axis tick label, by its numeric value. */
function yTicks(panel: DomElement): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const text of all(panel, 'g[aria-label="y-axis tick label"] text')) {
    const value = Number((text.textContent ?? "").replace("\u2212", "-"));
    const match = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(text.getAttribute("transform") ?? "");
    assert.ok(match, "tick label has a translate transform");
    ticks.set(value, Number(match[2]));
  }
  return ticks;
}

/** Every (model, arm, metric, seed) with a value, like an experiment's result table. */
function strategyRows(models = ["NDT"]): StrategyRow[] {
  const arms: [string, StrategyRow["role"]][] = [
    ["teacher", "teacher"],
    ["baseline", "baseline"],
    ["soft", "student"],
    ["feature", "student"],
  ];
  const rows: StrategyRow[] = [];
  for (const model of models) {
    for (const [arm, role] of arms) {
      for (const metric of ["fpBps", "coBps", "velR2", "psthR2"]) {
        for (let seed = 0; seed < 3; seed++) {
          rows.push({
            model,
            arm,
            role,
            metric,
            seed,
            value: 0.2 + 0.01 * seed + arm.length / 100,
          });
        }
      }
    }
  }
  return rows;
}

Deno.test("strategyComparisonFigure draws one panel per metric, NLB metrics first, labels with units", async () => {
  const figure = await strategyComparisonFigure(strategyRows(), { title: "T", subtitle: "S" });
  const root = await parseSvg(figureToSvg(figure));
  const panels = all(root, "g.blend-panel");
  assert.deepEqual(panels.map((p) => p.getAttribute("data-metric")), [
    "coBps",
    "velR2",
    "psthR2",
    "fpBps",
  ]);
  const labels = panels.map((p) =>
    all(p, 'g[aria-label="y-axis label"] text').map((t) => t.textContent).join("")
  );
  assert.deepEqual(labels, [
    "co-bps (bits/spike)",
    "vel R²",
    "PSTH R²",
    "fp-bps (bits/spike)",
  ]);
  // Side by side: same y offset, increasing x.
  const offsets = panels.map((p) =>
    (p.getAttribute("transform") ?? "").match(/[-\d.]+/g)!.map(Number)
  );
  assert.equal(new Set(offsets.map(([, y]) => y)).size, 1);
  assert.ok(offsets.every(([x], i) => i === 0 || x > offsets[i - 1][0]));
  assert.equal(root.querySelectorAll(".blend-title").length, 1);
  assert.equal(root.querySelector(".blend-subtitle")?.textContent, "S");
  // Arms along x in role order, whatever order the rows come in.
  const armLabels = all(panels[0], 'g[aria-label="x-axis tick label"] text').map((t) =>
    t.textContent
  );
  assert.deepEqual(armLabels, ["teacher", "baseline", "soft", "feature"]);
});

Deno.test("strategyComparisonFigure: one dot per row with a value, coloured by role, with a legend", async () => {
  const rows = strategyRows();
  rows[5] = { ...rows[5], value: null }; // an absent metric is skipped, not drawn
  const figure = await strategyComparisonFigure(rows);
  const root = await parseSvg(figureToSvg(figure));
  const dots = all(root, "g.blend-seed circle");
  assert.equal(dots.length, rows.length - 1);
  const fills = new Set(dots.map((d) => d.getAttribute("fill")));
  assert.equal(fills.size, 3, "three roles, three colours");
  const legend = all(root, "g.blend-legend text").map((t) => t.textContent);
  assert.deepEqual(legend.slice(0, 3), ["teacher", "baseline", "student"]);
  assert.ok(legend.includes("mean ± sd") && legend.includes("baseline mean"));
  // The legend swatch of each role has the colour of that role's dots.
  const teacherSwatch = all(root, "g.blend-legend-item")[0].querySelector("circle");
  const teacherDot = all(root, 'g.blend-panel[data-metric="coBps"] g.blend-seed circle')[0];
  assert.equal(teacherSwatch?.getAttribute("fill"), teacherDot.getAttribute("fill"));
});

Deno.test("strategyComparisonFigure puts the mean tick, the sd bar and the baseline line at the right y", async () => {
  // baseline seeds 0 and 1 -> mean 0.5; soft seeds 1, 2, 3 -> mean 2, sample sd 1.
  const rows: StrategyRow[] = [
    { model: "m", arm: "baseline", role: "baseline", metric: "coBps", seed: 0, value: 0 },
    { model: "m", arm: "baseline", role: "baseline", metric: "coBps", seed: 1, value: 1 },
    { model: "m", arm: "soft", role: "student", metric: "coBps", seed: 0, value: 1 },
    { model: "m", arm: "soft", role: "student", metric: "coBps", seed: 1, value: 3 },
    { model: "m", arm: "soft", role: "student", metric: "coBps", seed: 2, value: 2 },
  ];
  const root = await parseSvg(figureToSvg(await strategyComparisonFigure(rows)));
  const panel = root.querySelector("g.blend-panel")!;
  const ticks = yTicks(panel);
  for (const v of [0.5, 1, 2, 3]) assert.ok(ticks.has(v), `a y tick at ${v}: ${[...ticks.keys()]}`);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

  const means = all(panel, "g.blend-mean line");
  const soft = means.find((l) => l.querySelector("title")?.textContent?.startsWith("soft"))!;
  assert.ok(near(Number(soft.getAttribute("y1")), ticks.get(2)!), "soft mean tick at y(2)");
  assert.equal(soft.getAttribute("y1"), soft.getAttribute("y2"));
  const baseline = means.find((l) => l.querySelector("title")?.textContent?.startsWith("base"))!;
  assert.ok(near(Number(baseline.getAttribute("y1")), ticks.get(0.5)!));

  const bars = all(panel, "g.blend-sd line");
  const softBar = bars.find((b) => b.getAttribute("stroke") === soft.getAttribute("stroke"))!;
  const ends = [Number(softBar.getAttribute("y1")), Number(softBar.getAttribute("y2"))].sort((
    a,
    b,
  ) => a - b);
  assert.ok(near(ends[0], ticks.get(3)!) && near(ends[1], ticks.get(1)!), "bar spans 2 ± 1");

  const dashed = all(panel, "g.blend-baseline-mean line");
  assert.equal(dashed.length, 1);
  assert.ok(near(Number(dashed[0].getAttribute("y1")), ticks.get(0.5)!));
  const dashes = dashed[0].getAttribute("stroke-dasharray") ??
    panel.querySelector("g.blend-baseline-mean")?.getAttribute("stroke-dasharray");
  assert.ok(dashes, "the baseline line is dashed");
  assert.equal(all(panel, "g.blend-seed circle").length, 5);
});

Deno.test("strategyComparisonFigure: one row of panels per model; unknown metrics shown as is", async () => {
  const rows = strategyRows(["NDT", "GRU"]).filter((r) => r.metric !== "velR2");
  rows.push({ model: "GRU", arm: "soft", role: "student", metric: "myScore", seed: 0, value: 1 });
  const root = await parseSvg(figureToSvg(await strategyComparisonFigure(rows)));
  const panels = all(root, "g.blend-panel");
  assert.equal(panels.length, 2 * 4);
  assert.deepEqual(
    panels.map((p) => `${p.getAttribute("data-model")}/${p.getAttribute("data-metric")}`),
    [
      "NDT/coBps",
      "NDT/psthR2",
      "NDT/fpBps",
      "NDT/myScore",
      "GRU/coBps",
      "GRU/psthR2",
      "GRU/fpBps",
      "GRU/myScore",
    ],
  );
  assert.deepEqual(all(root, ".blend-row-label").map((t) => t.textContent), ["NDT", "GRU"]);
  const myScore = panels[7];
  assert.equal(
    all(myScore, 'g[aria-label="y-axis label"] text').map((t) => t.textContent).join(""),
    "myScore",
  );
  // NDT has no myScore: its panel says so instead of drawing nothing silently.
  assert.match(panels[3].textContent ?? "", /no values/);
});

Deno.test("strategyComparisonFigure: bad rows fail with the field and the value", async () => {
  const ok = strategyRows();
  const bad = (i: number, patch: Record<string, unknown>) =>
    ok.map((r, j) => (j === i ? { ...r, ...patch } : r)) as StrategyRow[];
  const cases: [StrategyRow[], RegExp][] = [
    [[], /strategyComparisonFigure: rows is empty/],
    [bad(3, { value: NaN }), /rows\[3\]\.value must be a finite number.*got NaN/],
    [bad(4, { value: Infinity }), /rows\[4\]\.value must be a finite number.*got Infinity/],
    [bad(2, { value: "0.3" }), /rows\[2\]\.value must be a finite number.*got "0.3"/],
    [bad(1, { seed: NaN }), /rows\[1\]\.seed must be a finite number, got NaN/],
    [bad(0, { model: "" }), /rows\[0\]\.model must be a non-empty string, got ""/],
    [
      bad(6, { role: "pupil" }),
      /rows\[6\]\.role must be one of teacher, baseline, student, self-student, multitask, got "pupil"/,
    ],
    [bad(7, { metric: undefined }), /rows\[7\]\.metric must be a non-empty string, got undefined/],
    [
      bad(1, { seed: 0 }),
      /rows\[1\] repeats model "NDT", arm "teacher", metric "fpBps", seed 0 \(first at rows\[0\]\)/,
    ],
    [
      bad(14, { role: "teacher" }),
      /rows\[14\] gives arm "baseline" of model "NDT" the role "teacher", but rows\[12\] gave it "baseline"/,
    ],
    [ok.map((r) => ({ ...r, value: null })), /every row's value is null/],
  ];
  for (const [rows, message] of cases) {
    await assert.rejects(() => strategyComparisonFigure(rows), message);
  }
  await assert.rejects(
    () => strategyComparisonFigure(ok, { metrics: ["coBps", "bogus"] }),
    /options\.metrics names "bogus", which no row has/,
  );
  await assert.rejects(() => strategyComparisonFigure(ok, { width: NaN }), /width must be/);
});

Deno.test("figures display inline in Jupyter as image/svg+xml", async () => {
  const figure = await strategyComparisonFigure(strategyRows());
  const bundle = figure[JUPYTER_DISPLAY]();
  assert.ok(bundle["image/svg+xml"].startsWith("<svg"));
  assert.match(bundle["image/svg+xml"], /^<svg[^>]* xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(bundle["image/svg+xml"], figureToSvg(figure));
  // The kernel looks the method up by the registered symbol; it is not an enumerable key.
  const method = (figure as unknown as Record<symbol, unknown>)[Symbol.for("Jupyter.display")];
  assert.equal(typeof method, "function");
  assert.ok(!Object.keys(figure).some((k) => k.includes("Jupyter")));
});
