// Shared by the recurrent models' tests (rnn_test.ts, lfads_test.ts): tiny shapes, seeded
// counts and tidy wrappers around a forward pass.
import assert from "node:assert/strict";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import type { ModelInputs, ModelOutputs, SequenceModel } from "../../lib/models/model.ts";
import { Random } from "../../lib/random.ts";

export const [BATCH, BINS, FORWARD, HELDIN, HELDOUT] = [4, 12, 3, 6, 2];
export const LENGTH = BINS + FORWARD, NEURONS = HELDIN + HELDOUT;
export const SHAPE = {
  heldinNeurons: HELDIN,
  heldoutNeurons: HELDOUT,
  bins: BINS,
  forwardBins: FORWARD,
};

/** Seeded Poisson counts, batch x bins x neurons, with a smooth rate per neuron. */
export function counts(batch: number, bins: number, neurons: number, seed: number): tf.Tensor3D {
  const rng = new Random(seed);
  const values = new Float32Array(batch * bins * neurons);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < bins; t++) {
      for (let n = 0; n < neurons; n++) {
        const rate = Math.exp(0.3 + Math.sin(0.5 * t + n + b));
        values[(b * bins + t) * neurons + n] = rng.poisson(rate);
      }
    }
  }
  return tf.tensor3d(values, [batch, bins, neurons]);
}

/** Mean Poisson negative log-likelihood (without the log y! constant). */
export function poissonLoss(logRates: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.sub(tf.exp(logRates), tf.mul(y, logRates)));
}

/** A forward pass inside `tf.tidy`, its outputs kept. */
export function run(
  model: SequenceModel,
  inputs: ModelInputs,
  training: boolean,
  seed = 0,
): ModelOutputs {
  return tf.tidy(() =>
    model.forward(inputs, { training, seed }) as unknown as tf.TensorContainer
  ) as unknown as ModelOutputs;
}

/** Every tensor of a forward pass's outputs (for disposal). */
export function tensorsOf(outputs: ModelOutputs): tf.Tensor[] {
  return [
    outputs.logRates,
    outputs.latents,
    ...outputs.hidden,
    ...Object.values(outputs.auxiliary),
  ];
}

export function values(model: SequenceModel, inputs: ModelInputs, training: boolean, seed = 0) {
  return tf.tidy(() => model.forward(inputs, { training, seed }).logRates).arraySync();
}

export function throwsArgument(fn: () => unknown, text: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ArgumentError && e.message.includes(text),
    `expected an ArgumentError containing "${text}"`,
  );
}
