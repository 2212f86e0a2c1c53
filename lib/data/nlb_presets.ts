/**
 * How the Neural Latents Benchmark's reference pipeline (nlb_tools `make_tensors.PARAMS`)
 * prepares each of its datasets: alignment event, windows, behavior and its lag,
 * condition fields and the PSTH kernel. `loadNWB` reads a file with one of these presets.
 * @module
 */

/** The NLB datasets with a preset. */
export type NLBPresetName =
  | "mc_maze"
  | "mc_rtt"
  | "area2_bump"
  | "dmfc_rsg"
  | "mc_maze_large"
  | "mc_maze_medium"
  | "mc_maze_small";

/** How trials are cut from a recording: what a preset fixes and what a load resolves. */
export interface TrialLayout {
  /** Trials-table column the trials are aligned on. */
  alignField: string;
  /** Observed window around the event, ms: `[start, end)`. */
  windowMs: [number, number];
  /** Forward-prediction window after the observed one, ms. */
  forwardMs: number;
  /** TimeSeries read as behavior. */
  behavior: string[];
  /** Trials-table columns read as behavior (constant over a trial's bins), for DMFC_RSG. */
  behaviorColumns: string[];
  /** Behavior is NaN on trials where this column differs from `equals`. */
  behaviorValid: { column: string; equals: number } | null;
  /** Behavior lag, ms: rates at t predict behavior at t + lag. */
  behaviorLagMs: number;
  /** Trials-table columns whose combination is the condition (for PSTHs). */
  conditionFields: string[];
  /** Gaussian kernel s.d. of the true PSTHs, ms; null: the reference computes none. */
  psthKernelSdMs: number | null;
  /** Trials left out of the PSTHs: where this column equals `equals`. */
  psthSkip: { column: string; equals: number } | null;
  /**
   * One velocity decoder per value: decoder k is fit and scored on the trials whose
   * `column` equals `values[k]`, and vel R2 is the mean of the decoders' R² (the
   * reference's `decode_masks`). null: one decoder on every trial.
   */
  decodeMasks: { column: string; values: number[] } | null;
}

/** How the NLB reference prepares one dataset (nlb_tools `make_tensors.PARAMS`). */
export interface NLBPreset extends TrialLayout {
  /** The preset's name, also the NLB evaluation's dataset name. */
  name: NLBPresetName;
  /** The DANDI set holding the recording. */
  dandiset: string;
  /** What the recording is, in a line. */
  description: string;
  /** What differs from the reference, in words. */
  notes: string[];
}

const MAZE = {
  alignField: "move_onset_time",
  windowMs: [-250, 450] as [number, number],
  forwardMs: 200,
  behavior: ["hand_vel"],
  behaviorColumns: [],
  behaviorValid: null,
  conditionFields: ["trial_type", "trial_version"],
  psthSkip: null,
  decodeMasks: null,
  notes: [],
};

/**
 * The reference's settings for every NLB dataset (nlb_tools `make_tensors.PARAMS`):
 * alignment, windows, forward window (200 ms), behavior and its lag, condition fields,
 * the PSTH kernel and, for Area2_Bump, the two velocity decoders.
 */
export const NLB_PRESETS: Readonly<Record<NLBPresetName, Readonly<NLBPreset>>> = {
  mc_maze: {
    ...MAZE,
    name: "mc_maze",
    dandiset: "000128",
    description: "monkey J, delayed center-out reaches through a maze (M1 and PMd, 182 units)",
    behaviorLagMs: 100,
    psthKernelSdMs: 70,
  },
  mc_rtt: {
    name: "mc_rtt",
    dandiset: "000129",
    description: "monkey I, self-paced random target reaching (M1, 130 units)",
    alignField: "start_time",
    windowMs: [0, 600],
    forwardMs: 200,
    behavior: ["finger_vel"],
    behaviorColumns: [],
    behaviorValid: null,
    behaviorLagMs: 140,
    conditionFields: [],
    psthKernelSdMs: null,
    psthSkip: null,
    decodeMasks: null,
    notes: ["no conditions: every trial is condition 0 and there is no psth R2"],
  },
  area2_bump: {
    name: "area2_bump",
    dandiset: "000127",
    description: "monkey H, center-out reaches with mechanical bumps (area 2, 65 units)",
    alignField: "move_onset_time",
    windowMs: [-100, 500],
    forwardMs: 200,
    behavior: ["hand_vel"],
    behaviorColumns: [],
    behaviorValid: null,
    behaviorLagMs: -20,
    conditionFields: ["cond_dir", "ctr_hold_bump"],
    psthKernelSdMs: 40,
    psthSkip: null,
    // make_tensors: decode_masks = [ctr_hold_bump == 0, ctr_hold_bump == 1].
    decodeMasks: { column: "ctr_hold_bump", values: [0, 1] },
    notes: [],
  },
  dmfc_rsg: {
    name: "dmfc_rsg",
    dandiset: "000130",
    description: "monkey H, ready-set-go time interval reproduction (DMFC, 54 units)",
    alignField: "go_time",
    windowMs: [-1500, 0],
    forwardMs: 200,
    behavior: [],
    behaviorColumns: ["is_eye", "theta", "is_short", "ts", "tp"],
    behaviorValid: { column: "is_outlier", equals: 0 },
    behaviorLagMs: 0,
    conditionFields: ["is_eye", "theta", "is_short", "ts"],
    psthKernelSdMs: 70,
    psthSkip: { column: "is_outlier", equals: 1 },
    decodeMasks: null,
    notes: [
      "behavior is the trial's task variables, constant over its bins (the reference " +
      "scores DMFC by the correlation of neural speed with tp, not by vel R2)",
      "every trial uses the fixed window -1500..0 ms before go; the reference's eval " +
      "tensors keep only the set-go period",
    ],
  },
  mc_maze_large: {
    ...MAZE,
    name: "mc_maze_large",
    dandiset: "000138",
    description: "MC_Maze scaling set, large (500 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
  mc_maze_medium: {
    ...MAZE,
    name: "mc_maze_medium",
    dandiset: "000139",
    description: "MC_Maze scaling set, medium (250 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
  mc_maze_small: {
    ...MAZE,
    name: "mc_maze_small",
    dandiset: "000140",
    description: "MC_Maze scaling set, small (100 training trials)",
    behaviorLagMs: 120,
    psthKernelSdMs: 50,
  },
};
