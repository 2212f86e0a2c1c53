import assert from "node:assert/strict";
import { type Array3, array3 } from "../../lib/array.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { JUPYTER_DISPLAY } from "../../lib/html.ts";
import { rasterFigure } from "../../lib/plot/raster.ts";
import { data, smoothed, truth } from "./reach_fixture.ts";
import { all, panels, parsed, savedPngSize } from "./svg_helpers.ts";

Deno.test("rasterFigure draws one tick per non-zero spike count of the trial", async () => {
  const trial = 5;
  const [, bins, channels] = data.heldinSpikes.shape;
  let nonZero = 0;
  for (let t = 0; t < bins; t++) {
    for (let c = 0; c < channels; c++) {
      if (data.heldinSpikes.data[(trial * bins + t) * channels + c] > 0) nonZero++;
    }
  }
  assert.ok(nonZero > 10, `the trial has spikes to draw (${nonZero})`);
  const figure = await rasterFigure({
    spikes: data.heldinSpikes,
    rates: truth.heldinRates,
    trial,
    binMs: data.binMs,
  });
  assert.equal(typeof figure[JUPYTER_DISPLAY], "function", "displays in Jupyter");
  const root = await parsed(figure);
  assert.equal(all(root, "g.blend-spike line").length, nonZero);
  assert.deepEqual(panels(root).map((p) => p.getAttribute("data-kind")), ["raster", "rates"]);
  assert.ok(all(root, "g.blend-heatmap path").length > 1, "the rates heatmap has colour levels");
  assert.ok(root.querySelector("g.blend-ramp"), "a colour ramp for the rates");
  const text = root.textContent ?? "";
  for (const label of ["time (ms)", "neuron", "inferred rate (spikes/s)"]) {
    assert.ok(text.includes(label), `labels ${label}`);
  }

  // A subset of neurons, without rates: ticks of those neurons only, one panel.
  const neurons = [7, 2, 9];
  let subset = 0;
  for (let t = 0; t < bins; t++) {
    for (const c of neurons) {
      if (data.heldinSpikes.data[(trial * bins + t) * channels + c] > 0) subset++;
    }
  }
  const small = await parsed(
    await rasterFigure({ spikes: data.heldinSpikes, trial, binMs: data.binMs, neurons }),
  );
  assert.equal(all(small, "g.blend-spike line").length, subset);
  assert.equal(panels(small).length, 1);
  const yLabels = all(small, 'g[aria-label="y-axis tick label"] text').map((t) => t.textContent);
  assert.deepEqual(yLabels, ["7", "2", "9"], "rows are labelled with the neuron ids, in order");
});

Deno.test("rasterFigure rejects bad input with messages naming the field", async () => {
  const spikes = array3([3, 35, 10]);
  const rates = array3([3, 40, 10]);
  await assert.rejects(
    () => rasterFigure({ spikes, rates, trial: 0, binMs: 5 }),
    (e) =>
      e instanceof ArgumentError &&
      e.message === "rasterFigure: rates has shape [3, 40, 10] but spikes has [3, 35, 10]",
  );
  await assert.rejects(
    () => rasterFigure({ spikes, trial: 3, binMs: 5 }),
    /rasterFigure: trial must be an integer from 0 to 2 \(there are 3 trials\), got 3/,
  );
  await assert.rejects(
    () => rasterFigure({ spikes, trial: 0, binMs: 0 }),
    /rasterFigure: binMs must be a positive number of milliseconds, got 0/,
  );
  await assert.rejects(
    () => rasterFigure({ spikes, trial: 0, binMs: 5, neurons: [1, 10] }),
    /rasterFigure: neurons\[1\] is 10, but there are 10 neurons \(indices 0 to 9\)/,
  );
  await assert.rejects(
    () => rasterFigure({ spikes: undefined as unknown as Array3, trial: 0, binMs: 5 }),
    /rasterFigure: spikes is missing/,
  );
  const bad = array3([3, 35, 10]);
  bad.data[5] = -1;
  await assert.rejects(
    () => rasterFigure({ spikes: bad, trial: 0, binMs: 5 }),
    /rasterFigure: spikes has -1 at trial 0, bin 0, channel 5; spike counts must be finite/,
  );
});

Deno.test("rasterFigure saves to a PNG of its width", async () => {
  const figure = await rasterFigure({
    spikes: data.heldinSpikes,
    rates: smoothed,
    trial: 0,
    binMs: 5,
    width: 640,
  });
  const { width, height } = await savedPngSize(figure);
  assert.equal(width, 640, "raster PNG width");
  assert.equal(height, Number(figure.getAttribute("height")), "raster PNG height");
});
