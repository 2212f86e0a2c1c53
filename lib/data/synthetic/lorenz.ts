/**
 * Lorenz-attractor latents driving Poisson neurons: the classic benchmark of latent
 * dynamical models (as in the LFADS paper), with behavior added as a noisy linear
 * readout of a subset of the latents, so behavior-relevant and behavior-irrelevant
 * latents are known exactly.
 *
 * The system is `dx/dt = σ(y − x)`, `dy/dt = x(ρ − z) − y`, `dz/dt = xy − βz` with
 * σ = 10, ρ = 28, β = 8/3, integrated by classical Runge–Kutta (at least 4 steps per bin,
 * none longer than 0.0025). Conditions are states 0.37 time units apart along one long
 * trajectory that first settles onto the attractor; each trial starts at its condition's
 * state plus Gaussian jitter and follows the flow. Spikes are Poisson with log-linear
 * tuning to the standardized x, y, z; baselines are calibrated on the simulated latents,
 * so every neuron's mean rate is its target in `rateRangeHz`.
 * @module
 */

import { ArgumentError } from "../../errors.ts";
import { deriveSeed, Random } from "../../random.ts";
import type { NeuralDataset } from "../dataset.ts";
import {
  assembleDataset,
  calibratedBaselines,
  channelNames,
  checkInteger,
  checkNumber,
  randomLoadings,
  type SplitFractions,
  standardizeLatents,
  stratifiedSplits,
} from "./population.ts";

/** Options of `lorenzDataset`. */
export interface LorenzOptions {
  /** Number of trials. Default 400. */
  trials?: number;
  /** Held-in neurons. Default 30. */
  heldinNeurons?: number;
  /** Held-out neurons. Default 10. */
  heldoutNeurons?: number;
  /** Observed bins per trial. Default 100. */
  bins?: number;
  /** Forward-prediction bins. Default 20. */
  forwardBins?: number;
  /** Bin width, ms. Default 10. */
  binMs?: number;
  /** Lorenz time advanced per bin (RK4 steps of at most 0.0025). Default 0.01. */
  dt?: number;
  /** Initial-state clusters (conditions). Default 20. */
  conditions?: number;
  /** Jitter of each trial's initial state around its condition's (Lorenz units). Default 0.5. */
  noise?: number;
  /** Log-rate modulation (s.d. of the latent drive). Default 1. */
  modulation?: number;
  /** Range of neurons' mean firing rates (over all bins), Hz. Default [5, 30]. */
  rateRangeHz?: [number, number];
  /** Which latents (0 = x, 1 = y, 2 = z) behavior reads out. Default [0, 1]. */
  behaviorLatents?: number[];
  /** Behavior dimensions. Default 2. */
  behaviorDims?: number;
  /** Behavior noise, as a fraction of each dimension's s.d. Default 0.1. */
  behaviorNoise?: number;
  /** Split fractions. Default train 0.6, val 0.15, test 0.25. */
  splits?: SplitFractions;
  /** Seed. Default 0. */
  seed?: number;
}

/** The defaults of `lorenzDataset`. */
export const LORENZ_DEFAULTS: Required<LorenzOptions> = {
  trials: 400,
  heldinNeurons: 30,
  heldoutNeurons: 10,
  bins: 100,
  forwardBins: 20,
  binMs: 10,
  dt: 0.01,
  conditions: 20,
  noise: 0.5,
  modulation: 1,
  rateRangeHz: [5, 30],
  behaviorLatents: [0, 1],
  behaviorDims: 2,
  behaviorNoise: 0.1,
  splits: { train: 0.6, val: 0.15, test: 0.25 },
  seed: 0,
};

const SIGMA = 10, RHO = 28, BETA = 8 / 3;
const SUBSTEPS = 4; // fewest RK4 steps per bin
const MAX_STEP = 0.0025; // longest RK4 step, Lorenz time units
const BURN_IN = 5; // Lorenz time from the random start to the first condition
const CONDITION_SPACING = 0.37; // Lorenz time between consecutive conditions

