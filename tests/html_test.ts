import assert from "node:assert/strict";
import { attachDisplay, escapeHtml, formatCell, htmlTable } from "../lib/html.ts";

Deno.test("htmlTable escapes every cell; attachDisplay leaves the JSON alone", async () => {
  const html = htmlTable(["a<b", "c"], [["1 & 2", '"x"']], "cap <i>");
  assert.match(html, /<caption>cap &lt;i&gt;<\/caption>/);
  assert.match(html, /<th[^>]*>a&lt;b<\/th>/);
  assert.match(html, /<td[^>]*>1 &amp; 2<\/td><td[^>]*>&quot;x&quot;<\/td>/);
  assert.equal(escapeHtml("<&>"), "&lt;&amp;&gt;");
  assert.equal(formatCell(null), "-");
  assert.equal(formatCell(0.12345), "0.123");
  const record = attachDisplay({ a: 1 }, () => Promise.resolve({ "text/html": "<b>1</b>" }));
  assert.equal(JSON.stringify(record), '{"a":1}');
  const bundle = await (record as unknown as Record<symbol, () => Promise<Record<string, string>>>)[
    Symbol.for("Jupyter.display")
  ]();
  assert.deepEqual(bundle, { "text/html": "<b>1</b>" });
});
