import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import {
  formatResultsMarkdown,
  formatResultsTable,
  resultsCsv,
  RUN_METRICS,
  runBlendExperiment,
  type RunRecord,
  summarizeRuns,
} from "../../lib/distill/experiment.ts";
import { runBlendExperimentInWorkers } from "../../lib/distill/parallel.ts";
import type { ModelSpec } from "../../lib/distill/blend.ts";
import type { StrategyName } from "../../lib/distill/strategies.ts";

await initBackend("wasm");

const SMALL_REACH = {
  trials: 60,
  heldinNeurons: 12,
  heldoutNeurons: 4,
  bins: 16,
  forwardBins: 3,
  binMs: 20,
  moveOnsetBin: 5,
  behaviorExpression: 0.25,
};
const DATA = reachDataset({ ...SMALL_REACH, seed: 4 });

Deno.test({
  name: "runBlendExperiment: every arm and control, every data and model seed, as JSON and CSV",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const seen: string[] = [];
      const references: number[] = [];
      const results = await runBlendExperiment({
        dataset: (seed) => reachDataset({ ...SMALL_REACH, seed }),
        dataSeeds: [3, 4],
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
        onRun: (r) => seen.push(`${r.model}/${r.arm}/${r.dataSeed}/${r.seed}`),
        onReferences: (r) => references.push(r.dataSeed),
      });
      // teacher, 2 students, baseline, 2 self-distilled students, multitask.
      const arms = ["teacher", "hard", "soft", "baseline", "self hard", "self soft", "multitask"];
      assert.equal(results.runs.length, 2 * 2 * 2 * arms.length);
      assert.deepEqual(seen.slice(0, arms.length), arms.map((a) => `ndt/${a}/3/0`));
      assert.deepEqual(references, [3, 4]);
      assert.deepEqual(results.references.map((r) => r.dataSeed), [3, 4]);
      for (const r of results.references) {
        assert.ok(r.smoothing.coBps! < r.trueRates!.coBps!, "the floor is below the ceiling");
        assert.equal(r.trueRates!.heldoutR2, 1);
      }
      const roles = new Map(results.runs.map((r) => [r.arm, r.role]));
      assert.equal(roles.get("self hard"), "self-student");
      assert.equal(roles.get("multitask"), "multitask");
      // Every arm of every model has every metric (NLB and truth recovery) over 2 x 2 pairs.
      assert.equal(results.summary.length, 2 * arms.length * RUN_METRICS.length);
      for (const s of results.summary) {
        assert.equal(s.n, 4, `${s.model} ${s.arm} ${s.metric}`);
        assert.ok(Number.isFinite(s.mean) && Number.isFinite(s.sd));
        assert.equal(s.vsBaseline === null, s.role === "baseline");
        if (s.vsBaseline) assert.ok(s.vsBaseline.pWilcoxon > 0 && s.vsBaseline.pWilcoxon <= 1);
        assert.equal(s.converged, 0, "2 epochs never reach a validation plateau");
      }
      for (const run of results.runs) {
        assert.equal(run.curves.length, 2);
        assert.equal(run.fit.converged, false);
        for (const m of RUN_METRICS) assert.ok(Number.isFinite(run.scores[m]!), `${run.arm} ${m}`);
        if (run.role === "student" || run.role === "self-student") {
          assert.ok("distill" in run.curves[0].terms);
        }
        if (run.role === "multitask") assert.ok("behavior" in run.curves[0].terms);
      }
      // The behavior-specific effect: behavior-distilled minus self-distilled, pair by pair.
      const effect = results.behaviorEffect.find((e) =>
        e.model === "ndt" && e.arm === "hard" && e.metric === "velR2"
      )!;
      const pairs = results.runs.filter((r) => r.model === "ndt" && r.arm === "hard");
      const diffs = pairs.map((r) =>
        r.scores.velR2! -
        results.runs.find((s) =>
          s.model === "ndt" && s.arm === "self hard" && s.seed === r.seed &&
          s.dataSeed === r.dataSeed
        )!.scores.velR2!
      );
      assert.equal(effect.n, 4);
      assert.ok(Math.abs(effect.meanDiff - diffs.reduce((a, b) => a + b) / 4) < 1e-12);
      assert.deepEqual(results.settings.seeds, [0, 5]);
      assert.deepEqual(results.settings.dataSeeds, [3, 4]);
      assert.equal(results.settings.recipes.ndt.epochs, 2);
      const soft = results.runs.find((r) => r.arm === "soft")!;
      assert.deepEqual([soft.strategy, soft.alpha, soft.temperature], ["soft", 0.5, 2]);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      assert.equal(json.runs.length, 56);
      const csv = (await Deno.readTextFile(`${dir}/results.csv`)).trim().split("\n");
      assert.equal(csv.length, 1 + 56 * RUN_METRICS.length);
      assert.match(csv[1], /^ndt,teacher,teacher,,,,3,0,coBps,/);
      const table = formatResultsTable(results);
      assert.match(table, /smoothing \(floor\)/);
      assert.match(table, /true rates \(ceiling\)/);
      assert.match(table, /behavior-specific effect/);
      assert.match(formatResultsMarkdown(results), /^\| model \| arm \| co-bps/);
      const display =
        await (results as unknown as Record<symbol, () => Promise<Record<string, string>>>)[
          Symbol.for("Jupyter.display")
        ]();
      assert.match(display["text/html"], /<table>.*<th[^>]*>vel R2<\/th>/s);
      assert.match(display["text/html"], /Behavior-specific effect/);
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
    dataSeed: 0,
    scores: {
      coBps: 0.2,
      velR2,
      psthR2: null,
      fpBps: 0.1,
      heldinR2: null,
      heldoutR2: null,
      latentR2: null,
    },
    fit: {
      status: "completed",
      converged: false,
      epochsRun: 1,
      bestEpoch: 0,
      bestValidation: null,
      seconds: 1,
    },
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
  // The two 0.05 differences tie, so the normal approximation applies:
  // scipy.stats.wilcoxon([.55-.5, .65-.6, .72-.7, .44-.4, .49-.5], method="approx").pvalue
  assert.ok(Math.abs(v.pWilcoxon - 0.0782481864330958) < 1e-12, `${v.pWilcoxon}`);
  const co = summary.find((s) => s.arm === "hard" && s.metric === "coBps")!;
  assert.deepEqual([co.vsBaseline!.ties, co.vsBaseline!.pSign], [5, 1]);
  assert.match(
    resultsCsv({ runs } as never),
    /ndt,hard,student,hard,0.5,,0,4,velR2,0.49,1,1,false,1.0/,
  );
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
  await assert.rejects(
    () => runBlendExperiment({ dataset: DATA, dataSeeds: 2 }),
    /dataSeeds needs dataset to be a function of the data seed/,
  );
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
      controls: { selfDistillation: false, multitask: false },
      fit: { epochs: 1, batchSize: 32, progress: "none" },
      evaluate: { gridSearch: false, alphas: [0.01] },
    });
    assert.deepEqual(results.runs.map((r) => r.arm), [
      "teacher",
      "hard α=0.2",
      "hard α=0.8",
      "soft α=0.2 T=1",
      "soft α=0.2 T=4",
      "soft α=0.8 T=1",
      "soft α=0.8 T=4",
      "baseline",
    ]);
    const last = results.runs.at(-2)!;
    assert.deepEqual([last.alpha, last.temperature], [0.8, 4]);
    await assert.rejects(
      () => runBlendExperiment({ dataset: DATA, alpha: [0.5, 2] }),
      /alpha must be in \[0, 1\] \(a number or a list\), got array of length 2 \[0.5, 2\]/,
    );
  },
});

