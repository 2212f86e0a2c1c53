/**
 * Figures out of the process: SVG text, PNG bytes (resvg, as WebAssembly), files, and
 * inline display in the Deno Jupyter kernel.
 *
 * A figure is an `<svg>` element (what `Plot.plot` returns without legends or titles, and
 * what every figure function of blend returns). {@link asFigure} attaches
 * `[Symbol.for("Jupyter.display")]` to it, the method the Deno kernel calls to show a value,
 * so a figure that ends a notebook cell displays inline as SVG.
 *
 * Permissions: SVG needs none (but `--allow-write` to save). PNG needs `--allow-read` on the
 * font directory (`--allow-read=/usr/share/fonts` on Debian, package `fonts-dejavu-core`);
 * resvg's WebAssembly itself loads like code, with no permission.
 *
 * @example
 * ```ts
 * import { saveFigure } from "./output.ts";
 * import { trainingCurvesFigure } from "./curves.ts";
 * const figure = await trainingCurvesFigure([
 *   { run: "ndt", epoch: 1, quantity: "train loss", value: 0.41 },
 *   { run: "ndt", epoch: 2, quantity: "train loss", value: 0.37 },
 * ]);
 * await saveFigure(figure, "out/curves.svg");
 * await saveFigure(figure, "out/curves.png"); // 2x scale, white background
 * ```
 * @module
 */

import { loadResvg } from "../deps.ts";
import { ArgumentError, BlendError, describe } from "../errors.ts";
import { attachDisplay, type JUPYTER_DISPLAY } from "../html.ts";
import { writeBytesAtomic, writeTextAtomic } from "../io.ts";
import { type DomElement, SVG_NS } from "./document.ts";

/** A Jupyter mimebundle for a figure: the SVG text, and a one-line text fallback. */
export type FigureMimeBundle = {
  /** The figure as a standalone SVG document (with `xmlns`). */
  "image/svg+xml": string;
  /** A short description for text-only front ends. */
  "text/plain": string;
};

/** An `<svg>` element that displays itself inline in the Deno Jupyter kernel. */
export interface Figure extends DomElement {
  /** The mimebundle the kernel shows: `{ "image/svg+xml": svgText, "text/plain": ... }`. */
  [JUPYTER_DISPLAY](): FigureMimeBundle;
}

/**
 * Make an `<svg>` element (for example one from `Plot.plot({ document })`) display inline
 * in the Deno Jupyter kernel, by attaching a non-enumerable `[Symbol.for("Jupyter.display")]`
 * method that returns `{ "image/svg+xml": figureToSvg(svg) }`. Returns the same element.
 *
 * @example
 * ```ts
 * import { loadPlot } from "../deps.ts";
 * import { plotDocument } from "./document.ts";
 * const Plot = await loadPlot();
 * const document = await plotDocument();
 * const figure = asFigure(Plot.plot({ document, marks: [Plot.lineY([1, 3, 2])] }));
 * figure; // as the last expression of a notebook cell: drawn inline
 * ```
 */
export function asFigure(svg: DomElement): Figure {
  figureToSvg(svg); // fail now, not at display time, when it is not an <svg>
  attachDisplay(svg, (): FigureMimeBundle => {
    const width = svg.getAttribute("width") ?? "?";
    const height = svg.getAttribute("height") ?? "?";
    return {
      "image/svg+xml": figureToSvg(svg),
      "text/plain": `[figure: SVG, ${width} x ${height} px]`,
    };
  });
  return svg as Figure;
}

/**
 * The figure as a standalone SVG document: its markup, with `xmlns` on the root (and
 * `xmlns:xlink` when it uses `xlink:`), so a browser opens it and resvg renders it.
 * Throws for anything but an `<svg>` element (Plot wraps its SVG in an HTML `<figure>` when
 * given a title, caption or legend; those are HTML, not SVG).
 */
export function figureToSvg(figure: DomElement): string {
  const tag = typeof figure?.tagName === "string" ? figure.tagName.toLowerCase() : undefined;
  if (tag !== "svg" || typeof figure.outerHTML !== "string") {
    const what = tag ? `an HTML <${tag}> element` : describe(figure);
    throw new ArgumentError(
      `figureToSvg: a figure must be an <svg> element, got ${what}` +
        (tag === "figure"
          ? " (Observable Plot returns <figure> when given a title, subtitle, caption or legend;" +
            " leave those out, or use blend's figures (lib/plot/), which draw them inside the SVG)"
          : ""),
    );
  }
  let text = figure.outerHTML;
  const rootTag = text.slice(0, text.indexOf(">") + 1);
  const extra: string[] = [];
  if (!/\sxmlns\s*=/.test(rootTag)) extra.push(`xmlns="${SVG_NS}"`);
  if (/\sxlink:/.test(text) && !/\sxmlns:xlink\s*=/.test(rootTag)) {
    extra.push(`xmlns:xlink="http://www.w3.org/1999/xlink"`);
  }
  if (extra.length > 0) text = `<svg ${extra.join(" ")}${text.slice(4)}`;
  return text;
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Pixels per SVG unit. Default 2 (sharp on high-density screens and in print). */
  scale?: number;
  /** Background colour (any CSS colour). Default `"white"`. */
  background?: string;
  /**
   * Font files (TrueType / OpenType) for the text. Default: DejaVu Sans from the system
   * (Debian package `fonts-dejavu-core`).
   */
  fontFiles?: string[];
}

