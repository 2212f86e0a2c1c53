import assert from "node:assert/strict";
import { loadPlot } from "../../lib/deps.ts";
import { type DomElement, plotDocument } from "../../lib/plot/document.ts";
import { trainingCurvesFigure } from "../../lib/plot/curves.ts";
import { JUPYTER_DISPLAY } from "../../lib/html.ts";
import { asFigure, figureToSvg, saveFigure, svgToPng } from "../../lib/plot/output.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, "PNG signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Decode an 8-bit RGBA, non-interlaced PNG (what resvg writes) into its pixels. */
async function pngPixels(
  png: Uint8Array,
): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const { width, height } = pngSize(png);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(png[24], 8, "bit depth 8");
  assert.equal(png[25], 6, "colour type RGBA");
  const idat: Uint8Array<ArrayBuffer>[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    if (type === "IDAT") idat.push(png.slice(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const stream = new Blob(idat).stream().pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const stride = width * 4;
  const rgba = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
        ? a
        : Math.abs(p - b) <= Math.abs(p - c)
        ? b
        : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      rgba[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "blend_plot_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const curves = () =>
  trainingCurvesFigure([
    { run: "a", epoch: 1, quantity: "train loss", value: 0.5 },
    { run: "a", epoch: 2, quantity: "train loss", value: 0.4 },
    { run: "b", epoch: 1, quantity: "train loss", value: 0.6 },
    { run: "b", epoch: 2, quantity: "train loss", value: 0.45 },
  ], { title: "Loss" });

Deno.test("saveFigure writes a standalone SVG and a 2x PNG, atomically", async () => {
  const figure = await curves();
  await withTempDir(async (dir) => {
    await saveFigure(figure, `${dir}/nested/fig.svg`);
    const svg = await Deno.readTextFile(`${dir}/nested/fig.svg`);
    assert.ok(svg.startsWith("<svg"));
    assert.match(svg, /^<svg[^>]* xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/xmlns=/g)?.length, 1, "one xmlns, not added twice");
    const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
    const height = Number(/^<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
    assert.equal(width, 800);
    assert.ok(height > 100);

    await saveFigure(figure, `${dir}/fig.PNG`);
    const png = await Deno.readFile(`${dir}/fig.PNG`);
    assert.deepEqual(pngSize(png), { width: 2 * width, height: 2 * height });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["fig.PNG", "nested"], "no partial file left");
  });
});

Deno.test("saveFigure refuses other extensions and names the path", async () => {
  const figure = await curves();
  await withTempDir(async (dir) => {
    for (const name of ["fig.jpg", "fig", "fig.svg.bak"]) {
      await assert.rejects(
        () => saveFigure(figure, `${dir}/${name}`),
        (error: Error) =>
          error.message.includes(`${dir}/${name}`) && /\.svg or \.png/.test(error.message),
      );
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  });
});

Deno.test("svgToPng renders text with the system font, on white, at the asked scale", async () => {
  // Black text on the left half only; the right half must stay white.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30">` +
    `<text x="2" y="20" font-size="16" font-family="system-ui, sans-serif">Rate (Hz)</text>` +
    `</svg>`;
  const { width, height, rgba } = await pngPixels(await svgToPng(svg, { scale: 1 }));
  assert.deepEqual([width, height], [120, 30]);
  let dark = 0;
  let darkRight = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      assert.equal(rgba[i + 3], 255, "opaque background");
      if (rgba[i] < 128) {
        dark++;
        if (x > 100) darkRight++;
      }
    }
  }
  assert.ok(dark > 60, `the text left ${dark} dark pixels`);
  assert.equal(darkRight, 0);
  const { width: w3 } = pngSize(await svgToPng(svg, { scale: 3 }));
  assert.equal(w3, 360);
});

Deno.test("svgToPng rejects a bad scale, bad SVG and missing font files clearly", async () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`;
  await assert.rejects(() => svgToPng(svg, { scale: 0 }), /scale must be a positive number, got 0/);
  await assert.rejects(() => svgToPng("not svg"), /svg must be SVG markup text/);
  await assert.rejects(() => svgToPng("<svg><g></svg>"), /resvg could not render the SVG/);
  await assert.rejects(() => svgToPng(svg, { fontFiles: [] }), /fontFiles must be a non-empty/);
  await assert.rejects(
    () => svgToPng(svg, { fontFiles: ["/nonexistent/font.ttf"] }),
    Deno.errors.NotFound,
  );
});

Deno.test("figureToSvg adds xmlns to a raw Plot SVG and rejects Plot's HTML <figure>", async () => {
  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const raw = Plot.plot({ document, marks: [Plot.lineY([1, 3, 2])] }) as unknown as DomElement;
  assert.equal(raw.getAttribute("xmlns"), null);
  const svg = figureToSvg(raw);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  assert.equal(raw.getAttribute("xmlns"), null, "the element itself is not changed");
  // A raw Plot figure renders too (its <style> and all).
  assert.deepEqual(pngSize(await svgToPng(svg, { scale: 1 })), { width: 640, height: 400 });

  const withLegend = Plot.plot({
    document,
    color: { legend: true },
    marks: [Plot.dot([{ x: 1, c: "a" }], { x: "x", fill: "c" })],
  }) as unknown as DomElement;
  assert.throws(() => figureToSvg(withLegend), /must be an <svg> element, got an HTML <figure>/);
  assert.throws(() => asFigure(withLegend), /HTML <figure>/);
  assert.throws(() => figureToSvg("<svg/>" as unknown as DomElement), /got "<svg\/>"/);
});

Deno.test("asFigure makes a Plot SVG display in Jupyter as image/svg+xml", async () => {
  const [Plot, document] = await Promise.all([loadPlot(), plotDocument()]);
  const figure = asFigure(
    Plot.plot({ document, marks: [Plot.lineY([1, 3, 2])] }) as unknown as DomElement,
  );
  const display = (figure as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ];
  const bundle = display.call(figure);
  assert.ok(bundle["image/svg+xml"].startsWith("<svg xmlns="));
  assert.match(bundle["text/plain"], /640 x 400/);
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  assert.equal(await plotDocument(), document, "the document is created once");
});