/** Advance the state held in `s[0..2]` by `steps` RK4 steps of size `h`, in place. */
function integrate(s: Float64Array, h: number, steps: number): void {
  let x = s[0], y = s[1], z = s[2];
  const half = h / 2, sixth = h / 6;
  for (let i = 0; i < steps; i++) {
    const k1x = SIGMA * (y - x), k1y = x * (RHO - z) - y, k1z = x * y - BETA * z;
    let ax = x + half * k1x, ay = y + half * k1y, az = z + half * k1z;
    const k2x = SIGMA * (ay - ax), k2y = ax * (RHO - az) - ay, k2z = ax * ay - BETA * az;
    ax = x + half * k2x;
    ay = y + half * k2y;
    az = z + half * k2z;
    const k3x = SIGMA * (ay - ax), k3y = ax * (RHO - az) - ay, k3z = ax * ay - BETA * az;
    ax = x + h * k3x;
    ay = y + h * k3y;
    az = z + h * k3z;
    const k4x = SIGMA * (ay - ax), k4y = ax * (RHO - az) - ay, k4z = ax * ay - BETA * az;
    x += sixth * (k1x + 2 * k2x + 2 * k3x + k4x);
    y += sixth * (k1y + 2 * k2y + 2 * k3y + k4y);
    z += sixth * (k1z + 2 * k2z + 2 * k3z + k4z);
  }
  s[0] = x;
  s[1] = y;
  s[2] = z;
}

/**
 * Advance a Lorenz state `[x, y, z]` (σ = 10, ρ = 28, β = 8/3) by time `h` with one
 * classical Runge–Kutta step; returns the new state.
 *
 * @example
 * ```ts
 * import { rk4Step } from "./lorenz.ts";
 * let state = [1, 1, 20];
 * for (let i = 0; i < 100; i++) state = rk4Step(state, 0.0025); // 0.25 time units
 * ```
 */
export function rk4Step(state: number[], h: number): number[] {
  const s = Float64Array.from(state);
  integrate(s, h, 1);
  return Array.from(s);
}

/**
 * Generate the Lorenz dataset. Each condition is a point on the attractor; each trial
 * starts near its condition's point and follows the Lorenz flow. `truth.latents` are the
 * standardized x, y, z; behavior is `behavior_k = Σ_j M[k, j] · latent_j + noise` over
 * `behaviorLatents`.
 *
 * @example
 * ```ts
 * import { lorenzDataset } from "./lorenz.ts";
 * const data = lorenzDataset({ trials: 200, behaviorLatents: [2], behaviorDims: 1 });
 * ```
 */
