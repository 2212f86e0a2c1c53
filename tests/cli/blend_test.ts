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
  name:
    "demo trains teacher, student, baseline and both controls in workers, prints the table and writes results and figures",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { code, out } = await run([
        "demo",
        "--trials",
        "60",
        "--seeds",
        "2",
        "--epochs",
        "1",
        "--out",
        dir,
      ]);
      assert.equal(code, 0, out);
      assert.match(out, /smoothing baseline \(floor\): co-bps/);
      assert.match(out, /true rates \(ceiling\): co-bps/);
      assert.match(out, /2 worker\(s\)/);
      const references = JSON.parse(await Deno.readTextFile(`${dir}/references.json`));
      assert.ok(references[0].trueRates.coBps > references[0].smoothing.coBps);
      assert.match(out, /model +arm +co-bps/);
      assert.match(out, /behavior-specific effect/);
      const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      const arms = results.runs.map((r: { arm: string; seed: number }) => `${r.arm}${r.seed}`);
      const order = ["teacher", "soft", "baseline", "self soft", "multitask"];
      assert.deepEqual(arms, [...order.map((a) => `${a}0`), ...order.map((a) => `${a}1`)]);
      const csv = await Deno.readTextFile(`${dir}/results.csv`);
      assert.equal(csv.trim().split("\n").length, 1 + 10 * 7, "7 metrics: NLB and truth recovery");
      for (const name of ["comparison.svg", "comparison.png", "curves.svg", "curves.png"]) {
        assert.ok((await Deno.stat(`${dir}/${name}`)).size > 1000, name);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("distill refuses bad arguments with messages naming them (exit code 2)", async () => {
  const cases: [string[], RegExp][] = [
    [["--model", "gpt"], /--model must be one of ndt, rnn, lfads, got "gpt"/],
    [
      ["--strategy", "hard,warm"],
      /--strategy must be all or one or more of hard, soft, feature, correlation/,
    ],
    [["--alpha", "1.5"], /--alpha must be a number in \[0, 1\], got "1.5"/],
    [["--seeds", "0"], /--seeds must be an integer >= 1, got "0"/],
    [["--privileged", "reward"], /--privileged must be behavior or condition/],
    [["--data", "/no/such/file.nwb"], /--data: no file at "\/no\/such\/file.nwb"/],
    [["--size", "huge"], /--size must be small or full/],
  ];
  for (const [args, message] of cases) {
    const result = await run(["distill", ...args]);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.err, message);
  }
});

Deno.test({
  name: "distill runs every asked-for strategy on the built-in data",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { code, out } = await run([
        "distill",
        "--model",
        "rnn",
        "--strategy",
        "soft,correlation",
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--trials",
        "50",
        "--out",
        dir,
      ]);
      assert.equal(code, 0, out);
      const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      assert.deepEqual(results.settings.strategies, ["soft", "correlation"]);
      assert.deepEqual(
        results.runs.map((r: { arm: string }) => r.arm),
        [
          "teacher",
          "soft",
          "correlation",
          "baseline",
          "self soft",
          "self correlation",
          "multitask",
        ],
      );
      assert.equal(results.runs[0].model, "rnn");
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
  assert.match(unknown.err, /unknown command "fly"; expected one of: demo, train, distill/);
  const badNumber = await run(["demo", "--trials", "ten"]);
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.err, /--trials must be an integer >= 30, got "ten"/);
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

Deno.test({
  name: "info describes an NWB file; distill reads a saved dataset and an NWB file",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { reachDataset } = await import("../../lib/data/synthetic/reach.ts");
    const { saveDataset } = await import("../../lib/data/store.ts");
    const { writeNWB } = await import("../../lib/data/nwb_writer.ts");
    const dir = await Deno.makeTempDir();
    try {
      const data = reachDataset({
        trials: 40,
        heldinNeurons: 8,
        heldoutNeurons: 3,
        binMs: 20,
        bins: 15,
        forwardBins: 2,
        moveOnsetBin: 5,
        seed: 6,
      });
      await saveDataset(data, `${dir}/small.h5`);
      const saved = await run([
        "distill",
        "--data",
        `${dir}/small.h5`,
        "--strategy",
        "hard",
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--out",
        `${dir}/out`,
      ]);
      assert.equal(saved.code, 0, saved.err);
      assert.match(saved.out, /8\+3 neurons, 15\+2 bins of 20 ms/);

      await writeNWB(data, `${dir}/small.nwb`, { windowStartMs: -100 });
      const described = await run(["info", `${dir}/small.nwb`]);
      assert.equal(described.code, 0, described.err);
      assert.match(described.out, /units: 11 \(8 held-in, 3 held-out\)/);
      assert.match(described.out, /trials: 40 \(split: train 30, val 10\)/);
      assert.match(described.out, /hand_vel TimeSeries: 600 x 2/);

      const fromNWB = await run([
        "distill",
        "--data",
        `${dir}/small.nwb`,
        "--strategy",
        "soft",
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--out",
        `${dir}/nwb`,
      ]);
      assert.equal(fromNWB.code, 0, fromNWB.err);
      const results = JSON.parse(await Deno.readTextFile(`${dir}/nwb/results.json`));
      assert.equal(results.settings.dataset.heldinNeurons, 8);
      // teacher, soft, baseline, self soft, multitask
      assert.equal(results.runs.length, 5);

      const badPreset = await run(["distill", "--data", `${dir}/small.nwb`, "--preset", "v1"]);
      assert.equal(badPreset.code, 2);
      assert.match(badPreset.err, /--preset must be one of mc_maze, /);
      const missing = await run(["info", `${dir}/none.nwb`]);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /no file at/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
