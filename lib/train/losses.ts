/**
 * The masked-modeling objective: Poisson negative log-likelihood of counts under
 * log-rates, averaged over the scored entries.
 * @module
 */

import { tf } from "../deps.ts";

/**
 * Poisson NLL per scored entry, `sum(w * (exp(l) - y * l)) / sum(w)`, leaving out the
 * `log(y!)` term, which does not depend on the model. `logRates`, `targets` and `weights`
 * share one shape; `weights` is 1 where an entry counts and 0 where it does not.
 */
export function maskedPoissonLoss(
  logRates: tf.Tensor,
  targets: tf.Tensor,
  weights: tf.Tensor,
): tf.Scalar {
  return tf.tidy(() => {
    const perEntry = tf.sub(tf.exp(logRates), tf.mul(targets, logRates));
    return tf.div(tf.sum(tf.mul(perEntry, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}
