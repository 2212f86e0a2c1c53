import assert from "node:assert/strict";
import { array3 } from "../../lib/array.ts";
import { r2PerTarget } from "../../lib/metrics/regression.ts";
import { decodingFigure } from "../../lib/plot/decoding.ts";
import { data } from "./reach_fixture.ts";
import { all, panels, parsed, r2InTitle, savedPngSize, titleOf } from "./svg_helpers.ts";

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

Deno.test("decodingFigure rejects bad input with messages naming the field", async () => {
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

Deno.test("decodingFigure saves to a PNG of its width", async () => {
  const figure = await decodingFigure({
    predicted: data.behavior,
    actual: data.behavior,
    binMs: 5,
    names: data.behaviorNames,
  });
  const { width, height } = await savedPngSize(figure);
  assert.equal(width, 800, "decoding PNG width");
  assert.equal(height, Number(figure.getAttribute("height")), "decoding PNG height");
});
