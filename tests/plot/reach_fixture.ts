// Shared by the neural figures' tests (raster_test.ts, rates_test.ts, psth_test.ts,
// latents_test.ts, decoding_test.ts): one small synthetic reach dataset.
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { smoothSpikes } from "../../lib/metrics/nlb.ts";

/** A small reach dataset: 24 trials, 40 bins of 5 ms, 12 + 3 neurons, 3 conditions. */
export const data = reachDataset({
  trials: 24,
  heldinNeurons: 12,
  heldoutNeurons: 3,
  bins: 40,
  forwardBins: 4,
  moveOnsetBin: 15,
  conditions: 3,
  seed: 5,
});
/** Its true rates and latents. */
export const truth = data.truth!;
/** Its held-in spikes smoothed with a 30 ms Gaussian: a stand-in for predicted rates. */
export const smoothed = smoothSpikes(data.heldinSpikes, 30, data.binMs);
