import assert from "node:assert/strict";
import {
  describeProgress,
  formatDuration,
  type ProgressEvent,
  progressReporter,
} from "../../lib/train/progress.ts";

function event(overrides: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    kind: "epoch",
    label: "teacher ndt seed 0",
    epoch: 2,
    epochs: 10,
    stepInEpoch: 5,
    stepsPerEpoch: 5,
    trainLoss: 0.123456,
    terms: { poisson: 0.123456 },
    validation: { coBps: 0.21349, loss: 0.5 },
    best: { value: 0.25, epoch: 1 },
    elapsedSeconds: 30,
    remainingSeconds: 125,
    ...overrides,
  };
}

/** Run `body` with console.log captured; returns the printed lines. */
function captureLog(body: () => void): string[] {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    body();
  } finally {
    console.log = original;
  }
  return lines;
}

Deno.test("formatDuration: seconds, minutes, hours, unknown", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59), "59s");
  assert.equal(formatDuration(59.4), "59s");
  assert.equal(formatDuration(59.6), "1m00s");
  assert.equal(formatDuration(60), "1m00s");
  assert.equal(formatDuration(61), "1m01s");
  assert.equal(formatDuration(3599), "59m59s");
  assert.equal(formatDuration(3600), "1h00m");
  assert.equal(formatDuration(3700), "1h01m");
  assert.equal(formatDuration(36000 + 45 * 60), "10h45m");
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatDuration(Infinity), "?");
  assert.equal(formatDuration(NaN), "?");
});

Deno.test("describeProgress shows epoch x/y, loss, validation, best and time left", () => {
  const line = describeProgress(event());
  for (
    const part of [
      "teacher ndt seed 0",
      "epoch 3/10",
      "loss 0.1235",
      "val co-bps 0.213",
      "val loss 0.500",
      "(best 0.250 @ 2)",
      "2m05s left",
    ]
  ) {
    assert.ok(line.includes(part), `"${part}" missing from "${line}"`);
  }
  assert.ok(line.indexOf("epoch 3/10") < line.indexOf("loss 0.1235"));
  // Without validation or best there is no trace of them, nor empty gaps.
  const bare = describeProgress(event({ validation: null, best: null, label: "" }));
  assert.equal(bare, "epoch 3/10  loss 0.1235  2m05s left");
  // Unknown time left.
  assert.ok(describeProgress(event({ remainingSeconds: Infinity })).endsWith("? left"));
  // An end event reports the total time instead.
  const end = describeProgress(event({ kind: "end", elapsedSeconds: 3700 }));
  assert.ok(end.endsWith("1h01m total") && !end.includes("left"), end);
  // Other metrics keep their own name.
  assert.ok(
    describeProgress(event({ validation: { fpBps: 0.1, r2: 0.75 } })).includes(
      "val fp-bps 0.100  val r2 0.750",
    ),
  );
});

Deno.test('progressReporter("none") prints nothing', () => {
  const report = progressReporter("none");
  const lines = captureLog(() => {
    for (const kind of ["step", "epoch", "end"] as const) report(event({ kind }));
  });
  assert.deepEqual(lines, []);
});

Deno.test('progressReporter("lines") prints on epoch and end events only', () => {
  const report = progressReporter("lines");
  const lines = captureLog(() => {
    report(event({ kind: "step", stepInEpoch: 1 }));
    report(event({ kind: "step", stepInEpoch: 2 }));
    report(event({ kind: "epoch" }));
    report(event({ kind: "step", epoch: 3, stepInEpoch: 1 }));
    report(event({ kind: "end", epoch: 3, message: "stopped early" }));
  });
  assert.equal(lines.length, 2);
  assert.equal(lines[0], describeProgress(event({ kind: "epoch" })));
  assert.ok(lines[1].startsWith(describeProgress(event({ kind: "end", epoch: 3 }))));
  assert.ok(lines[1].endsWith("  stopped early"));
});
