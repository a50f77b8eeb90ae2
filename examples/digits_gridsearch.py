"""fastnn inside scikit-learn's model selection: Pipeline + GridSearchCV on the digits dataset.

``fastnn.MLPClassifier`` is a scikit-learn estimator, so it composes with
``Pipeline(StandardScaler(), MLPClassifier())`` and ``GridSearchCV`` unchanged, including
fastnn's extra parameters (here ``activation='leaky_relu'`` and ``dropout``) in the grid. The
script searches a small grid with 3-fold cross-validation on a training split, prints the best
parameters and the test accuracy of the refitted best pipeline, and plots its loss curve.

Run from the repository root::

    python examples/digits_gridsearch.py
    python examples/digits_gridsearch.py --quick
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    plt.switch_backend("Agg")  # no display: render to files only

GRID = {
    "mlp__hidden_layer_sizes": [(64,), (128, 64)],
    "mlp__activation": ["relu", "leaky_relu"],  # leaky_relu: a fastnn extra
    "mlp__alpha": [1e-4, 1e-2],
    "mlp__dropout": [0.0, 0.2],  # a fastnn extra
}
QUICK_GRID = {"mlp__activation": ["relu", "leaky_relu"], "mlp__dropout": [0.0, 0.2]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a 4-setting grid, 2 folds, 5 epochs (smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "figures",
                        help="directory for the PNG (default: examples/figures/)")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    pipeline = Pipeline([
        ("scale", StandardScaler()),
        ("mlp", MLPClassifier(max_iter=5 if args.quick else 200, random_state=0)),
    ])
    if args.quick:
        search = GridSearchCV(pipeline, QUICK_GRID, cv=2, n_jobs=1)
    else:
        search = GridSearchCV(pipeline, GRID, cv=3, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        t0 = time.perf_counter()
        search.fit(X_train, y_train)
        seconds = time.perf_counter() - t0
    n_fits = len(search.cv_results_["params"]) * search.n_splits_ + 1
    print(f"GridSearchCV: {n_fits} fits ({len(search.cv_results_['params'])} settings x "
          f"{search.n_splits_} folds + refit) in {seconds:.1f} s")
    print(f"best parameters: {search.best_params_}")
    print(f"best mean CV accuracy: {search.best_score_:.2%}")
    print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.2%}")

    best = search.best_estimator_.named_steps["mlp"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.semilogy(np.arange(1, len(best.loss_curve_) + 1), best.loss_curve_)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    params = ", ".join(f"{k.removeprefix('mlp__')}={v}" for k, v in search.best_params_.items())
    ax.set_title(f"digits, best pipeline's loss curve\n{params}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "digits_gridsearch.png"
    fig.savefig(path, dpi=90)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
