import assert from "node:assert/strict";
import { array3 } from "../../lib/array.ts";
import { conditionPSTH } from "../../lib/metrics/nlb.ts";
import { psthFigure } from "../../lib/plot/psth.ts";
import { data, smoothed, truth } from "./reach_fixture.ts";
import { all, panels, parsed, savedPngSize } from "./svg_helpers.ts";

Deno.test("psthFigure: a panel per neuron (two with spikes), a line per condition", async () => {
  const neurons = [0, 4, 10];
  const withSpikes = await parsed(
    await psthFigure({
      rates: truth.heldinRates,
      spikes: data.heldinSpikes,
      condition: data.condition,
      binMs: data.binMs,
      neurons,
    }),
  );
  const psth = panels(withSpikes, "psth");
  assert.equal(psth.length, neurons.length * 2);
  assert.deepEqual(
    psth.map((p) => `${p.getAttribute("data-neuron")}:${p.getAttribute("data-source")}`),
    ["0:predicted", "0:spikes", "4:predicted", "4:spikes", "10:predicted", "10:spikes"],
  );
  for (const p of psth) assert.equal(all(p, "g.blend-psth path").length, 3, "3 conditions");
  assert.equal(all(withSpikes, "g.blend-legend-item").length, 1 + 3, "heading + 3 conditions");

  const some = await parsed(
    await psthFigure({
      rates: smoothed,
      condition: data.condition,
      binMs: data.binMs,
      neurons: [1, 2, 3, 5],
      conditions: [2, 0],
      columns: 2,
    }),
  );
  const grid = panels(some, "psth");
  assert.equal(grid.length, 4);
  for (const p of grid) assert.equal(all(p, "g.blend-psth path").length, 2, "2 conditions");

  // The drawn peak of a predicted PSTH matches the condition mean, in spikes/s.
  const { psth: means, conditionIds } = conditionPSTH(truth.heldinRates, data.condition);
  const [, bins, channels] = means.shape;
  let peak = 0;
  for (let k = 0; k < conditionIds.length; k++) {
    for (let t = 0; t < bins; t++) peak = Math.max(peak, means.data[(k * bins + t) * channels]);
  }
  const one = await psthFigure({
    rates: truth.heldinRates,
    condition: data.condition,
    binMs: data.binMs,
    neurons: [0],
  });
  // Pixel -> value from two y tick labels, then the highest point of the drawn lines.
  const panel = panels(await parsed(one), "psth")[0];
  const ticks = all(panel, 'g[aria-label="y-axis tick label"] text').map((t) => ({
    value: Number((t.textContent ?? "").replace("\u2212", "-")),
    y: Number(/translate\([-\d.e]+,([-\d.e]+)\)/.exec(t.getAttribute("transform") ?? "")![1]),
  }));
  const [a, b] = [ticks[0], ticks[ticks.length - 1]];
  const toValue = (y: number) => a.value + ((y - a.y) * (b.value - a.value)) / (b.y - a.y);
  const ys = all(panel, "g.blend-psth path").flatMap((path) =>
    [...(path.getAttribute("d") ?? "").matchAll(/[ML][-\d.e]+,([-\d.e]+)/g)].map((m) =>
      Number(m[1])
    )
  );
  const hz = (peak * 1000) / data.binMs;
  assert.ok(Math.abs(toValue(Math.min(...ys)) - hz) < 0.01 * hz, `peak drawn at ${hz} spikes/s`);
});

Deno.test("psthFigure rejects bad input with messages naming the field", async () => {
  const rates = array3([3, 40, 10]);
  await assert.rejects(
    () => psthFigure({ rates, condition: new Int32Array(4), binMs: 5, neurons: [0] }),
    /psthFigure: condition has 4 entries but rates has 3 trials/,
  );
  await assert.rejects(
    () =>
      psthFigure({
        rates,
        condition: new Int32Array([0, 1, 1]),
        binMs: 5,
        neurons: [0],
        conditions: [2],
      }),
    /psthFigure: conditions\[0\] is 2, which no trial has \(condition ids present: 0, 1\)/,
  );
  await assert.rejects(
    () => psthFigure({ rates, condition: new Int32Array(3), binMs: 5, neurons: [0, 0] }),
    /psthFigure: neurons lists neurons index 0 twice/,
  );
});

Deno.test("psthFigure saves to a PNG of its width", async () => {
  const figure = await psthFigure({
    rates: truth.heldinRates,
    spikes: data.heldinSpikes,
    condition: data.condition,
    binMs: 5,
    neurons: [0, 1],
  });
  const { width, height } = await savedPngSize(figure);
  assert.equal(width, 800, "psth PNG width");
  assert.equal(height, Number(figure.getAttribute("height")), "psth PNG height");
});
