/**
 * Training progress: one event type, reported to a callback (notebooks) and drawn as a
 * live bar in a terminal or as one line per epoch in a log.
 * @module
 */

/** One progress report, sent after every step and at the end of every epoch. */
export interface ProgressEvent {
  /** `step` after each optimizer step, `epoch` after each epoch's validation, `end` once. */
  kind: "step" | "epoch" | "end";
  /** A label for the run (e.g. "teacher ndt seed 0"). */
  label: string;
  /** Zero-based epoch. */
  epoch: number;
  /** Epochs planned. */
  epochs: number;
  /** Step within the epoch (1-based, after the step). */
  stepInEpoch: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Mean training loss of the epoch so far (the total that is optimized). */
  trainLoss: number;
  /** Mean of every logged loss term of the epoch so far. */
  terms: Record<string, number>;
  /** Validation metrics of the last finished epoch, if any. */
  validation: Record<string, number> | null;
  /** The best monitored value so far and its epoch, if any. */
  best: { value: number; epoch: number } | null;
  /** Seconds since training started (this run). */
  elapsedSeconds: number;
  /** Estimated seconds left for the planned epochs. */
  remainingSeconds: number;
  /** How the run ended (`end` events only). */
  message?: string;
}

/** Where progress goes: a callback, a terminal bar, a line per epoch, or nowhere. */
export type ProgressMode = "auto" | "bar" | "lines" | "none";

/** Format seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Format validation metrics briefly: `val co-bps 0.213`. */
function formatValidation(validation: Record<string, number> | null): string {
  if (!validation) return "";
  const names: Record<string, string> = { coBps: "co-bps", fpBps: "fp-bps", loss: "loss" };
  return Object.entries(validation)
    .map(([key, value]) => `val ${names[key] ?? key} ${value.toFixed(3)}`)
    .join("  ");
}

/** One line describing an event (what the bar and the log lines show). */
export function describeProgress(event: ProgressEvent): string {
  const epoch = `epoch ${event.epoch + 1}/${event.epochs}`;
  const loss = `loss ${event.trainLoss.toFixed(4)}`;
  const validation = formatValidation(event.validation);
  const best = event.best ? `(best ${event.best.value.toFixed(3)} @ ${event.best.epoch + 1})` : "";
  const time = event.kind === "end"
    ? `${formatDuration(event.elapsedSeconds)} total`
    : `${formatDuration(event.remainingSeconds)} left`;
  return [event.label, epoch, loss, validation, best, time].filter((s) => s).join("  ");
}

const encoder = new TextEncoder();

function isTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/**
 * A progress reporter for a mode. `bar` redraws one line on stderr; `lines` prints a line
 * per epoch (and at the end) to stdout; `auto` is `bar` in a terminal and `lines` elsewhere
 * (logs, notebooks).
 */
export function progressReporter(mode: ProgressMode): (event: ProgressEvent) => void {
  const resolved = mode === "auto" ? (isTerminal() ? "bar" : "lines") : mode;
  if (resolved === "none") return () => {};
  if (resolved === "lines") {
    return (event) => {
      if (event.kind !== "step") {
        console.log(describeProgress(event) + (event.message ? `  ${event.message}` : ""));
      }
    };
  }
  const width = 20;
  return (event) => {
    const done = (event.epoch + event.stepInEpoch / Math.max(1, event.stepsPerEpoch)) /
      event.epochs;
    const filled = Math.round(Math.min(1, done) * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `\r\x1b[2K${bar} ${describeProgress(event)}`;
    Deno.stderr.writeSync(
      encoder.encode(event.kind === "end" ? `${line}  ${event.message ?? ""}\n` : line),
    );
  };
}
