import assert from "node:assert/strict";
import { array3 } from "../../lib/array.ts";
import { conditionPSTH } from "../../lib/metrics/nlb.ts";
import { pca } from "../../lib/pca.ts";
import { latentTrajectoriesFigure } from "../../lib/plot/latents.ts";
import { data, truth } from "./reach_fixture.ts";
import { all, panels, parsed, savedPngSize } from "./svg_helpers.ts";

Deno.test("latentTrajectoriesFigure: PC panels with explained variance, a start per condition", async () => {
  const two = await parsed(
    await latentTrajectoriesFigure({
      latents: truth.latents,
      condition: data.condition,
      binMs: data.binMs,
    }),
  );
  const [trajectory] = panels(two, "trajectory");
  assert.equal(panels(two, "trajectory").length, 1);
  assert.equal(panels(two, "time").length, 2);
  assert.equal(all(trajectory, "g.blend-trajectory path").length, 3, "one line per condition");
  assert.equal(all(trajectory, "g.blend-start circle").length, 3, "one start per condition");

  // Axis labels: each PC's share of the variance of the condition means, computed here.
  const { psth } = conditionPSTH(truth.latents, data.condition);
  const [c, t, d] = psth.shape;
  const fit = pca({ data: psth.data, rows: c * t, cols: d }, 3);
  const labels = all(
    trajectory,
    'g[aria-label="x-axis label"] text, g[aria-label="y-axis label"] text',
  )
    .map((e) => e.textContent ?? "");
  const expected = [0, 1].map((p) =>
    `PC${p + 1} (${(100 * fit.varianceRatio[p]).toFixed(1)}% of variance)`
  );
  assert.deepEqual(labels.sort(), expected.sort());

  const three = await parsed(
    await latentTrajectoriesFigure({
      latents: truth.latents,
      condition: data.condition,
      binMs: data.binMs,
      components: 3,
      conditions: [0, 2],
    }),
  );
  const pairs = panels(three, "trajectory");
  assert.deepEqual(pairs.map((p) => p.getAttribute("data-pcs")), ["1,2", "1,3", "2,3"]);
  for (const p of pairs) assert.equal(all(p, "g.blend-trajectory path").length, 2);
  assert.ok((three.textContent ?? "").includes(`PC3 (`), "PC3 is labelled");
});

Deno.test("latentTrajectoriesFigure rejects bad input with messages naming the field", async () => {
  await assert.rejects(
    () =>
      latentTrajectoriesFigure({
        latents: array3([3, 10, 2]),
        condition: new Int32Array(3),
        binMs: 5,
        components: 3,
      }),
    /latentTrajectoriesFigure: components is 3 but latents have only 2 dimensions/,
  );
});

Deno.test("latentTrajectoriesFigure saves to a PNG of its width", async () => {
  const figure = await latentTrajectoriesFigure({
    latents: truth.latents,
    condition: data.condition,
    binMs: 5,
    components: 3,
  });
  const { width, height } = await savedPngSize(figure);
  assert.equal(width, 800, "latents PNG width");
  assert.equal(height, Number(figure.getAttribute("height")), "latents PNG height");
});