export function lorenzDataset(options: LorenzOptions = {}): NeuralDataset {
  const o = { ...LORENZ_DEFAULTS, ...options };
  checkInteger(o.trials, "trials", 3);
  checkInteger(o.heldinNeurons, "heldinNeurons", 1);
  checkInteger(o.heldoutNeurons, "heldoutNeurons", 0);
  checkInteger(o.bins, "bins", 1);
  checkInteger(o.forwardBins, "forwardBins", 0);
  checkNumber(o.binMs, "binMs", 0.1, 1000);
  checkNumber(o.dt, "dt", 1e-4, 0.1);
  checkInteger(o.conditions, "conditions", 1);
  checkNumber(o.noise, "noise", 0, 100);
  checkNumber(o.modulation, "modulation", 0, 5);
  if (!Array.isArray(o.rateRangeHz) || o.rateRangeHz.length !== 2) {
    throw new ArgumentError(`rateRangeHz must be [minHz, maxHz], got ${o.rateRangeHz}`);
  }
  checkNumber(o.rateRangeHz[0], "rateRangeHz[0]", 0.01, 1000);
  checkNumber(o.rateRangeHz[1], "rateRangeHz[1]", o.rateRangeHz[0], 1000);
  checkInteger(o.behaviorDims, "behaviorDims", 1);
  checkNumber(o.behaviorNoise, "behaviorNoise", 0, 10);
  checkInteger(o.seed, "seed", -(2 ** 53) + 1);
  const chosen = o.behaviorLatents;
  if (
    !Array.isArray(chosen) || chosen.length === 0 ||
    chosen.some((k) => !Number.isInteger(k) || k < 0 || k > 2) ||
    new Set(chosen).size !== chosen.length
  ) {
    throw new ArgumentError(
      `behaviorLatents must be distinct latent indices in 0..2 (x, y, z), got [${chosen}]`,
    );
  }

  const stream = (label: string) => new Random(deriveSeed(o.seed, label));
  const conditionRng = stream("conditions");
  const trialRng = stream("trials");
  const substeps = Math.max(SUBSTEPS, Math.ceil(o.dt / MAX_STEP - 1e-9));
  const h = o.dt / substeps;
  const stepsFor = (time: number) => Math.round(time / h);

  // Conditions: points along one long trajectory on the attractor, after a burn-in.
  const state = Float64Array.of(
    conditionRng.normal(0, 5),
    conditionRng.normal(0, 5),
    25 + conditionRng.normal(0, 5),
  );
  integrate(state, h, stepsFor(BURN_IN));
  const starts: Float64Array[] = [];
  for (let c = 0; c < o.conditions; c++) {
    integrate(state, h, stepsFor(CONDITION_SPACING));
    starts.push(state.slice());
  }

  const condition = new Int32Array(o.trials);
  for (let i = 0; i < o.trials; i++) condition[i] = i % o.conditions;
  trialRng.shuffle(condition);

  const totalBins = o.bins + o.forwardBins;
  const latents = new Float64Array(o.trials * totalBins * 3);
  const s = new Float64Array(3);
  for (let i = 0; i < o.trials; i++) {
    const start = starts[condition[i]];
    for (let k = 0; k < 3; k++) s[k] = start[k] + trialRng.normal(0, o.noise);
    for (let t = 0; t < totalBins; t++) {
      latents.set(s, (i * totalBins + t) * 3);
      integrate(s, h, substeps);
    }
  }
  standardizeLatents(latents, 3);

  // Behavior: a random readout of the chosen latents, plus noise relative to its spread.
  const readoutRng = stream("behavior");
  const readout = Array.from(
    { length: o.behaviorDims },
    () => chosen.map(() => readoutRng.normal()),
  );
  const behavior = new Float64Array(o.trials * o.bins * o.behaviorDims);
  for (let i = 0; i < o.trials; i++) {
    for (let t = 0; t < o.bins; t++) {
      for (let d = 0; d < o.behaviorDims; d++) {
        let v = 0;
        chosen.forEach((k, j) => v += readout[d][j] * latents[(i * totalBins + t) * 3 + k]);
        behavior[(i * o.bins + t) * o.behaviorDims + d] = v;
      }
    }
  }
  for (let d = 0; d < o.behaviorDims; d++) { // noise scaled to each dimension's s.d.
    let sum = 0, squares = 0;
    const n = o.trials * o.bins;
    for (let r = 0; r < n; r++) sum += behavior[r * o.behaviorDims + d];
    for (let r = 0; r < n; r++) squares += (behavior[r * o.behaviorDims + d] - sum / n) ** 2;
    const sd = Math.sqrt(squares / n) * o.behaviorNoise;
    for (let r = 0; r < n; r++) behavior[r * o.behaviorDims + d] += readoutRng.normal(0, sd);
  }

  const neurons = o.heldinNeurons + o.heldoutNeurons;
  const tuningRng = stream("tuning");
  const loadings = randomLoadings(tuningRng, neurons, 3, [{
    latents: [0, 1, 2],
    gain: o.modulation,
  }]);
  const baselines = calibratedBaselines(tuningRng, loadings, latents, 3, o.rateRangeHz, o.binMs);

  return assembleDataset({
    name: `lorenz(seed=${o.seed})`,
    binMs: o.binMs,
    bins: o.bins,
    forwardBins: o.forwardBins,
    heldinNeurons: o.heldinNeurons,
    heldoutNeurons: o.heldoutNeurons,
    latents,
    latentDim: 3,
    latentNames: ["x", "y", "z"],
    behaviorLatents: [...chosen],
    loadings,
    baselines,
    behavior: {
      data: Float32Array.from(behavior),
      shape: [o.trials, o.bins, o.behaviorDims],
    },
    behaviorNames: channelNames("behavior_", o.behaviorDims),
    behaviorLagMs: 0,
    condition,
    split: stratifiedSplits(condition, o.splits, stream("splits")),
    spikeRng: stream("spikes"),
  });
}
