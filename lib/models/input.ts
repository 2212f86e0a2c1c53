/**
 * The input every sequence model sees: held-in spikes over the observed bins, and for a
 * teacher the privileged signal beside them, padded with zeros over the forward bins
 * (nothing is observed there).
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError } from "../errors.ts";

/** What a model is given for one batch. */
export interface ModelInputs {
  /** Held-in spikes (masked by the trainer in training): batch x bins x heldin. */
  heldin: tf.Tensor3D;
  /** The privileged signal (teacher only): batch x bins x privilegedDim. */
  privileged?: tf.Tensor3D;
}

/**
 * Concatenate held-in spikes and the privileged signal, each block scaled by the square
 * root of its width (NDT's input scale, applied per block so neither block's scale depends
 * on the other's width), then pad `forwardBins` zero bins at the end:
 * batch x (bins + forward) x (heldin + privileged).
 */
export function assembleInput(
  inputs: ModelInputs,
  privilegedDim: number,
  forwardBins: number,
): tf.Tensor3D {
  const { heldin, privileged } = inputs;
  const [batch, bins, heldinWidth] = heldin.shape;
  const blocks: tf.Tensor3D[] = [tf.mul(heldin, Math.sqrt(heldinWidth))];
  if (privilegedDim > 0) {
    if (!privileged) {
      throw new ArgumentError(
        `this teacher model needs a privileged input of width ${privilegedDim}; none was given`,
      );
    }
    const [pb, pt, pw] = privileged.shape;
    if (pb !== batch || pt !== bins || pw !== privilegedDim) {
      throw new ArgumentError(
        `privileged input has shape [${
          privileged.shape.join(", ")
        }]; expected [${batch}, ${bins}, ${privilegedDim}]`,
      );
    }
    blocks.push(tf.mul(privileged, Math.sqrt(privilegedDim)));
  } else if (privileged) {
    throw new ArgumentError(
      "a privileged input was given to a model without one (privilegedDim is 0)",
    );
  }
  const joined = blocks.length === 1 ? blocks[0] : tf.concat(blocks, 2) as tf.Tensor3D;
  if (forwardBins === 0) return joined;
  return tf.pad(joined, [[0, 0], [0, forwardBins], [0, 0]]) as tf.Tensor3D;
}
