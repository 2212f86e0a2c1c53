import assert from "node:assert/strict";
import {
  accuracy,
  balancedAccuracy,
  confusionMatrix,
  macroF1,
} from "../../lib/metrics/classification.ts";
import { ArgumentError } from "../../lib/errors.ts";

// Reference values from scikit-learn 1.2 (Debian's python3-sklearn):
//   from sklearn.metrics import *
//   yt=[0,0,0,1,1,2,2,2,2,3]; yp=[0,1,0,1,2,2,2,0,2,1]
//   confusion_matrix(yt,yp), accuracy_score, balanced_accuracy_score, f1_score(average='macro')
const yTrue = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
const yPred = [0, 1, 0, 1, 2, 2, 2, 0, 2, 1];

Deno.test("confusionMatrix counts true x predicted in ascending label order", () => {
  const { labels, counts } = confusionMatrix(yTrue, yPred);
  assert.deepEqual(labels, [0, 1, 2, 3]);
  assert.deepEqual(counts, [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 3, 0], [0, 1, 0, 0]]);
  // Explicit labels choose and order the rows and columns.
  assert.deepEqual(confusionMatrix(yTrue, yPred, [2, 0]).counts, [[3, 1], [0, 2]]);
});

Deno.test("accuracy, balanced accuracy and macro F1 equal scikit-learn's", () => {
  assert.equal(accuracy(yTrue, yPred), 0.6);
  // Recalls 2/3, 1/2, 3/4, 0 -> mean 0.4791666...
  assert.ok(Math.abs(balancedAccuracy(yTrue, yPred) - 0.47916666666666663) < 1e-15);
  // F1 per class: 2*2/(4+1+1)=2/3, 2/(2+2+1)=0.4, 6/(6+1+1)=0.75, 0 -> mean 0.4541666...
  assert.ok(Math.abs(macroF1(yTrue, yPred) - 0.45416666666666666) < 1e-15);
});

Deno.test("a predicted class absent from yTrue counts in macro F1 but not in balanced accuracy", () => {
  // sklearn: balanced_accuracy_score([1,1,2,2],[1,3,2,2]) = 0.75, f1 macro = 0.5555...
  assert.equal(balancedAccuracy([1, 1, 2, 2], [1, 3, 2, 2]), 0.75);
  assert.ok(Math.abs(macroF1([1, 1, 2, 2], [1, 3, 2, 2]) - 0.5555555555555555) < 1e-15);
  assert.equal(accuracy([1, 1, 2, 2], [1, 3, 2, 2]), 0.75);
});

Deno.test("perfect predictions score 1; constant guesses score chance on balanced accuracy", () => {
  assert.equal(accuracy([3, 1, 2], [3, 1, 2]), 1);
  assert.equal(macroF1([3, 1, 2], [3, 1, 2]), 1);
  assert.equal(balancedAccuracy([0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0]), 0.5);
});

Deno.test("classification scores reject mismatched, empty and non-integer labels", () => {
  assert.throws(
    () => accuracy([1, 2], [1]),
    (e: Error) =>
      e instanceof ArgumentError && /yTrue has 2 labels but yPred has 1/.test(e.message),
  );
  assert.throws(() => macroF1([], []), /no labels to score/);
  assert.throws(
    () => balancedAccuracy([1, 0.5], [1, 1]),
    /yTrue\[1\] is 0.5; class labels must be integers/,
  );
});
