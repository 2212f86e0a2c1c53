import assert from "node:assert/strict";
import { main } from "../../cli/blend.ts";

/** Run the command line in-process, capturing what it prints. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test({
  name: "demo decodes velocity better from true rates than from spikes, and writes demo.json",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { code, out } = await run(["demo", "--trials", "120", "--seed", "1", "--out", dir]);
      assert.equal(code, 0, out);
      const written = JSON.parse(await Deno.readTextFile(`${dir}/demo.json`));
      assert.equal(written.trials, 120);
      const [strong, weak] = written.rows;
      assert.equal(strong.behaviorExpression, 1);
      assert.equal(weak.behaviorExpression, 0.25);
      for (const row of written.rows) assert.ok(row.r2TrueRates > 0.9, `${row.r2TrueRates}`);
      assert.ok(weak.r2Spikes < strong.r2Spikes, `${weak.r2Spikes} vs ${strong.r2Spikes}`);
      assert.match(out, /R2_true_rates/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("--help prints usage; bad commands and options are errors with exit code 2", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: deno run/);
  const unknown = await run(["fly"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "fly"; expected one of: demo, train/);
  const badNumber = await run(["demo", "--trials", "ten"]);
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.err, /--trials must be an integer >= 10, got "ten"/);
  const badOption = await run(["demo", "--colour", "red"]);
  assert.equal(badOption.code, 2);
  assert.match(badOption.err, /colour/);
  assert.equal((await run([])).code, 2);
});

Deno.test({
  name: "train fits a model, saves its best checkpoint and scores it beside the baselines",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { code, out } = await run([
        "train",
        "--model",
        "ndt",
        "--trials",
        "40",
        "--epochs",
        "2",
        "--out",
        dir,
      ]);
      assert.equal(code, 0, out);
      assert.match(out, /test split +co-bps +vel R2/);
      const written = JSON.parse(await Deno.readTextFile(`${dir}/ndt/scores.json`));
      assert.deepEqual(Object.keys(written.scores), ["ndt", "smoothing", "true rates"]);
      assert.equal(written.fit.epochsRun, 2);
      assert.ok(written.scores["true rates"].coBps > written.scores.smoothing.coBps);
      const files = [...Deno.readDirSync(`${dir}/ndt/best`)].map((e) => e.name).sort();
      assert.deepEqual(files, ["config.json", "metrics.json", "model.safetensors"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("train refuses an unknown model or bin width with exit code 2", async () => {
  const model = await run(["train", "--model", "gpt"]);
  assert.equal(model.code, 2);
  assert.match(model.err, /--model must be one of ndt, rnn, lfads, got "gpt"/);
  const bin = await run(["train", "--bin-ms", "10"]);
  assert.equal(bin.code, 2);
  assert.match(bin.err, /--bin-ms must be 5 or 20, got 10/);
});