/** Where DejaVu Sans lives on common Linux distributions, Debian first. */
const FONT_DIRS = [
  "/usr/share/fonts/truetype/dejavu", // Debian, Ubuntu: fonts-dejavu-core
  "/usr/share/fonts/dejavu-sans-fonts", // Fedora
  "/usr/share/fonts/dejavu", // openSUSE, older Fedora
  "/usr/share/fonts/TTF", // Arch: ttf-dejavu
];
const FONT_FILES = [
  "DejaVuSans.ttf",
  "DejaVuSans-Bold.ttf",
  "DejaVuSans-Oblique.ttf",
  "DejaVuSans-BoldOblique.ttf",
];

let defaultFonts: Promise<Uint8Array[]> | undefined;

function isPermissionError(error: unknown): boolean {
  const errors = Deno.errors as Record<string, unknown>;
  return [errors.NotCapable, errors.PermissionDenied].some((kind) =>
    typeof kind === "function" && error instanceof kind
  );
}

async function readFont(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (isPermissionError(error)) {
      throw new BlendError(
        `svgToPng: reading the font ${path} needs read permission; run with ` +
          `--allow-read=${path.slice(0, path.lastIndexOf("/")) || "/"} (or a wider --allow-read)`,
      );
    }
    throw error;
  }
}

async function findDefaultFonts(): Promise<Uint8Array[]> {
  for (const dir of FONT_DIRS) {
    let regular: Uint8Array;
    try {
      regular = await readFont(`${dir}/${FONT_FILES[0]}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const fonts = [regular];
    for (const name of FONT_FILES.slice(1)) {
      try {
        fonts.push(await readFont(`${dir}/${name}`));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return fonts;
  }
  throw new BlendError(
    `svgToPng: no font found for the text (DejaVu Sans, looked for ${FONT_FILES[0]} in ` +
      `${FONT_DIRS.join(", ")}). Install the Debian package fonts-dejavu-core ` +
      `(apt-get install fonts-dejavu-core), or pass fontFiles.`,
  );
}

function loadFonts(fontFiles: string[] | undefined): Promise<Uint8Array[]> {
  if (fontFiles !== undefined) {
    if (!Array.isArray(fontFiles) || fontFiles.length === 0) {
      throw new ArgumentError(
        `svgToPng: fontFiles must be a non-empty array of paths, got ${describe(fontFiles)}`,
      );
    }
    return Promise.all(fontFiles.map(readFont));
  }
  defaultFonts ??= findDefaultFonts().catch((error) => {
    defaultFonts = undefined;
    throw error;
  });
  return defaultFonts;
}

let resvgReady: ReturnType<typeof startResvg> | undefined;

async function startResvg() {
  const resvg = await loadResvg();
  await resvg.initWasm(resvg.wasm);
  return resvg.Resvg;
}

/**
 * Render SVG text to PNG bytes with resvg (WebAssembly): `scale` pixels per SVG unit
 * (default 2), on a white background, text in DejaVu Sans. Needs read permission on the
 * font directory (`--allow-read=/usr/share/fonts`).
 *
 * @example
 * ```ts
 * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20">` +
 *   `<text x="2" y="15">10 Hz</text></svg>`;
 * const png = await svgToPng(svg, { scale: 2 }); // 120 x 40 pixels
 * ```
 */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0) {
    throw new ArgumentError(`svgToPng: scale must be a positive number, got ${describe(scale)}`);
  }
  if (typeof svg !== "string" || !svg.trimStart().startsWith("<")) {
    throw new ArgumentError(`svgToPng: svg must be SVG markup text, got ${describe(svg)}`);
  }
  const fonts = await loadFonts(options.fontFiles);
  resvgReady ??= startResvg().catch((error) => {
    resvgReady = undefined;
    throw error;
  });
  const Resvg = await resvgReady;
  let renderer: InstanceType<typeof Resvg> | undefined;
  try {
    renderer = new Resvg(svg, {
      fitTo: { mode: "zoom", value: scale },
      background: options.background ?? "white",
      font: {
        fontBuffers: fonts,
        defaultFontFamily: "DejaVu Sans",
        sansSerifFamily: "DejaVu Sans",
        serifFamily: "DejaVu Sans",
        monospaceFamily: "DejaVu Sans",
      },
    });
    const image = renderer.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BlendError(`svgToPng: resvg could not render the SVG: ${reason}`);
  } finally {
    renderer?.free();
  }
}

/**
 * Save a figure to `path`: `.svg` writes the SVG text, `.png` renders it (resvg, `scale`
 * pixels per SVG unit, default 2, white background). The file is written atomically and its
 * directory created. Any other extension throws.
 *
 * @example
 * ```ts
 * import { trainingCurvesFigure } from "./curves.ts";
 * const figure = await trainingCurvesFigure([
 *   { run: "ndt", epoch: 1, quantity: "train loss", value: 0.41 },
 *   { run: "ndt", epoch: 2, quantity: "train loss", value: 0.37 },
 * ]);
 * await saveFigure(figure, "out/curves.svg");
 * await saveFigure(figure, "out/curves.png");
 * ```
 */
export async function saveFigure(
  figure: DomElement,
  path: string,
  options: Pick<PngOptions, "scale" | "fontFiles"> = {},
): Promise<void> {
  const lower = typeof path === "string" ? path.toLowerCase() : "";
  const isSvg = lower.endsWith(".svg");
  if (!isSvg && !lower.endsWith(".png")) {
    throw new ArgumentError(
      `saveFigure: cannot tell the format of ${describe(path)}: ` +
        `the path must end in .svg or .png`,
    );
  }
  const svg = figureToSvg(figure);
  if (isSvg) await writeTextAtomic(path, svg + "\n");
  else await writeBytesAtomic(path, await svgToPng(svg, options));
}
