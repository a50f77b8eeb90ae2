"""fastnn vs scikit-learn on the digits dataset: same data, same model, same seed.

Trains ``fastnn.MLPClassifier`` and ``sklearn.neural_network.MLPClassifier``
with identical hyperparameters on identical float32 data, then prints test
accuracy and the median fit time of each.

Both libraries get the *same* float32 arrays: fastnn trains in float32 without
upcasting, and scikit-learn's MLP also keeps float32 input in float32, so
neither side pays for a dtype conversion the other does not.

Run from the repository root after ``pip install .``::

    python examples/digits_vs_sklearn.py
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import fastnn
import fastnn._core
from fastnn import MLPClassifier as FastMLPClassifier

REPEATS = 3  # fits per library; the median time is reported

# Identical hyperparameters for both libraries.
PARAMS = dict(
    hidden_layer_sizes=(256, 128),
    activation="relu",
    solver="adam",
    max_iter=50,
    random_state=0,
    early_stopping=False,
)


def load_data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1, float32 for BOTH
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def timed_fit(make_model, X, y):
    model = make_model()
    with warnings.catch_warnings():
        # max_iter is deliberately small: a ConvergenceWarning is expected from both.
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - t0
    return model, elapsed


def blas_description():
    """What scikit-learn's MLP runs on: numpy's BLAS (via threadpoolctl, a sklearn dependency)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown BLAS"
    blas = [d for d in threadpool_info() if d.get("user_api") == "blas"]
    if not blas:
        return "unknown BLAS"
    # numpy and scipy may each bundle their own copy of the same BLAS: list each kind once.
    kinds = dict.fromkeys(
        f"{d.get('internal_api', '?')}, {d.get('num_threads', '?')} thread(s)" for d in blas
    )
    return "; ".join(kinds)


def main() -> int:
    X_train, X_test, y_train, y_test = load_data()

    libraries = {
        "fastnn": lambda: FastMLPClassifier(**PARAMS),
        "scikit-learn": lambda: SkMLPClassifier(**PARAMS),
    }
    times = {name: [] for name in libraries}
    models = {}

    # Interleave the fits so that machine noise hits both libraries alike.
    for _ in range(REPEATS):
        for name, make_model in libraries.items():
            model, elapsed = timed_fit(make_model, X_train, y_train)
            times[name].append(elapsed)
            models[name] = model

    print(f"fastnn {fastnn.__version__} ({fastnn._core.max_threads()} thread(s))"
          f"  vs  scikit-learn {sklearn.__version__} (numpy BLAS: {blas_description()})")
    print(f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
          f"{X_train.shape[1]} features, dtype {X_train.dtype}")
    print(f"model: {PARAMS}")
    print(f"timing: median of {REPEATS} fits each, interleaved")
    print()

    header = f"{'library':<14} {'test accuracy':>13} {'epochs':>6} {'fit time (s, median)':>20}"
    print(header)
    print("-" * len(header))
    medians = {}
    accuracies = {}
    for name, model in models.items():
        medians[name] = statistics.median(times[name])
        accuracies[name] = model.score(X_test, y_test)
        print(f"{name:<14} {accuracies[name]:>13.4f} {model.n_iter_:>6d} {medians[name]:>20.3f}")
    print()

    agree = np.mean(models["fastnn"].predict(X_test) == models["scikit-learn"].predict(X_test))
    print(f"fastnn and scikit-learn predict the same class for {agree:.1%} of the test samples")

    ratio = medians["scikit-learn"] / medians["fastnn"]
    if ratio >= 1.0:
        print(f"fastnn is {ratio:.1f}x faster than scikit-learn")
    else:
        print(f"fastnn is {1.0 / ratio:.1f}x slower than scikit-learn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
