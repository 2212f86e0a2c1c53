import assert from "node:assert/strict";
import { type Array3, array3 } from "../../lib/array.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { loadLinkedom } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { conditionPSTH, smoothSpikes } from "../../lib/metrics/nlb.ts";
import { r2PerTarget } from "../../lib/metrics/regression.ts";
import { pca } from "../../lib/pca.ts";
import type { DomElement } from "../../lib/plot/document.ts";
import {
  decodingFigure,
  latentTrajectoriesFigure,
  psthFigure,
  rasterFigure,
  ratesVsTruthFigure,
} from "../../lib/plot/neural.ts";
import { figureToSvg, JUPYTER_DISPLAY, saveFigure } from "../../lib/plot/output.ts";

/** A small reach dataset: 24 trials, 40 bins of 5 ms, 12 + 3 neurons, 3 conditions. */
const data = reachDataset({
  trials: 24,
  heldinNeurons: 12,
  heldoutNeurons: 3,
  bins: 40,
  forwardBins: 4,
  moveOnsetBin: 15,
  conditions: 3,
  seed: 5,
});
const truth = data.truth!;
const smoothed = smoothSpikes(data.heldinSpikes, 30, data.binMs);

/** Parse SVG text back into elements (linkedom's XML parser), to read what was written. */
async function parseSvg(text: string): Promise<DomElement> {
  const { DOMParser } = await loadLinkedom();
  const document = new DOMParser().parseFromString(text, "image/svg+xml") as unknown as {
    documentElement: DomElement;
  };
  return document.documentElement;
}

async function parsed(figure: DomElement): Promise<DomElement> {
  return await parseSvg(figureToSvg(figure));
}

function all(root: DomElement, selector: string): DomElement[] {
  return Array.from(root.querySelectorAll(selector));
}

function panels(root: DomElement, kind?: string): DomElement[] {
  return all(root, "g.blend-panel").filter((p) => !kind || p.getAttribute("data-kind") === kind);
}

function titleOf(panel: DomElement): string {
  return panel.querySelector("text.blend-panel-title")?.textContent ?? "";
}

/** The number after "R² = " in a title (typographic minus allowed). */
function r2InTitle(title: string): number {
  const match = /R² = ([\u2212\-\d.]+)/.exec(title);
  assert.ok(match, `title "${title}" shows an R²`);
  return Number(match[1].replace("\u2212", "-"));
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "PNG signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The same array with some channels only (independent of the figure code). */
function channel(a: Array3, c: number): Float64Array {
  const [n, time, channels] = a.shape;
  return Float64Array.from({ length: n * time }, (_, row) => a.data[row * channels + c]);
}

// ---------------------------------------------------------------------------------------

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

Deno.test("decodingFigure: R² per dimension in the titles, traces and paths per trial", async () => {
  // A decoder stand-in: behavior plus a smooth error that differs by dimension.
  const actual = data.behavior;
  const predicted = array3(actual.shape, new Float64Array(actual.data.length), "float64");
  for (let i = 0; i < actual.data.length; i++) {
    predicted.data[i] = 0.8 * actual.data[i] + (i % 2 === 0 ? 20 : -35) * Math.sin(i / 7);
  }
  const trials = [1, 2, 3];
  const root = await parsed(
    await decodingFigure({
      predicted,
      actual,
      binMs: data.binMs,
      names: data.behaviorNames,
      trials,
    }),
  );
  const traces = panels(root, "trace");
  assert.equal(traces.length, 2);
  const n = actual.shape[0] * actual.shape[1];
  const expected = r2PerTarget(
    { data: actual.data, rows: n, cols: 2 },
    { data: predicted.data, rows: n, cols: 2 },
  );
  traces.forEach((p, d) => {
    assert.ok(titleOf(p).startsWith(data.behaviorNames[d]));
    assert.equal(r2InTitle(titleOf(p)), Number(expected[d].toFixed(3)));
    assert.equal(all(p, "g.blend-measured path").length, trials.length);
    assert.equal(all(p, "g.blend-decoded path").length, trials.length);
  });
  const [path] = panels(root, "path");
  assert.equal(all(path, "g.blend-measured path").length, trials.length);
  const text = root.textContent ?? "";
  for (const label of ["hand_vel_x (mm/s)", "hand_vel_y (mm/s)", "time (ms)", "dt (mm)"]) {
    assert.ok(text.includes(label), `labels ${label}`);
  }

  // NaN in the measured behavior is skipped in R², not an error.
  const gappy = array3(actual.shape, Float64Array.from(actual.data), "float64");
  gappy.data[0] = NaN;
  const withGap = await parsed(
    await decodingFigure({ predicted, actual: gappy, binMs: 5, names: data.behaviorNames }),
  );
  assert.ok(Number.isFinite(r2InTitle(titleOf(panels(withGap, "trace")[0]))));
});

Deno.test("neural figures reject bad input with messages naming the field", async () => {
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
  await assert.rejects(
    () =>
      decodingFigure({
        predicted: array3([3, 10, 2]),
        actual: array3([3, 10, 2]),
        binMs: 5,
        names: ["x"],
      }),
    /decodingFigure: names must be 2 strings, one per behavior dimension of actual/,
  );
});

Deno.test("every neural figure saves to a PNG of its width", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blend_neural_" });
  try {
    const figures = {
      raster: await rasterFigure({
        spikes: data.heldinSpikes,
        rates: smoothed,
        trial: 0,
        binMs: 5,
        width: 640,
      }),
      rates: await ratesVsTruthFigure({
        predicted: smoothed,
        truth: truth.heldinRates,
        binMs: 5,
        maxPoints: 300,
      }),
      psth: await psthFigure({
        rates: truth.heldinRates,
        spikes: data.heldinSpikes,
        condition: data.condition,
        binMs: 5,
        neurons: [0, 1],
      }),
      latents: await latentTrajectoriesFigure({
        latents: truth.latents,
        condition: data.condition,
        binMs: 5,
        components: 3,
      }),
      decoding: await decodingFigure({
        predicted: data.behavior,
        actual: data.behavior,
        binMs: 5,
        names: data.behaviorNames,
      }),
    };
    for (const [name, figure] of Object.entries(figures)) {
      const path = `${dir}/${name}.png`;
      await saveFigure(figure, path, { scale: 1 });
      const { width, height } = pngSize(await Deno.readFile(path));
      const expected = name === "raster" ? 640 : 800;
      assert.equal(width, expected, `${name} PNG width`);
      assert.equal(height, Number(figure.getAttribute("height")), `${name} PNG height`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
