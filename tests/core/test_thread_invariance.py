"""Results are bitwise identical whatever the number of threads: every way the core partitions
work -- row chunks of dense and sparse batches, item mode's row items and gradient tiles, dropout
masks, residual layers, column mode for layers over 2M weights -- in float32 and float64, for
the stochastic solvers and L-BFGS, fit and predict.
The partition of work depends only on the shapes and the reduction order is fixed, so 1, 2 and 3
threads (3 on 2 cores: oversubscribed, uneven shares) must agree bit for bit; a repeated fit on
the same thread count too."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression

import fastnn

from _util import fit_quiet

THREAD_COUNTS = (1, 2, 3, 2)  # the last: the same count again (reproducibility)


def _classification(n, n_features, dtype):
    X, y = make_classification(n, n_features, n_informative=8, n_classes=3, random_state=0)
    return X.astype(dtype), y


def _regression(n, n_features, dtype):
    X, y = make_regression(n, n_features, n_targets=2, random_state=0)
    return X.astype(dtype), (y / np.abs(y).max()).astype(dtype)


def _sparse(n, n_features, dtype):
    rng = np.random.RandomState(0)
    X = sp.random(n, n_features, density=0.05, format="csr", random_state=rng, dtype=dtype)
    return X, rng.randint(0, 3, n)


# name: (estimator, its parameters, data(n, n_features, dtype), n, n_features, sample weights).
# Every case's batches are large enough (>= 1M multiply-adds) to run on several threads.
CASES = {
    "dense-classifier": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(128, 64)),
                         _classification, 600, 64, False),
    "dense-regressor-weighted": (fastnn.MLPRegressor, dict(hidden_layer_sizes=(128, 64)),
                                 _regression, 600, 64, True),
    "sparse": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(256,), batch_size=600),
               _sparse, 1200, 300, False),
    "dropout": (fastnn.MLPClassifier,
                dict(hidden_layer_sizes=(256, 128), dropout=[0.2, 0.5]),
                _classification, 800, 64, False),
    "residual": (fastnn.MLPClassifier,
                 dict(hidden_layer_sizes=(256, 256), residual=True),
                 _classification, 600, 64, False),
    # an activation keeping its derivative (pre buffers without residual layers or dropout)
    "gelu": (fastnn.MLPRegressor, dict(hidden_layer_sizes=(128, 64), activation="gelu"),
             _regression, 600, 64, True),
    # Item mode (a layer of >= 128K weights): row items and gradient tiles; the last batch
    # shorter (fewer items), items of unequal rows (batch 40: 8, 12, 8, 12).
    "item-mode": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(256, 64)),
                  _classification, 700, 600, False),
    "item-mode-regressor-weighted": (fastnn.MLPRegressor, dict(hidden_layer_sizes=(256,)),
                                     _regression, 500, 600, True),
    "item-mode-sparse": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(256,), batch_size=300),
                         _sparse, 700, 600, False),
    "item-mode-dropout-residual": (
        fastnn.MLPClassifier,
        dict(hidden_layer_sizes=(512, 512), dropout=0.3, residual=True, batch_size=100),
        _classification, 250, 40, False),
    "item-mode-silu": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(256, 64), activation="silu"),
                       _classification, 700, 600, False),
    "item-mode-batch-40": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(256,), batch_size=40),
                           _classification, 200, 600, True),
    "column-mode": (fastnn.MLPClassifier, dict(hidden_layer_sizes=(2048,), batch_size=48),
                    _classification, 96, 1100, True),
    "column-mode-dropout-residual": (
        fastnn.MLPClassifier,
        dict(hidden_layer_sizes=(1500, 1500), dropout=0.3, residual=True, batch_size=48),
        _classification, 96, 40, False),
    "column-mode-softplus-residual": (
        fastnn.MLPClassifier,
        dict(hidden_layer_sizes=(1500, 1500), activation="softplus", residual=True,
             batch_size=48),
        _classification, 96, 40, False),
}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_fit_and_predict_are_bitwise_identical_whatever_the_thread_count(case, dtype, solver):
    Estimator, params, data, n, n_features, weighted = CASES[case]
    X, y = data(n, n_features, dtype)
    sample_weight = np.random.RandomState(1).uniform(0.5, 2.0, n) if weighted else None
    models = [
        fit_quiet(Estimator(**params, solver=solver, max_iter=2, random_state=0, n_threads=k),
                  X, y, sample_weight=sample_weight)
        for k in THREAD_COUNTS
    ]
    ref = models[0]
    assert ref.coefs_[0].dtype == dtype
    outputs = ref.predict_proba if hasattr(ref, "predict_proba") else ref.predict
    expected = outputs(X)
    for model in models[1:]:
        for a, b in zip(ref.coefs_ + ref.intercepts_, model.coefs_ + model.intercepts_):
            assert np.array_equal(a, b)
        assert model.loss_curve_ == ref.loss_curve_
        predict = model.predict_proba if hasattr(model, "predict_proba") else model.predict
        assert np.array_equal(predict(X), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", ["item-mode", "item-mode-sparse", "item-mode-dropout-residual"])
def test_item_mode_is_bitwise_identical_on_many_threads_and_with_lbfgs(case, dtype):
    # 16 threads on 2 cores: every thread gets row items and tiles of its own (the partition the
    # work-distribution benchmark measures); L-BFGS takes the whole data as one batch.
    Estimator, params, data, n, n_features, _ = CASES[case]
    X, y = data(n, n_features, dtype)
    for solver in ["adam", "lbfgs"]:
        if solver == "lbfgs" and "dropout" in params:
            continue  # L-BFGS is not offered with dropout
        models = [fit_quiet(Estimator(**params, solver=solver, max_iter=3, random_state=0,
                                      n_threads=k), X, y) for k in (1, 16, 5)]
        for model in models[1:]:
            for a, b in zip(models[0].coefs_ + models[0].intercepts_,
                            model.coefs_ + model.intercepts_):
                assert np.array_equal(a, b)
            assert model.loss_ == models[0].loss_
