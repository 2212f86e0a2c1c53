/**
 * A synthetic maze-reaching task in the spirit of MC_Maze (Churchland et al.), with the
 * ground truth the real recording lacks.
 *
 * Each condition is a reach path (a direction, a curvature around a maze barrier and a
 * distance). Two **behavior latents** carry the motor command: hand velocity at time
 * `t + lag` is their linear readout at time `t`, so neural activity leads the hand by
 * `lagMs`, as in motor cortex. The **behavior-irrelevant latents** are rotational planes
 * (condition-specific preparatory states that rotate after the go signal, like the jPCA
 * rotations of motor cortex), a condition-independent signal that rises at movement
 * onset, and a slow drift that differs from trial to trial. Every latent also carries
 * trial-to-trial variability (an Ornstein–Uhlenbeck process of size `noise`).
 *
 * Spikes are Poisson with log-linear tuning: `log rate = b + C_beh · z_beh + C_other ·
 * z_other`. `behaviorExpression` is the ratio of the two blocks' log-rate standard
 * deviations: at 1 behavior is as visible in spikes as the rest; well below 1 it is
 * weakly expressed, the regime where behavior as privileged information should help.
 * @module
 */

import { deriveSeed, Random } from "../../random.ts";
import type { NeuralDataset } from "../dataset.ts";
import {
  assembleDataset,
  calibratedBaselines,
  checkInteger,
  checkNumber,
  randomLoadings,
  type SplitFractions,
  standardizeLatents,
  stratifiedSplits,
} from "./population.ts";

/** Options of `reachDataset`; every field has a default sized like MC_Maze. */
export interface ReachOptions {
  /** Number of trials. Default 2295 (as MC_Maze). */
  trials?: number;
  /** Held-in (observed) neurons. Default 137. */
  heldinNeurons?: number;
  /** Held-out neurons (to be predicted). Default 45. */
  heldoutNeurons?: number;
  /** Observed bins per trial. Default 140 (700 ms at 5 ms). */
  bins?: number;
  /** Forward-prediction bins after the trial. Default 40 (200 ms). */
  forwardBins?: number;
  /** Bin width, ms. Default 5. */
  binMs?: number;
  /** Number of reach paths (conditions). Default 27. */
  conditions?: number;
  /** Bin of movement onset within the window. Default 50 (window -250..+450 ms). */
  moveOnsetBin?: number;
  /** How far hand velocity lags the neural command, ms. Default 100. */
  lagMs?: number;
  /** Behavior latents' log-rate s.d. divided by the other latents'. Default 1. */
  behaviorExpression?: number;
  /** Total log-rate modulation (s.d. of the latent drive). Default 0.8. */
  modulation?: number;
  /** Rotational planes among the behavior-irrelevant latents. Default 2. */
  rotationalPlanes?: number;
  /** Trial-to-trial latent variability (s.d. relative to each latent's own). Default 0.3. */
  noise?: number;
  /** Measurement noise on hand velocity (s.d. relative to velocity's). Default 0.05. */
  behaviorNoise?: number;
  /** Range of neurons' mean firing rates, Hz. Default [3, 25]. */
  rateRangeHz?: [number, number];
  /** Split fractions. Default train 0.6, val 0.15, test 0.25. */
  splits?: SplitFractions;
  /** Seed of every random draw. Default 0. */
  seed?: number;
}

/** The defaults of `reachDataset`. */
export const REACH_DEFAULTS: Required<ReachOptions> = {
  trials: 2295,
  heldinNeurons: 137,
  heldoutNeurons: 45,
  bins: 140,
  forwardBins: 40,
  binMs: 5,
  conditions: 27,
  moveOnsetBin: 50,
  lagMs: 100,
  behaviorExpression: 1,
  modulation: 0.8,
  rotationalPlanes: 2,
  noise: 0.3,
  behaviorNoise: 0.05,
  rateRangeHz: [3, 25],
  splits: { train: 0.6, val: 0.15, test: 0.25 },
  seed: 0,
};

const PEAK_SPEED_MM_S = 400;
const REACH_MS = 350;

/** Per-condition reach geometry and preparatory state. */
interface Condition {
  angle: number;
  curvature: number;
  speed: number;
  prepAngles: number[];
}

