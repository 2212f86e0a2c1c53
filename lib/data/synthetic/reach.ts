/**
 * A synthetic maze-reaching task in the spirit of MC_Maze (Churchland et al.), with the
 * ground truth the real recording lacks, built so that the NLB smoothing baseline is not
 * close to the truth: on MC_Maze it reaches about 55% of the best models' co-bps; here, at
 * MC_Maze's size and the defaults, 55% of the true rates' (docs/synthetic_data.md has the
 * statistics beside MC_Maze's, and `bench/synthetic_stats.ts` measures them).
 *
 * Each condition is a reach path (a direction, a curvature around a maze barrier and a
 * distance). Time is counted from the **command**, `lagMs` before movement onset: the
 * neural activity that moves the hand, and the end of movement preparation. The latents:
 *
 * - **Behavior latents** (2): the motor command. Hand velocity at `t + lag` is their
 *   linear readout at `t`, so neural activity leads the hand by `lagMs`.
 * - **Rotational planes** (`rotationalPlanes`, frequencies log-spaced over `rotationHz`):
 *   a preparatory state (its condition's, varied from trial to trial by
 *   `rotationJitter`) that, after the command, rotates and grows then decays, like the
 *   jPCA rotations of motor cortex. Fast planes are what a 50 ms smoothing kernel blurs
 *   even in the condition means.
 * - **Condition-independent signal** (2): a step and a transient at the command, the
 *   largest component of real motor cortex activity around movement onset.
 * - **Slow trial-to-trial variability** (3, `slowNoise`): two preparatory fluctuations
 *   (200 ms time constant) and a per-trial drift.
 * - **Fast trial-to-trial variability** (`noiseLatents`, `noise`, time constants
 *   log-spaced over `noiseTimescalesMs`): shared, low-dimensional fluctuations, visible in
 *   most neurons at once, that a model can infer from the whole population but a
 *   per-neuron 50 ms kernel cannot follow.
 *
 * Trial-to-trial variability falls after the command (`noiseAfterGo`, `slowNoiseAfterGo`),
 * so Fano factors fall at movement onset as in motor cortex (Churchland et al. 2010).
 *
 * Neurons are heterogeneous: mean rates log-uniform in `rateRangeHz`, modulation depths
 * log-normal (`depthSpread`), each tuned to a random subset of the latents
 * (`tuningDensity`), with a soft saturation (`ceilingHz`) that keeps condition-averaged
 * peaks in a cortical range. Spikes are Poisson with `rate = r / (1 + r · deadTime)`,
 * `log r = b + C_beh · z_beh + C_other · z_other`. `behaviorExpression` is the ratio of the
 * behavior block's log-rate s.d. to the other condition-locked latents': at 1 behavior is
 * as visible in spikes as the rest; well below 1 it is weakly expressed, the regime where
 * behavior as privileged information should help.
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
  /** Behavior latents' log-rate s.d. divided by the other condition-locked latents'. Default 1. */
  behaviorExpression?: number;
  /**
   * Log-rate s.d. of the condition-locked drive (behavior latents, rotations and the
   * condition-independent signal), averaged over neurons. Default 0.55.
   */
  modulation?: number;
  /** Rotational planes among the behavior-irrelevant latents. Default 4. */
  rotationalPlanes?: number;
  /** Rotation frequencies, Hz: the planes' are log-spaced from first to second. Default [1, 6]. */
  rotationHz?: [number, number];
  /**
   * Trial-to-trial variability of the rotations' initial (preparatory) state: s.d. of its
   * phase, rad (its amplitude's log s.d. is half of it). The rotations then follow from it,
   * so a dynamical model can infer it from the whole trial. Default 0.4.
   */
  rotationJitter?: number;
  /**
   * Log-rate s.d. of the fast shared trial-to-trial variability before the command,
   * averaged over neurons. Default 1.
   */
  noise?: number;
  /** Latents of the fast trial-to-trial variability. Default 3. */
  noiseLatents?: number;
  /**
   * Time constants of the fast variability's latents (Ornstein–Uhlenbeck processes), ms:
   * log-spaced from the first to the second. Default [20, 50].
   */
  noiseTimescalesMs?: [number, number];
  /**
   * Log-rate scale of the slow trial-to-trial variability, averaged over neurons: the
   * log-rate s.d. its three latents would give at unit s.d. Its two preparatory
   * fluctuations (200 ms time constant) have unit s.d. before the command, its per-trial
   * drift s.d. 0.5 throughout. Default 0.8.
   */
  slowNoise?: number;
  /** Amplitude of the fast variability after the command, relative to before. Default 0.7. */
  noiseAfterGo?: number;
  /**
   * Amplitude of the slow preparatory fluctuations after the command, relative to before
   * (the drift does not change). Default 0.3.
   */
  slowNoiseAfterGo?: number;
  /** Measurement noise on hand velocity (s.d. relative to velocity's). Default 0.05. */
  behaviorNoise?: number;
  /** Range of neurons' mean firing rates, Hz (log-uniform). Default [2, 40]. */
  rateRangeHz?: [number, number];
  /**
   * Range of neurons' soft saturation rates, Hz (log-uniform; see `deadTimes`): it keeps
   * condition-averaged peaks in a cortical range. Default [80, 200].
   */
  ceilingHz?: [number, number];
  /**
   * Probability that a neuron is tuned to a given latent (sparse, mixed tuning: each neuron
   * loads on a random subset of the latents). Default 0.7.
   */
  tuningDensity?: number;
  /** S.d. of neurons' log modulation depth (mean square depth 1). Default 0.4. */
  depthSpread?: number;
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
  modulation: 0.55,
  rotationalPlanes: 4,
  rotationHz: [1, 6],
  rotationJitter: 0.4,
  noise: 1,
  noiseLatents: 3,
  noiseTimescalesMs: [20, 50],
  slowNoise: 0.8,
  noiseAfterGo: 0.7,
  slowNoiseAfterGo: 0.3,
  behaviorNoise: 0.05,
  rateRangeHz: [2, 40],
  ceilingHz: [80, 200],
  tuningDensity: 0.7,
  depthSpread: 0.4,
  splits: { train: 0.6, val: 0.15, test: 0.25 },
  seed: 0,
};

