"""The Neural Latents Benchmark's own metrics on inputs written by tests/metrics/nlb_tools_test.ts.

Run with the python of the nlb-tools venv (tools/nlb_tools_venv.sh):

    python nlb_tools_eval.py DIR
    python nlb_tools_eval.py --probes

DIR holds spec.json and one raw little-endian float64 file per array (NAME.f64, shape in
spec.json). Prints one JSON object: each metric as nlb_tools 0.0.4 computes it, from its
functions (bits_per_spike, velocity_decoding, fit_and_eval_decoder, eval_psth) and from
evaluate(), the function the EvalAI server runs on a submission. --probes prints what
nlb_tools does on the inputs where blend is stricter (an error, or the value returned).
"""

import json
import os
import sys
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd

from nlb_tools import evaluation
from nlb_tools.make_tensors import PARAMS


def probe(run):
    """The value run() returns (repr, for NaN and inf), or the name of what it raises."""
    try:
        with np.errstate(all="ignore"):
            return {"value": repr(float(run()))}
    except Exception as error:  # noqa: BLE001 - the point is to report any failure
        return {"error": type(error).__name__}


if sys.argv[1] == "--probes":
    warnings.simplefilter("ignore")  # scikit-learn's warnings about the failing fits
    ones = np.ones((2, 3, 2))
    behavior = np.arange(12.0).reshape(6, 2)
    behavior_nan_y = behavior.copy()
    behavior_nan_y[1, 1] = np.nan
    rates = np.stack([np.arange(6.0), np.arange(6.0) ** 2], axis=1)
    psth = np.ones((1, 3, 2))
    psth[0, 2] = np.nan
    print(json.dumps({
        # No spike at all: bits per spike divides by a spike count of 0.
        "no_spikes": probe(lambda: evaluation.bits_per_spike(ones.copy(), np.zeros((2, 3, 2)))),
        "negative_rate": probe(lambda: evaluation.bits_per_spike(-ones, ones)),
        "nan_rate": probe(lambda: evaluation.bits_per_spike(np.full((2, 3, 2), np.nan), ones)),
        "infinite_rate": probe(lambda: evaluation.fit_and_eval_decoder(
            np.where(np.arange(6)[:, None] == 2, np.inf, rates), behavior, rates, behavior)),
        # NaN in the second behavior column only: the reference looks at the first.
        "nan_second_dim": probe(lambda: evaluation.fit_and_eval_decoder(
            rates, behavior_nan_y, rates, behavior)),
        # A decoder mask that selects no train trial.
        "empty_mask": probe(lambda: evaluation.velocity_decoding(
            rates.reshape(2, 3, 2), behavior.reshape(2, 3, 2), np.array([[True], [False]]) & False,
            rates.reshape(2, 3, 2), behavior.reshape(2, 3, 2), np.array([[True], [True]]))),
        # A true PSTH with a NaN bin (a condition with shorter trials): the bin is left out.
        "psth_nan_bin": probe(lambda: evaluation.eval_psth(
            psth, np.arange(12.0).reshape(2, 3, 2), np.array([np.array([0, 1])], dtype=object))),
    }))
    sys.exit(0)

directory = sys.argv[1]
with open(os.path.join(directory, "spec.json")) as f:
    spec = json.load(f)


def load(name):
    shape = spec["arrays"][name]
    return np.fromfile(os.path.join(directory, name + ".f64"), dtype="<f8").reshape(shape)


a = {name: load(name) for name in spec["arrays"]}
name = spec["dataset"]
n_train, n_eval = a["train_rates_heldin"].shape[0], a["eval_rates_heldin"].shape[0]

if spec.get("ctr_hold_bump") is not None:
    # The reference's own mask builder: make_tensors.PARAMS["area2_bump"]["decode_masks"],
    # applied to the trial table's ctr_hold_bump column of the train and eval trials.
    info = pd.DataFrame({"ctr_hold_bump": np.array(spec["ctr_hold_bump"], dtype=float)})
    split = np.array(spec["split"])
    masks = PARAMS["area2_bump"]["decode_masks"]
    train_mask = masks(info[split == "train"])
    eval_mask = masks(info[split == "test"])
else:
    train_mask = np.full(n_train, True)[:, None]
    eval_mask = np.full(n_eval, True)[:, None]

train_rates = np.concatenate([a["train_rates_heldin"], a["train_rates_heldout"]], axis=-1)
eval_rates = np.concatenate([a["eval_rates_heldin"], a["eval_rates_heldout"]], axis=-1)
eval_cond_idx = np.empty(len(spec["eval_cond_idx"]), dtype=object)
for k, trials in enumerate(spec["eval_cond_idx"]):
    eval_cond_idx[k] = np.array(trials, dtype=int)

out = {"nlb_tools": version("nlb-tools")}
# copy(): neg_log_likelihood replaces zero rates by 1e-9 in place.
out["co_bps"] = float(evaluation.bits_per_spike(a["eval_rates_heldout"].copy(), a["eval_spikes_heldout"]))
out["fp_bps"] = float(evaluation.bits_per_spike(
    np.dstack([a["eval_rates_heldin_forward"], a["eval_rates_heldout_forward"]]),
    np.dstack([a["eval_spikes_heldin_forward"], a["eval_spikes_heldout_forward"]]),
))
for grid in (True, False):
    key = "vel_r2" if grid else "vel_r2_no_grid"
    out[key] = float(evaluation.velocity_decoding(
        train_rates, a["train_behavior"], train_mask,
        eval_rates, a["eval_behavior"], eval_mask, grid_search=grid,
    ))
    # Each decoder on its own, through fit_and_eval_decoder on flattened rows.
    out[key + "_per_decoder"] = [
        float(evaluation.fit_and_eval_decoder(
            train_rates[train_mask[:, i]].reshape(-1, train_rates.shape[2]),
            a["train_behavior"][train_mask[:, i]].reshape(-1, a["train_behavior"].shape[2]),
            eval_rates[eval_mask[:, i]].reshape(-1, eval_rates.shape[2]),
            a["eval_behavior"][eval_mask[:, i]].reshape(-1, a["eval_behavior"].shape[2]),
            grid_search=grid,
        ))
        for i in range(train_mask.shape[1])
    ]
out["psth_r2"] = float(evaluation.eval_psth(a["psth"], eval_rates, eval_cond_idx))

# The whole server-side evaluation, on dicts laid out as the submission and target files.
target = {
    "eval_spikes_heldout": a["eval_spikes_heldout"],
    "train_behavior": a["train_behavior"],
    "eval_behavior": a["eval_behavior"],
    "psth": a["psth"],
    "eval_cond_idx": eval_cond_idx,
    "eval_spikes_heldin_forward": a["eval_spikes_heldin_forward"],
    "eval_spikes_heldout_forward": a["eval_spikes_heldout_forward"],
}
if spec.get("ctr_hold_bump") is not None:
    target["train_decode_mask"] = train_mask
    target["eval_decode_mask"] = eval_mask
submission = {key: a[key].copy() for key in [
    "train_rates_heldin", "train_rates_heldout", "eval_rates_heldin", "eval_rates_heldout",
    "eval_rates_heldin_forward", "eval_rates_heldout_forward",
]}
result = evaluation.evaluate({name: target}, {name: submission})
out["evaluate"] = {k: float(v) for k, v in result[0][name + "_split"].items()}
print(json.dumps(out))
