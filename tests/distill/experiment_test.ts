import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import {
  BLEND_METRICS,
  formatResultsMarkdown,
  formatResultsTable,
  resultsCsv,
  runBlendExperiment,
  type RunRecord,
  summarizeRuns,
} from "../../lib/distill/experiment.ts";

await initBackend("wasm");

const DATA = reachDataset({
  trials: 60,
  heldinNeurons: 12,
  heldoutNeurons: 4,
  bins: 16,
  forwardBins: 3,
  binMs: 20,
  moveOnsetBin: 5,
  behaviorExpression: 0.25,
  seed: 4,
});

Deno.test({
  name: "runBlendExperiment: every model, arm, seed and metric, written as JSON and CSV",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const seen: string[] = [];
      const results = await runBlendExperiment({
        dataset: DATA,
        models: [{ kind: "ndt", dModel: 16, layers: 1, feedForward: 16 }, {
          kind: "rnn",
          encoderDim: 8,
          generatorDim: 8,
          factorDim: 4,
        }],
        strategies: ["hard", "soft"],
        seeds: [0, 5],
        fit: { epochs: 2, batchSize: 16, progress: "none" },
        evaluate: { gridSearch: false, alphas: [0.01] },
        outDir: dir,
        onRun: (r) => seen.push(`${r.model}/${r.arm}/${r.seed}`),
      });
      assert.equal(results.runs.length, 2 * 2 * 4);
      assert.deepEqual(seen.slice(0, 4), [
        "ndt/teacher/0",
        "ndt/baseline/0",
        "ndt/hard/0",
        "ndt/soft/0",
      ]);
      // Every arm of every model has every metric, over both seeds.
      assert.equal(results.summary.length, 2 * 4 * BLEND_METRICS.length);
      for (const s of results.summary) {
        assert.equal(s.n, 2, `${s.model} ${s.arm} ${s.metric}`);
        assert.ok(Number.isFinite(s.mean) && Number.isFinite(s.sd));
        assert.equal(s.vsBaseline === null, s.role === "baseline");
      }
      for (const run of results.runs) {
        assert.equal(run.curves.length, 2);
        for (const m of BLEND_METRICS) {
          assert.ok(Number.isFinite(run.scores[m]!), `${run.arm} ${m}`);
        }
        if (run.role === "student") assert.ok("distill" in run.curves[0].terms);
      }
      assert.deepEqual(results.settings.seeds, [0, 5]);
      assert.deepEqual(results.settings.alpha, [0.5]);
      const soft = results.runs.find((r) => r.arm === "soft")!;
      assert.deepEqual([soft.strategy, soft.alpha, soft.temperature], ["soft", 0.5, 2]);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      assert.equal(json.runs.length, 16);
      const csv = (await Deno.readTextFile(`${dir}/results.csv`)).trim().split("\n");
      assert.equal(csv.length, 1 + 16 * BLEND_METRICS.length);
      assert.match(csv[1], /^ndt,teacher,teacher,,,,0,coBps,/);
      const table = formatResultsTable(results);
      assert.equal(table.split("\n").length, 1 + 8);
      assert.match(formatResultsMarkdown(results), /^\| model \| arm \| co-bps/);
      const display =
        await (results as unknown as Record<symbol, () => Promise<Record<string, string>>>)[
          Symbol.for("Jupyter.display")
        ]();
      assert.match(display["text/html"], /<table>.*<th[^>]*>vel R2<\/th>/s);
      assert.match(
        display["text/html"],
        /<svg[^>]*>.*vel R²/s,
        "the comparison figure follows the table",
      );
      assert.equal(
        JSON.stringify(results).includes("Jupyter"),
        false,
        "the display is not in the JSON",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function run(arm: string, role: RunRecord["role"], seed: number, velR2: number): RunRecord {
  return {
    model: "ndt",
    arm,
    role,
    strategy: role === "student" ? "hard" : null,
    alpha: role === "student" ? 0.5 : null,
    temperature: null,
    seed,
    scores: { coBps: 0.2, velR2, psthR2: null, fpBps: 0.1 },
    fit: { status: "completed", epochsRun: 1, bestEpoch: 0, bestValidation: null, seconds: 1 },
    curves: [],
  };
}

Deno.test("summarizeRuns: paired differences to the baseline of the same seed, sign test", () => {
  const runs = [
    run("baseline", "baseline", 0, 0.5),
    run("baseline", "baseline", 1, 0.6),
    run("baseline", "baseline", 2, 0.7),
    run("baseline", "baseline", 3, 0.4),
    run("baseline", "baseline", 4, 0.5),
    run("hard", "student", 0, 0.55),
    run("hard", "student", 1, 0.65),
    run("hard", "student", 2, 0.72),
    run("hard", "student", 3, 0.44),
    run("hard", "student", 4, 0.49),
  ];
  const summary = summarizeRuns(runs);
  assert.equal(summary.filter((s) => s.metric === "psthR2").length, 0, "null metrics are left out");
  const vel = summary.find((s) => s.arm === "hard" && s.metric === "velR2")!;
  assert.ok(Math.abs(vel.mean - 0.57) < 1e-12);
  const v = vel.vsBaseline!;
  assert.deepEqual([v.wins, v.losses, v.ties], [4, 1, 0]);
  assert.ok(Math.abs(v.meanDiff - 0.03) < 1e-12);
  assert.ok(Math.abs(v.pSign - 0.375) < 1e-12);
  const co = summary.find((s) => s.arm === "hard" && s.metric === "coBps")!;
  assert.deepEqual([co.vsBaseline!.ties, co.vsBaseline!.pSign], [5, 1]);
  assert.match(resultsCsv({ runs } as never), /ndt,hard,student,hard,0.5,,4,velR2,0.49,1,1,1.0/);
});

Deno.test("runBlendExperiment rejects unknown strategies, empty models and bad seeds", async () => {
  await assert.rejects(
    () => runBlendExperiment({ dataset: DATA, strategies: ["warm" as never] }),
    /strategies: "warm" is not one of hard, soft, feature, correlation/,
  );
  await assert.rejects(
    () => runBlendExperiment({ dataset: DATA, models: [] }),
    /at least one model/,
  );
  await assert.rejects(() => runBlendExperiment({ dataset: DATA, seeds: [1.5] }), /seeds must be/);
});

Deno.test({
  name: "runBlendExperiment sweeps alpha and temperature: one student arm per setting",
  sanitizeResources: false,
  fn: async () => {
    const results = await runBlendExperiment({
      dataset: DATA,
      models: [{ kind: "ndt", dModel: 8, layers: 1, feedForward: 8 }],
      strategies: ["hard", "soft"],
      alpha: [0.2, 0.8],
      temperature: [1, 4],
      seeds: 1,
      fit: { epochs: 1, batchSize: 32, progress: "none" },
      evaluate: { gridSearch: false, alphas: [0.01] },
    });
    assert.deepEqual(results.runs.map((r) => r.arm), [
      "teacher",
      "baseline",
      "hard α=0.2",
      "hard α=0.8",
      "soft α=0.2 T=1",
      "soft α=0.2 T=4",
      "soft α=0.8 T=1",
      "soft α=0.8 T=4",
    ]);
    const last = results.runs.at(-1)!;
    assert.deepEqual([last.alpha, last.temperature], [0.8, 4]);
    await assert.rejects(
      () => runBlendExperiment({ dataset: DATA, alpha: [0.5, 2] }),
      /alpha must be in \[0, 1\] \(a number or a list\), got array of length 2 \[0.5, 2\]/,
    );
  },
});
