/**
 * Training recipes: the one place that says how long and how fast each model family
 * trains. `fit` fills every option a caller leaves out from the recipe of the model's
 * kind, so the demo, the notebooks, the CLI, the benchmarks and every experiment train
 * the same way unless they say otherwise, and no caller hand-picks an epoch count.
 *
 * A recipe is a budget, not a length: runs stop when the validation metric has not
 * improved for `patience` epochs, and the learning rate falls on a plateau (by
 * `decayFactor` after `decayPatience` epochs without improvement) instead of on a clock,
 * so it never anneals before validation stops improving. A run that spends its whole
 * budget is reported as `completed` (not converged), which the experiment tables count.
 * @module
 */

import { ArgumentError, describe } from "../errors.ts";
import type { ModelKind } from "../models/model.ts";
import type { MaskingOptions } from "./masking.ts";

/** How the learning rate moves after warmup. */
export type Schedule = "plateau" | "cosine";

/** Everything that says how a model trains (all of it is recorded beside results). */
export interface TrainingRecipe {
  /** Most epochs: a budget that early stopping normally ends first. */
  epochs: number;
  /** Trials per step. */
  batchSize: number;
  /** Peak learning rate. */
  learningRate: number;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  /** Linear warmup, in epochs (converted to steps by the run's steps per epoch). */
  warmupEpochs: number;
  /**
   * `plateau`: hold the peak rate and multiply it by `decayFactor` each time validation
   * has not improved for `decayPatience` epochs. `cosine`: anneal over the whole budget.
   */
  schedule: Schedule;
  /** Plateau schedule: factor applied to the rate on a plateau. */
  decayFactor: number;
  /** Plateau schedule: epochs without improvement before the rate falls. */
  decayPatience: number;
  /** The rate never falls below this fraction of the peak. */
  minLearningRateFactor: number;
  /** Stop after this many epochs without validation improvement. */
  patience: number;
  /** Input masking (see `MASKING_DEFAULTS`). */
  masking: Partial<MaskingOptions>;
}

/** The NDT recipe, measured on the demo's data (README, "Training recipes"). */
const NDT_RECIPE: TrainingRecipe = {
  epochs: 400,
  batchSize: 32,
  learningRate: 5e-3,
  weightDecay: 5e-5,
  clipNorm: 200,
  warmupEpochs: 5,
  schedule: "plateau",
  decayFactor: 0.5,
  decayPatience: 10,
  minLearningRateFactor: 0.01,
  patience: 30,
  masking: {},
};

/**
 * The recipe of each model family. NDT's was tuned on the synthetic reach data (compact
 * NDT at 600 trials, 20 ms bins); the recurrent models share it until they are tuned on
 * their own (not yet measured on the current generator). What each choice bought is in the
 * README's "Training recipes" section, with the command that measures it.
 */
export const RECIPES: Readonly<Record<ModelKind, TrainingRecipe>> = {
  ndt: NDT_RECIPE,
  rnn: { ...NDT_RECIPE },
  lfads: { ...NDT_RECIPE },
};

const NUMERIC: readonly (keyof TrainingRecipe)[] = [
  "epochs",
  "batchSize",
  "learningRate",
  "weightDecay",
  "clipNorm",
  "warmupEpochs",
  "decayFactor",
  "decayPatience",
  "minLearningRateFactor",
  "patience",
];

/**
 * A model kind's recipe with overrides applied and checked; unknown fields are errors,
 * so a typo never silently falls back to a default.
 *
 * @example
 * ```ts
 * import { recipeFor } from "./recipe.ts";
 * const quick = recipeFor("ndt", { epochs: 50, patience: 10 });
 * ```
 */
export function recipeFor(
  kind: ModelKind,
  overrides: Partial<TrainingRecipe> = {},
): TrainingRecipe {
  const base = RECIPES[kind];
  if (!base) {
    throw new ArgumentError(
      `recipe: model kind must be one of ${Object.keys(RECIPES).join(", ")}, got ${describe(kind)}`,
    );
  }
  for (const key of Object.keys(overrides)) {
    if (!(key in base)) {
      throw new ArgumentError(
        `recipe: unknown field ${JSON.stringify(key)}; expected one of ${
          Object.keys(base).join(", ")
        }`,
      );
    }
  }
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([, v]) => v !== undefined),
  ) as Partial<TrainingRecipe>;
  const recipe: TrainingRecipe = {
    ...base,
    ...defined,
    masking: { ...base.masking, ...defined.masking },
  };
  for (const key of NUMERIC) {
    const value = recipe[key] as number;
    if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
      throw new ArgumentError(`recipe.${key} must be a finite number >= 0, got ${describe(value)}`);
    }
  }
  for (const key of ["epochs", "batchSize", "decayPatience", "patience"] as const) {
    if (!Number.isInteger(recipe[key]) || recipe[key] < 1) {
      throw new ArgumentError(
        `recipe.${key} must be an integer >= 1, got ${describe(recipe[key])}`,
      );
    }
  }
  if (!(recipe.decayFactor > 0 && recipe.decayFactor <= 1)) {
    throw new ArgumentError(`recipe.decayFactor must be in (0, 1], got ${recipe.decayFactor}`);
  }
  if (recipe.minLearningRateFactor > 1) {
    throw new ArgumentError(
      `recipe.minLearningRateFactor must be in [0, 1], got ${recipe.minLearningRateFactor}`,
    );
  }
  if (recipe.schedule !== "plateau" && recipe.schedule !== "cosine") {
    throw new ArgumentError(
      `recipe.schedule must be "plateau" or "cosine", got ${describe(recipe.schedule)}`,
    );
  }
  return recipe;
}
