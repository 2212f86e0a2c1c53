import assert from "node:assert/strict";
import { type Array3, array3 } from "../../lib/array.ts";
import { r2PerTarget } from "../../lib/metrics/regression.ts";
import { ratesVsTruthFigure } from "../../lib/plot/rates.ts";
import { data, smoothed, truth } from "./reach_fixture.ts";
import { all, panels, parsed, r2InTitle, savedPngSize, titleOf } from "./svg_helpers.ts";

/** The same array with some channels only (independent of the figure code). */
function channel(a: Array3, c: number): Float64Array {
  const [n, time, channels] = a.shape;
  return Float64Array.from({ length: n * time }, (_, row) => a.data[row * channels + c]);
}

Deno.test("ratesVsTruthFigure: one trace panel per trial and neuron, R² in the scatter title", async () => {
  const figure = await ratesVsTruthFigure({
    predicted: smoothed,
    truth: truth.heldinRates,
    binMs: data.binMs,
    trials: [0, 4],
    neurons: [1, 3, 8],
    maxPoints: 500,
  });
  const root = await parsed(figure);
  const traces = panels(root, "trace");
  assert.equal(traces.length, 2 * 3);
  assert.deepEqual(
    traces.map((p) => `${p.getAttribute("data-trial")}/${p.getAttribute("data-neuron")}`),
    ["0/1", "0/3", "0/8", "4/1", "4/3", "4/8"],
  );
  for (const p of traces) assert.equal(all(p, "g.blend-trace path").length, 2, "true + predicted");

  // R² pooled over every value, computed independently (scikit-learn semantics).
  const n = truth.heldinRates.data.length;
  const expected = r2PerTarget(
    { data: truth.heldinRates.data, rows: n, cols: 1 },
    { data: smoothed.data, rows: n, cols: 1 },
  )[0];
  const [scatter] = panels(root, "scatter");
  assert.equal(r2InTitle(titleOf(scatter)), Number(expected.toFixed(3)));
  assert.ok(Math.abs(Number(scatter.getAttribute("data-r2")) - expected) < 1e-12);
  assert.equal(all(scatter, "g.blend-scatter circle").length, 500, "maxPoints dots drawn");
  assert.ok(scatter.querySelector("g.blend-identity path"), "identity line");

  // Per-neuron R² panel: one dot per neuron.
  const [perNeuron] = panels(root, "neuron-r2");
  assert.equal(all(perNeuron, "g.blend-neuron-r2 circle").length, 12);
  const text = root.textContent ?? "";
  assert.ok(text.includes("rate (spikes/s)") && text.includes("time (ms)"), "units on axes");

  // Default neurons: the 4 whose true rates vary most.
  const variance = Array.from({ length: 12 }, (_, c) => {
    const v = channel(truth.heldinRates, c);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - mean) ** 2, 0);
  });
  const top4 = variance.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]).slice(0, 4)
    .map(([, c]) => c).sort((a, b) => a - b);
  const byDefault = await parsed(
    await ratesVsTruthFigure({ predicted: smoothed, truth: truth.heldinRates, binMs: 5 }),
  );
  const shown = panels(byDefault, "trace").filter((p) => p.getAttribute("data-trial") === "0")
    .map((p) => Number(p.getAttribute("data-neuron")));
  assert.deepEqual(shown, top4);
  assert.equal(panels(byDefault, "trace").length, 3 * 4, "3 trials x 4 neurons by default");
});

Deno.test("ratesVsTruthFigure rejects bad input with messages naming the field", async () => {
  const spikes = array3([3, 35, 10]);
  const rates = array3([3, 40, 10]);
  const nan = array3([3, 40, 10]);
  nan.data[10 * 40 + 3] = NaN;
  await assert.rejects(
    () => ratesVsTruthFigure({ predicted: nan, truth: rates, binMs: 5 }),
    /ratesVsTruthFigure: predicted has NaN at trial 1, bin 0, channel 3/,
  );
  await assert.rejects(
    () => ratesVsTruthFigure({ predicted: rates, truth: spikes, binMs: 5 }),
    /ratesVsTruthFigure: predicted has shape \[3, 40, 10\] but truth has \[3, 35, 10\]/,
  );
});

Deno.test("ratesVsTruthFigure saves to a PNG of its width", async () => {
  const figure = await ratesVsTruthFigure({
    predicted: smoothed,
    truth: truth.heldinRates,
    binMs: 5,
    maxPoints: 300,
  });
  const { width, height } = await savedPngSize(figure);
  assert.equal(width, 800, "rates PNG width");
  assert.equal(height, Number(figure.getAttribute("height")), "rates PNG height");
});
