// Every notebook runs headless with the Deno kernel (fast mode, BLEND_FAST=1), with no cell
// error, and shows at least one figure. CI installs Jupyter (Debian's jupyter-nbconvert,
// python3-nbclient, jupyter-client) and the Deno kernel (`deno jupyter --install`); where
// either is missing the test is skipped and says why.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const NOTEBOOKS = fileURLToPath(new URL("../notebooks/", import.meta.url));

async function jupyterMissing(): Promise<string | null> {
  try {
    const { code, stdout } = await new Deno.Command("jupyter", {
      args: ["kernelspec", "list", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (code !== 0) return "`jupyter kernelspec list` failed";
    const specs = JSON.parse(new TextDecoder().decode(stdout)).kernelspecs ?? {};
    return "deno" in specs ? null : "no Deno kernel (run `deno jupyter --install`)";
  } catch {
    return "jupyter is not installed (apt-get install jupyter-nbconvert python3-nbclient)";
  }
}

const missing = await jupyterMissing();
if (missing) console.warn(`notebook tests skipped: ${missing}`);
const names = [...Deno.readDirSync(NOTEBOOKS)].map((e) => e.name).filter((n) =>
  n.endsWith(".ipynb")
).sort();

Deno.test("there are notebooks: quickstart, BLEND and NLB data", () => {
  for (const prefix of ["01_", "02_", "03_"]) {
    assert.ok(names.some((n) => n.startsWith(prefix)), `a notebook ${prefix}*`);
  }
});

for (const name of names) {
  Deno.test({
    name: `notebook ${name} executes with the Deno kernel and shows figures`,
    ignore: missing !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const { code, stderr } = await new Deno.Command("jupyter", {
          args: [
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=900",
            `${NOTEBOOKS}${name}`,
            "--output-dir",
            dir,
          ],
          cwd: NOTEBOOKS,
          env: { BLEND_FAST: "1" },
          stdout: "null",
          stderr: "piped",
        }).output();
        const log = new TextDecoder().decode(stderr);
        assert.equal(code, 0, `nbconvert failed:\n${log.slice(-3000)}`);
        const notebook = JSON.parse(await Deno.readTextFile(`${dir}/${name}`));
        const outputs = notebook.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []);
        const errors = outputs.filter((o: { output_type: string }) => o.output_type === "error");
        assert.equal(errors.length, 0, JSON.stringify(errors).slice(0, 2000));
        const figures = outputs.filter((o: { data?: Record<string, unknown> }) =>
          o.data?.["image/svg+xml"] !== undefined
        );
        assert.ok(figures.length > 0, "no image/svg+xml output");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
