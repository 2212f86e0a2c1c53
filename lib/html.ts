/**
 * Small HTML for report objects shown in Jupyter: an escaped table, and a helper that
 * attaches the Deno kernel's display method (`Symbol.for("Jupyter.display")`) to a plain
 * record without changing its JSON.
 * @module
 */

/** Escape text for HTML. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** An HTML table: a header row, body rows and an optional caption (all text, escaped). */
export function htmlTable(header: string[], rows: string[][], caption?: string): string {
  const cells = (r: string[], tag: "th" | "td") =>
    r.map((c) =>
      `<${tag} style="text-align:${tag === "th" ? "center" : "right"}">${escapeHtml(c)}</${tag}>`
    )
      .join("");
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ""}\n` +
    `<thead><tr>${cells(header, "th")}</tr></thead>\n<tbody>\n` +
    rows.map((r) => `<tr>${cells(r, "td")}</tr>`).join("\n") + "\n</tbody></table>";
}

/** The key the Deno Jupyter kernel looks up to display a value: `Symbol.for("Jupyter.display")`. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** A Jupyter mimebundle. */
export type MimeBundle = Record<string, string>;

/**
 * Make `value` display itself in the Deno Jupyter kernel with `render` (which may be async:
 * the kernel awaits it). The method is a non-enumerable symbol, so JSON and structured
 * clones of the record are unchanged.
 */
export function attachDisplay<T extends object>(
  value: T,
  render: () => MimeBundle | Promise<MimeBundle>,
): T {
  // Configurable and writable, so a record can be given a new display later.
  Object.defineProperty(value, JUPYTER_DISPLAY, {
    value: render,
    configurable: true,
    enumerable: false,
    writable: true,
  });
  return value;
}

/** Format a number for a table cell (`-` for null or undefined). */
export function formatCell(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? "-" : value.toFixed(digits);
}