/**
 * Generate the synthetic reaching dataset. Behavior is 2-D hand velocity (mm/s),
 * `hand_vel_x` and `hand_vel_y`, already aligned with its lag; `truth` holds the rates,
 * the latents (`beh_*` first, then the behavior-irrelevant ones) and
 * `behaviorLatents = [0, 1]`.
 *
 * @example
 * ```ts
 * import { reachDataset } from "./reach.ts";
 * const small = reachDataset({ trials: 200, heldinNeurons: 40, heldoutNeurons: 10, seed: 1 });
 * const weak = reachDataset({ behaviorExpression: 0.25 }); // behavior weakly in spikes
 * ```
 */
export function reachDataset(options: ReachOptions = {}): NeuralDataset {
  const o = { ...REACH_DEFAULTS, ...options };
  checkInteger(o.trials, "trials", 3);
  checkInteger(o.heldinNeurons, "heldinNeurons", 1);
  checkInteger(o.heldoutNeurons, "heldoutNeurons", 0);
  checkInteger(o.bins, "bins", 1);
  checkInteger(o.forwardBins, "forwardBins", 0);
  checkNumber(o.binMs, "binMs", 0.1, 1000);
  checkInteger(o.conditions, "conditions", 1);
  checkInteger(o.moveOnsetBin, "moveOnsetBin", 0, o.bins - 1);
  checkNumber(o.lagMs, "lagMs", 0, 1000);
  checkNumber(o.behaviorExpression, "behaviorExpression", 0);
  checkNumber(o.modulation, "modulation", 0, 5);
  checkInteger(o.rotationalPlanes, "rotationalPlanes", 0, 8);
  checkNumber(o.noise, "noise", 0, 10);
  checkNumber(o.behaviorNoise, "behaviorNoise", 0, 10);
  checkNumber(o.rateRangeHz[0], "rateRangeHz[0]", 0.01, 1000);
  checkNumber(o.rateRangeHz[1], "rateRangeHz[1]", o.rateRangeHz[0], 1000);
  checkInteger(o.seed, "seed", -(2 ** 53) + 1);

  const stream = (label: string) => new Random(deriveSeed(o.seed, label));
  const conditionRng = stream("conditions");
  const trialRng = stream("trials");
  const noiseRng = stream("noise");

  const conditions: Condition[] = Array.from({ length: o.conditions }, (_, c) => ({
    angle: (2 * Math.PI * c) / o.conditions + conditionRng.normal(0, 0.05),
    curvature: [0, 0.9, -0.9][c % 3],
    speed: PEAK_SPEED_MM_S * conditionRng.uniformRange(0.6, 1),
    prepAngles: Array.from(
      { length: o.rotationalPlanes },
      () => conditionRng.uniformRange(0, 2 * Math.PI),
    ),
  }));

  const totalBins = o.bins + o.forwardBins;
  const lagBins = Math.round(o.lagMs / o.binMs);
  const planes = o.rotationalPlanes;
  const L = 2 + 2 * planes + 2; // behavior, rotations, condition-independent, drift
  const latentNames = ["beh_0", "beh_1"];
  for (let p = 0; p < planes; p++) latentNames.push(`rot${p}_a`, `rot${p}_b`);
  latentNames.push("cis", "drift");

  const condition = new Int32Array(o.trials);
  for (let i = 0; i < o.trials; i++) condition[i] = i % o.conditions;
  trialRng.shuffle(condition);

  const latents = new Float64Array(o.trials * totalBins * L);
  const velocity = new Float64Array(o.trials * o.bins * 2); // at true time t + lag
  const toSeconds = o.binMs / 1000;
  // Rotations start with the neural command, a lag before the hand moves.
  const commandOnset = o.moveOnsetBin - lagBins;
  const reachBins = REACH_MS / o.binMs;

  for (let i = 0; i < o.trials; i++) {
    const cond = conditions[condition[i]];
    const gain = Math.exp(trialRng.normal(0, 0.15));
    const duration = reachBins * Math.exp(trialRng.normal(0, 0.1));
    const angleJitter = trialRng.normal(0, 0.08);
    const rotationGain = Math.exp(trialRng.normal(0, 0.1));
    const frequencyJitter = Math.exp(trialRng.normal(0, 0.05));
    const driftLevel = trialRng.normal(0, 1);
    for (let t = 0; t < totalBins; t++) {
      const row = (i * totalBins + t) * L;
      // Behavior latents: the hand velocity the command at t produces at t + lag.
      const phase = (t + lagBins - o.moveOnsetBin) / duration;
      if (phase > 0 && phase < 1) {
        const speed = gain * cond.speed * Math.sin(Math.PI * phase) ** 2;
        const direction = cond.angle + angleJitter + cond.curvature * (phase - 0.5);
        latents[row] = speed * Math.cos(direction);
        latents[row + 1] = speed * Math.sin(direction);
      }
      // Rotational planes: preparatory state, then rotation with a decaying envelope.
      const sinceCommand = (t - commandOnset) * toSeconds;
      for (let p = 0; p < planes; p++) {
        const frequencyHz = (1.2 + 0.9 * p) * frequencyJitter;
        const envelope = sinceCommand <= 0
          ? Math.min(1, 0.4 + t / 40)
          : (1 + 2 * sinceCommand) * Math.exp(-sinceCommand / 0.35);
        const angle = cond.prepAngles[p] + 2 * Math.PI * frequencyHz * Math.max(0, sinceCommand);
        latents[row + 2 + 2 * p] = rotationGain * envelope * Math.cos(angle);
        latents[row + 3 + 2 * p] = rotationGain * envelope * Math.sin(angle);
      }
      // Condition-independent signal: rises with the command, as in motor cortex.
      latents[row + L - 2] = 1 / (1 + Math.exp(-(sinceCommand - 0.05) / 0.03));
      latents[row + L - 1] = driftLevel;
    }
  }
  standardizeLatents(latents, L);

  // Trial-to-trial variability: an Ornstein-Uhlenbeck process (time constant 100 ms) added
  // to every latent, then velocity is read from the behavior latents including it.
  if (o.noise > 0) {
    const decay = Math.exp(-o.binMs / 100);
    const innovation = o.noise * Math.sqrt(1 - decay * decay);
    const state = new Float64Array(L);
    for (let i = 0; i < o.trials; i++) {
      for (let k = 0; k < L; k++) state[k] = noiseRng.normal(0, o.noise);
      for (let t = 0; t < totalBins; t++) {
        const row = (i * totalBins + t) * L;
        for (let k = 0; k < L; k++) {
          state[k] = decay * state[k] + innovation * noiseRng.normal();
          latents[row + k] += state[k];
        }
      }
    }
  }

  // Velocity = readout of the (standardized) behavior latents, scaled to mm/s, plus
  // measurement noise.
  const velocityScale = PEAK_SPEED_MM_S * 0.35;
  const behaviorNoise = o.behaviorNoise * velocityScale;
  for (let i = 0; i < o.trials; i++) {
    for (let t = 0; t < o.bins; t++) {
      const row = (i * totalBins + t) * L;
      const out = (i * o.bins + t) * 2;
      velocity[out] = velocityScale * latents[row] + noiseRng.normal(0, behaviorNoise);
      velocity[out + 1] = velocityScale * latents[row + 1] + noiseRng.normal(0, behaviorNoise);
    }
  }

  const otherGain = o.modulation / Math.sqrt(1 + o.behaviorExpression ** 2);
  const behaviorGain = o.behaviorExpression * otherGain;
  const neurons = o.heldinNeurons + o.heldoutNeurons;
  const tuningRng = stream("tuning");
  const otherLatents = Array.from({ length: L - 2 }, (_, k) => k + 2);
  const loadings = randomLoadings(tuningRng, neurons, L, [
    { latents: [0, 1], gain: behaviorGain },
    { latents: otherLatents, gain: otherGain },
  ]);
  const baselines = calibratedBaselines(tuningRng, loadings, latents, L, o.rateRangeHz, o.binMs);

  return assembleDataset({
    name: `reach(behaviorExpression=${o.behaviorExpression}, seed=${o.seed})`,
    binMs: o.binMs,
    bins: o.bins,
    forwardBins: o.forwardBins,
    heldinNeurons: o.heldinNeurons,
    heldoutNeurons: o.heldoutNeurons,
    latents,
    latentDim: L,
    latentNames,
    behaviorLatents: [0, 1],
    loadings,
    baselines,
    behavior: { data: Float32Array.from(velocity), shape: [o.trials, o.bins, 2] },
    behaviorNames: ["hand_vel_x", "hand_vel_y"],
    behaviorLagMs: lagBins * o.binMs,
    condition,
    split: stratifiedSplits(condition, o.splits, stream("splits")),
    spikeRng: stream("spikes"),
  });
}
