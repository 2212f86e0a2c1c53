"""Reference vel R2 (the NLB definition) with scikit-learn, for bench/velr2.ts.

Reads raw little-endian float32 arrays written by the benchmark, runs
GridSearchCV(Ridge(), {"alpha": alphas}, cv=5) exactly as nlb_tools does, and prints one
JSON line: the eval R2, the chosen alpha, the mean CV scores and the seconds it took.
Inputs are cast to float64 so both sides solve the same problem in the same precision.
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV


def load(path, cols):
    return np.fromfile(path, dtype="<f4").reshape(-1, cols).astype(np.float64)


def main():
    spec = json.loads(sys.argv[1])
    x_train = load(spec["trainRates"], spec["neurons"])
    y_train = load(spec["trainBehavior"], spec["dims"])
    x_eval = load(spec["evalRates"], spec["neurons"])
    y_eval = load(spec["evalBehavior"], spec["dims"])
    keep = ~np.isnan(y_train).any(axis=1)
    x_train, y_train = x_train[keep], y_train[keep]
    keep = ~np.isnan(y_eval).any(axis=1)
    x_eval, y_eval = x_eval[keep], y_eval[keep]
    start = time.perf_counter()
    search = GridSearchCV(Ridge(), {"alpha": spec["alphas"]}, cv=spec["folds"])
    search.fit(x_train, y_train)
    r2 = search.score(x_eval, y_eval)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "r2": r2,
        "alpha": search.best_params_["alpha"],
        "meanScores": search.cv_results_["mean_test_score"].tolist(),
        "seconds": seconds,
    }))


if __name__ == "__main__":
    main()
