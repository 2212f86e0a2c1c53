/** Helpers shared by the synthetic generators' tests (not a test file itself). */

import { type Array3, concat3 } from "../../../lib/array.ts";
import { type NeuralDataset, trialsInSplit } from "../../../lib/data/dataset.ts";
import { fitRidge, predictRidge, r2Score, trialsAsRows } from "../../../lib/metrics/regression.ts";

/** Test R2 of a ridge decoder (alpha 1e-2) of behavior from `features`, fit on train trials. */
export function decodeR2(dataset: NeuralDataset, features: Array3): number {
  const train = trialsInSplit(dataset, "train"), test = trialsInSplit(dataset, "test");
  const model = fitRidge(
    trialsAsRows(features, train),
    trialsAsRows(dataset.behavior, train),
    1e-2,
  );
  return r2Score(
    trialsAsRows(dataset.behavior, test),
    predictRidge(model, trialsAsRows(features, test)),
  );
}

/** Held-in and held-out true rates side by side. */
export function trueRates(d: NeuralDataset): Array3 {
  return concat3([d.truth!.heldinRates, d.truth!.heldoutRates], 2);
}