Deno.test({
  name: "runBlendExperimentInWorkers: two workers give exactly the in-process record",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const common = {
      models: [{ kind: "ndt", dModel: 8, layers: 1, feedForward: 8 }] as ModelSpec[],
      strategies: ["hard"] as StrategyName[],
      seeds: 2,
      dataSeeds: [1, 2],
      fit: { epochs: 2, batchSize: 16, progress: "none" as const },
      evaluate: { gridSearch: false, alphas: [0.01] },
    };
    const sequential = await runBlendExperiment({
      ...common,
      dataset: (seed) => reachDataset({ ...SMALL_REACH, seed }),
    });
    const arrived: string[] = [];
    const parallel = await runBlendExperimentInWorkers(
      { ...common, data: { kind: "reach", options: SMALL_REACH } },
      { workers: 2, onRun: (r) => arrived.push(r.arm) },
    );
    assert.equal(parallel.settings.workers, 2);
    assert.equal(arrived.length, sequential.runs.length);
    const key = (r: RunRecord) => `${r.dataSeed}/${r.seed}/${r.arm}`;
    assert.deepEqual(parallel.runs.map(key), sequential.runs.map(key), "the sequential order");
    assert.deepEqual(parallel.runs.map((r) => r.scores), sequential.runs.map((r) => r.scores));
    assert.deepEqual(parallel.summary, sequential.summary);
    assert.deepEqual(parallel.behaviorEffect, sequential.behaviorEffect);
    assert.deepEqual(parallel.references, sequential.references);
  },
});

Deno.test({
  name: "runBlendExperimentInWorkers: a failing worker fails the experiment with its message",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await assert.rejects(
      () =>
        runBlendExperimentInWorkers({
          data: { kind: "file", path: "/no/such/dataset.h5" },
          seeds: 2,
          fit: { epochs: 1, progress: "none" },
        }, { workers: 2 }),
      /a worker failed: .*no\/such\/dataset\.h5/,
    );
    await assert.rejects(
      () =>
        runBlendExperimentInWorkers({ data: { kind: "reach", options: SMALL_REACH } }, {
          workers: 0,
        }),
      /workers must be a positive integer, got 0/,
    );
  },
});
