/**
 * Classification scores with scikit-learn's conventions, for tasks such as predicting a
 * neuron's cell class from its embedding.
 * @module
 */

import { ArgumentError } from "../errors.ts";

/** Integer class labels, one per sample. */
export type Labels = ArrayLike<number>;

function checkLabels(yTrue: Labels, yPred: Labels): void {
  if (yTrue.length !== yPred.length) {
    throw new ArgumentError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new ArgumentError("no labels to score");
  for (const [name, y] of [["yTrue", yTrue], ["yPred", yPred]] as const) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isInteger(y[i])) {
        throw new ArgumentError(`${name}[${i}] is ${y[i]}; class labels must be integers`);
      }
    }
  }
}

/** Confusion matrix and its label order. */
export interface ConfusionMatrix {
  /** Class labels, ascending: the row and column order. */
  labels: number[];
  /** `counts[i][j]`: samples of true class `labels[i]` predicted as `labels[j]`. */
  counts: number[][];
}

/**
 * Confusion matrix over `labels` (default: every label in either array, ascending), as
 * scikit-learn's `confusion_matrix`.
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels, labels?: number[]): ConfusionMatrix {
  checkLabels(yTrue, yPred);
  const order = labels ??
    [...new Set([...Array.from(yTrue), ...Array.from(yPred)])].sort((a, b) => a - b);
  const index = new Map(order.map((l, i) => [l, i]));
  const counts = order.map(() => order.map(() => 0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]), p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) counts[t][p]++;
  }
  return { labels: order, counts };
}

/** Fraction of samples whose prediction is right. */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkLabels(yTrue, yPred);
  let right = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) right++;
  return right / yTrue.length;
}

/**
 * Mean recall over the classes present in `yTrue` (scikit-learn's
 * `balanced_accuracy_score`): chance level is 1 / classes whatever the class sizes.
 */
export function balancedAccuracy(yTrue: Labels, yPred: Labels): number {
  const { counts } = confusionMatrix(yTrue, yPred);
  let sum = 0, classes = 0;
  counts.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) (sum += row[i] / total, classes++);
  });
  return sum / classes;
}

/**
 * F1 averaged uniformly over every label in either array (scikit-learn's
 * `f1_score(average="macro")`); a label with no true and no predicted sample scores 0.
 */
export function macroF1(yTrue: Labels, yPred: Labels): number {
  const { counts } = confusionMatrix(yTrue, yPred);
  const n = counts.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let falsePositive = 0, falseNegative = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      falsePositive += counts[j][i];
      falseNegative += counts[i][j];
    }
    const denominator = 2 * counts[i][i] + falsePositive + falseNegative;
    sum += denominator > 0 ? (2 * counts[i][i]) / denominator : 0;
  }
  return sum / n;
}
