import assert from "node:assert/strict";
import { type CurveRow, trainingCurvesFigure } from "../../lib/plot/curves.ts";
import type { DomElement } from "../../lib/plot/document.ts";
import { figureToSvg } from "../../lib/plot/output.ts";
import { all, parseSvg } from "./svg_helpers.ts";

/** Three runs over five epochs; "val co-bps" only every other epoch; "distill" not for baseline. */
function curveRows(): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const run of ["baseline", "soft", "feature"]) {
    for (let epoch = 1; epoch <= 5; epoch++) {
      rows.push({ run, epoch, quantity: "train loss", value: 1 / epoch });
      rows.push({
        run,
        epoch,
        quantity: "distill",
        value: run === "baseline" ? null : 0.1 / epoch,
      });
      rows.push({ run, epoch, quantity: "val co-bps", value: epoch % 2 ? null : 0.1 * epoch });
    }
  }
  return rows;
}

Deno.test("trainingCurvesFigure: a panel per quantity, a line per run, 1-based epochs, units", async () => {
  const figure = await trainingCurvesFigure(curveRows(), {
    units: { "train loss": "nats/bin" },
    title: "curves",
  });
  const root = await parseSvg(figureToSvg(figure));
  const panels = all(root, "g.blend-panel");
  assert.deepEqual(panels.map((p) => p.getAttribute("data-quantity")), [
    "train loss",
    "distill",
    "val co-bps",
  ]);
  const yLabel = (p: DomElement) =>
    all(p, 'g[aria-label="y-axis label"] text').map((t) => t.textContent).join("");
  assert.deepEqual(panels.map(yLabel), [
    "train loss (nats/bin)",
    "distill",
    "val co-bps (bits/spike)",
  ]);
  for (const panel of panels) {
    const xLabel = all(panel, 'g[aria-label="x-axis label"] text').map((t) => t.textContent);
    assert.deepEqual(xLabel, ["epoch"]);
    const xTicks = all(panel, 'g[aria-label="x-axis tick label"] text').map((t) => t.textContent);
    assert.equal(xTicks[0], "1", "epochs are drawn as given, from 1");
    assert.equal(xTicks.at(-1), "5");
  }
  // One path per run that has values; as many vertices as values.
  const paths = (p: DomElement) => all(p, "g.blend-curve path");
  const vertices = (d: string | null) => (d ?? "").match(/[ML]/g)?.length ?? 0;
  assert.equal(paths(panels[0]).length, 3);
  assert.equal(paths(panels[1]).length, 2, "baseline has no distill loss");
  assert.deepEqual(paths(panels[2]).map((p) => vertices(p.getAttribute("d"))), [2, 2, 2]);
  assert.deepEqual(paths(panels[0]).map((p) => vertices(p.getAttribute("d"))), [5, 5, 5]);
  // Legend: one entry per run, its colour that of the run's line.
  const items = all(root, "g.blend-legend-item");
  assert.deepEqual(items.map((i) => i.textContent), ["baseline", "soft", "feature"]);
  const colors = paths(panels[0]).map((p) => p.getAttribute("stroke"));
  assert.deepEqual(items.map((i) => i.querySelector("line")?.getAttribute("stroke")), colors);
  // Two columns: the third panel starts a second row.
  const y = (p: DomElement) => Number((p.getAttribute("transform") ?? "").match(/,([-\d.]+)/)![1]);
  assert.equal(y(panels[0]), y(panels[1]));
  assert.ok(y(panels[2]) > y(panels[0]));
});

Deno.test("trainingCurvesFigure: bad rows fail with the field and the value", async () => {
  const ok = curveRows();
  const bad = (i: number, patch: Record<string, unknown>) =>
    ok.map((r, j) => (j === i ? { ...r, ...patch } : r)) as CurveRow[];
  const cases: [CurveRow[], RegExp][] = [
    [[], /trainingCurvesFigure: rows is empty/],
    [
      bad(3, { value: NaN }),
      /trainingCurvesFigure: rows\[3\]\.value must be a finite number.*got NaN/,
    ],
    [
      bad(0, { epoch: 0 }),
      /rows\[0\]\.epoch must be a 1-based epoch number \(an integer >= 1; .*add 1\), got 0/,
    ],
    [bad(0, { epoch: 1.5 }), /rows\[0\]\.epoch must be a 1-based epoch number/],
    [bad(2, { epoch: NaN }), /rows\[2\]\.epoch must be a finite number, got NaN/],
    [bad(1, { run: 7 }), /rows\[1\]\.run must be a non-empty string, got 7/],
    [bad(1, { quantity: "" }), /rows\[1\]\.quantity must be a non-empty string/],
    [
      bad(3, { epoch: 1 }),
      /rows\[3\] repeats run "baseline", epoch 1, quantity "train loss" \(first at rows\[0\]\)/,
    ],
  ];
  for (const [rows, message] of cases) {
    await assert.rejects(() => trainingCurvesFigure(rows), message);
  }
  await assert.rejects(
    () => trainingCurvesFigure(ok, { logY: ["train loss"], quantities: ["distill", "nope"] }),
    /options\.quantities names "nope"/,
  );
});

Deno.test("trainingCurvesFigure: a log y scale, one quantity, one epoch", async () => {
  const rows: CurveRow[] = [{ run: "a", epoch: 1, quantity: "loss", value: 2 }];
  const root = await parseSvg(figureToSvg(await trainingCurvesFigure(rows, { logY: ["loss"] })));
  assert.equal(all(root, "g.blend-panel").length, 1);
  await assert.rejects(
    () => trainingCurvesFigure([{ ...rows[0], value: 0 }], { logY: ["loss"] }),
    /"loss" is drawn on a log scale \(options\.logY\) but run "a" has 0 at epoch 1/,
  );
});

Deno.test("trainingCurvesFigure does not repeat a unit the quantity already names", async () => {
  const rows: CurveRow[] = [
    { run: "a", epoch: 1, quantity: "val co-bps (bits/spike)", value: 0.2 },
    { run: "a", epoch: 1, quantity: "val fp-bps", value: 0.1 },
  ];
  const root = await parseSvg(figureToSvg(await trainingCurvesFigure(rows)));
  const labels = all(root, "g.blend-panel").map((p) =>
    all(p, 'g[aria-label="y-axis label"] text').map((t) => t.textContent).join("")
  );
  assert.deepEqual(labels, ["val co-bps (bits/spike)", "val fp-bps (bits/spike)"]);
});
