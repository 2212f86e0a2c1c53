// mod.ts must work imported by URL (every external package is a full npm: specifier in
// lib/deps.ts). Serve the repository on 127.0.0.1 and import it from a fresh Deno process.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

Deno.test({
  name: "mod.ts imported by URL from a fresh Deno process makes data and scores it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const served: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      served.push(path);
      if (path.includes("..")) return new Response("bad path", { status: 400 });
      try {
        const body = await Deno.readFile(ROOT + path.slice(1));
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    try {
      const origin = `http://127.0.0.1:${server.addr.port}`;
      const script = `
        const blend = await import("${origin}/mod.ts");
        await blend.initBackend("wasm");
        const data = blend.reachDataset({ trials: 24, heldinNeurons: 6, heldoutNeurons: 3, seed: 1 });
        const record = blend.evaluateNLB(data, {
          train: blend.truthRates(data, "train"),
          eval: blend.truthRates(data, "test"),
        }, { gridSearch: false });
        console.log(JSON.stringify({ coBps: record.coBps, backend: blend.backendInfo().backend }));
      `;
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `--allow-import=127.0.0.1:${server.addr.port}`,
          "--allow-env",
          "--allow-read",
          `--reload=${origin}`,
          script,
        ],
        cwd: await Deno.makeTempDir(), // no deno.json of ours: a user's directory
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 0, err);
      const result = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
      assert.equal(result.backend, "wasm");
      assert.ok(result.coBps > 0, `co-bps of the true rates ${result.coBps}`);
      assert.ok(served.includes("/mod.ts") && served.includes("/lib/deps.ts"));
    } finally {
      await server.shutdown();
    }
  },
});