const PEAK_SPEED_MM_S = 400;
const REACH_MS = 350;
/** Time constant of the slow preparatory fluctuations, ms. */
const SLOW_TIMESCALE_MS = 200;
/** S.d. of the per-trial drift latent (the preparatory fluctuations' is 1). */
const DRIFT = 0.5;
/** Motor noise on the behavior latents (s.d. after standardizing, time constant ms). */
const MOTOR_NOISE = 0.1, MOTOR_TIMESCALE_MS = 50;
/** When (s after the command) and how fast (s) variability falls to its post-command level. */
const QUENCH_CENTER_S = 0.025, QUENCH_WIDTH_S = 0.02;

/** Per-condition reach geometry and preparatory state. */
interface Condition {
  angle: number;
  curvature: number;
  speed: number;
  prepAngles: number[];
  prepAmplitudes: number[];
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/** `count` values log-spaced from `low` to `high` (the geometric mean when count is 1). */
function logSpaced(low: number, high: number, count: number): number[] {
  if (count === 1) return [Math.sqrt(low * high)];
  return Array.from(
    { length: count },
    (_, k) => low * (high / low) ** (k / (count - 1)),
  );
}

/**
 * Generate the synthetic reaching dataset. Behavior is 2-D hand velocity (mm/s),
 * `hand_vel_x` and `hand_vel_y`, already aligned with its lag; `truth` holds the rates,
 * the latents (`beh_*` first, then the behavior-irrelevant ones) and
 * `behaviorLatents = [0, 1]`; `truePsth` holds the condition means of the true rates.
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
  checkInteger(o.rotationalPlanes, "rotationalPlanes", 0, 16);
  checkRange(o.rotationHz, "rotationHz", 0.01, 100);
  checkNumber(o.rotationJitter, "rotationJitter", 0, 10);
  checkNumber(o.noise, "noise", 0, 5);
  checkInteger(o.noiseLatents, "noiseLatents", 0, 64);
  checkRange(o.noiseTimescalesMs, "noiseTimescalesMs", 0.1, 100000);
  checkNumber(o.slowNoise, "slowNoise", 0, 5);
  checkNumber(o.noiseAfterGo, "noiseAfterGo", 0, 10);
  checkNumber(o.slowNoiseAfterGo, "slowNoiseAfterGo", 0, 10);
  checkNumber(o.behaviorNoise, "behaviorNoise", 0, 10);
  checkRange(o.rateRangeHz, "rateRangeHz", 0.01, 1000);
  checkRange(o.ceilingHz, "ceilingHz", 1, 100000);
  checkNumber(o.tuningDensity, "tuningDensity", 0.01, 1);
  checkNumber(o.depthSpread, "depthSpread", 0, 2);
  checkInteger(o.seed, "seed", -(2 ** 53) + 1);

  const stream = (label: string) => new Random(deriveSeed(o.seed, label));
  const conditionRng = stream("conditions");
  const trialRng = stream("trials");
  const noiseRng = stream("noise");
  const planes = o.rotationalPlanes;

  const conditions: Condition[] = Array.from({ length: o.conditions }, (_, c) => ({
    angle: (2 * Math.PI * c) / o.conditions + conditionRng.normal(0, 0.05),
    curvature: [0, 0.9, -0.9][c % 3],
    speed: PEAK_SPEED_MM_S * conditionRng.uniformRange(0.6, 1),
    prepAngles: Array.from({ length: planes }, () => conditionRng.uniformRange(0, 2 * Math.PI)),
    prepAmplitudes: Array.from({ length: planes }, () => conditionRng.uniformRange(0.4, 1)),
  }));

  const totalBins = o.bins + o.forwardBins;
  const lagBins = Math.round(o.lagMs / o.binMs);
  const frequenciesHz = planes > 0 ? logSpaced(o.rotationHz[0], o.rotationHz[1], planes) : [];
  const timescalesMs = o.noiseLatents > 0
    ? logSpaced(o.noiseTimescalesMs[0], o.noiseTimescalesMs[1], o.noiseLatents)
    : [];
  // Latent layout: behavior, rotations, condition-independent (the condition-locked block,
  // standardized), then drift, slow and fast variability (unit s.d. before the command).
  const rot0 = 2, cis0 = rot0 + 2 * planes, locked = cis0 + 2;
  const drift = locked, slow0 = drift + 1, fast0 = slow0 + 2;
  const L = fast0 + o.noiseLatents;
  const latentNames = ["beh_0", "beh_1"];
  for (let p = 0; p < planes; p++) latentNames.push(`rot${p}_a`, `rot${p}_b`);
  latentNames.push("cis_step", "cis_transient", "drift", "slow_0", "slow_1");
  for (let k = 0; k < o.noiseLatents; k++) latentNames.push(`fast_${k}`);

  const condition = new Int32Array(o.trials);
  for (let i = 0; i < o.trials; i++) condition[i] = i % o.conditions;
  trialRng.shuffle(condition);

  // The condition-locked latents, with small trial-to-trial differences in speed, path,
  // duration and rotation (kept small: timing jitter would raise Fano factors during the
  // movement, where motor cortex shows its lowest).
  const lockedLatents = new Float64Array(o.trials * totalBins * locked);
  const toSeconds = o.binMs / 1000;
  const commandOnset = o.moveOnsetBin - lagBins; // the hand moves a lag after the command
  const reachBins = REACH_MS / o.binMs;
  for (let i = 0; i < o.trials; i++) {
    const cond = conditions[condition[i]];
    const gain = Math.exp(trialRng.normal(0, 0.1));
    const duration = reachBins * Math.exp(trialRng.normal(0, 0.05));
    const angleJitter = trialRng.normal(0, 0.06);
    const rotationGain = Math.exp(trialRng.normal(0, 0.1));
    const frequencyJitter = Math.exp(trialRng.normal(0, 0.02));
    const cisShift = trialRng.normal(0, 0.01);
    // This trial's initial state in each plane: its condition's, rotated and scaled.
    const phases = cond.prepAngles.map((angle) => angle + trialRng.normal(0, o.rotationJitter));
    const amplitudes = cond.prepAmplitudes.map((amplitude) =>
      amplitude * rotationGain * Math.exp(trialRng.normal(0, o.rotationJitter / 2))
    );
    for (let t = 0; t < totalBins; t++) {
      const row = (i * totalBins + t) * locked;
      // Behavior latents: the hand velocity the command at t produces at t + lag.
      const phase = (t + lagBins - o.moveOnsetBin) / duration;
      if (phase > 0 && phase < 1) {
        const speed = gain * cond.speed * Math.sin(Math.PI * phase) ** 2;
        const direction = cond.angle + angleJitter + cond.curvature * (phase - 0.5);
        lockedLatents[row] = speed * Math.cos(direction);
        lockedLatents[row + 1] = speed * Math.sin(direction);
      }
      // Rotational planes: the preparatory state builds up, then rotates after the command
      // with an envelope that grows for ~120 ms and decays.
      const sinceCommand = (t - commandOnset) * toSeconds;
      const envelope = sinceCommand <= 0
        ? Math.min(1, 0.4 + 0.6 * (t * o.binMs) / 200)
        : (1 + 8 * sinceCommand) * Math.exp(-sinceCommand / 0.25);
      for (let p = 0; p < planes; p++) {
        const angle = phases[p] +
          2 * Math.PI * frequenciesHz[p] * frequencyJitter * Math.max(0, sinceCommand);
        const radius = amplitudes[p] * envelope;
        lockedLatents[row + rot0 + 2 * p] = radius * Math.cos(angle);
        lockedLatents[row + rot0 + 2 * p + 1] = radius * Math.sin(angle);
      }
      // Condition-independent signal: a step and a transient at the command.
      const s = sinceCommand - cisShift;
      lockedLatents[row + cis0] = logistic((s - 0.05) / 0.03);
      lockedLatents[row + cis0 + 1] = s > 0 ? (s / 0.12) * Math.exp(1 - s / 0.12) : 0;
    }
  }
  standardizeLatents(lockedLatents, locked);

  // Motor noise on the behavior latents (it moves the hand, so velocity includes it).
  const ou = (timescaleMs: number) => {
    const decay = Math.exp(-o.binMs / timescaleMs);
    return { decay, innovation: Math.sqrt(1 - decay * decay) };
  };
  const motor = ou(MOTOR_TIMESCALE_MS);
  for (let i = 0; i < o.trials; i++) {
    for (let k = 0; k < 2; k++) {
      let state = noiseRng.normal();
      for (let t = 0; t < totalBins; t++) {
        state = motor.decay * state + motor.innovation * noiseRng.normal();
        lockedLatents[(i * totalBins + t) * locked + k] += MOTOR_NOISE * state;
      }
    }
  }

  // All latents: the condition-locked ones, then trial-to-trial variability whose amplitude
  // falls after the command (unit-variance Ornstein-Uhlenbeck processes times the envelope).
  const latents = new Float64Array(o.trials * totalBins * L);
  for (let r = 0; r < o.trials * totalBins; r++) {
    latents.set(lockedLatents.subarray(r * locked, (r + 1) * locked), r * L);
  }
  const quenchFast = new Float64Array(totalBins), quenchSlow = new Float64Array(totalBins);
  for (let t = 0; t < totalBins; t++) {
    const after = logistic(((t - commandOnset) * toSeconds - QUENCH_CENTER_S) / QUENCH_WIDTH_S);
    quenchFast[t] = 1 + (o.noiseAfterGo - 1) * after;
    quenchSlow[t] = 1 + (o.slowNoiseAfterGo - 1) * after;
  }
  const processes = [
    ...[0, 1].map((k) => ({ latent: slow0 + k, ...ou(SLOW_TIMESCALE_MS), envelope: quenchSlow })),
    ...timescalesMs.map((ms, k) => ({ latent: fast0 + k, ...ou(ms), envelope: quenchFast })),
  ];
  for (let i = 0; i < o.trials; i++) {
    const level = DRIFT * noiseRng.normal();
    for (let t = 0; t < totalBins; t++) latents[(i * totalBins + t) * L + drift] = level;
    for (const { latent, decay, innovation, envelope } of processes) {
      let state = noiseRng.normal();
      for (let t = 0; t < totalBins; t++) {
        state = decay * state + innovation * noiseRng.normal();
        latents[(i * totalBins + t) * L + latent] = envelope[t] * state;
      }
    }
  }

  // Velocity = readout of the behavior latents (motor noise included), scaled to mm/s,
  // plus measurement noise.
  const velocity = new Float64Array(o.trials * o.bins * 2); // at true time t + lag
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

  // Heterogeneous neurons: modulation depth, sparse tuning to each block, saturation.
  const otherGain = o.modulation / Math.sqrt(1 + o.behaviorExpression ** 2);
  const behaviorGain = o.behaviorExpression * otherGain;
  const neurons = o.heldinNeurons + o.heldoutNeurons;
  const tuningRng = stream("tuning");
  const depths = Array.from(
    { length: neurons },
    () => Math.exp(tuningRng.normal(0, o.depthSpread) - o.depthSpread ** 2),
  );
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
  const density = o.tuningDensity;
  const loadings = randomLoadings(
    tuningRng,
    neurons,
    L,
    [
      { latents: [0, 1], gain: behaviorGain, density },
      { latents: range(rot0, locked), gain: otherGain, density },
      { latents: range(drift, fast0), gain: o.slowNoise, density },
      { latents: range(fast0, L), gain: o.noise, density },
    ].filter((block) => block.latents.length > 0),
    depths,
  );
  const [lowCeiling, highCeiling] = o.ceilingHz.map(Math.log);
  const ceilingHz = Array.from(
    { length: neurons },
    () => Math.exp(tuningRng.uniformRange(lowCeiling, highCeiling)),
  );
  const baselines = calibratedBaselines(
    tuningRng,
    loadings,
    latents,
    L,
    o.rateRangeHz,
    o.binMs,
    undefined,
    undefined,
    ceilingHz,
  );

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
    ceilingHz,
  });
}

/** Throw unless `range` is `[low, high]` with `min <= low <= high <= max`. */
function checkRange(range: [number, number], name: string, min: number, max: number): void {
  checkNumber(range?.[0], `${name}[0]`, min, max);
  checkNumber(range[1], `${name}[1]`, range[0], max);
}
