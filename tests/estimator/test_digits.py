"""End-to-end accuracy on scikit-learn's digits vs scikit-learn's MLPClassifier."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import fastnn

from _util import fit_quiet

SOLVER_PARAMS = {
    "sgd": dict(solver="sgd", learning_rate_init=0.01),
    "adam": dict(solver="adam", learning_rate_init=0.001),
}
COMMON = dict(hidden_layer_sizes=(64,), max_iter=150, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def sklearn_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    acc = {}
    for name, params in SOLVER_PARAMS.items():
        sk = fit_quiet(SkMLPClassifier(**COMMON, **params), X_train, y_train)
        acc[name] = sk.score(X_test, y_test)
    return acc


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_digits_accuracy_within_one_point_of_sklearn(digits, sklearn_accuracy, solver, dtype):
    X_train, X_test, y_train, y_test = digits
    X_train = X_train.astype(dtype)
    X_test = X_test.astype(dtype)
    fast = fit_quiet(
        fastnn.MLPClassifier(**COMMON, **SOLVER_PARAMS[solver]), X_train, y_train
    )
    assert fast.coefs_[0].dtype == dtype
    assert all(c.dtype == dtype for c in fast.coefs_ + fast.intercepts_)
    assert fast.predict_proba(X_test).dtype == dtype
    acc = fast.score(X_test, y_test)
    assert acc == np.mean(fast.predict(X_test) == y_test)
    assert acc > 0.9
    assert abs(acc - sklearn_accuracy[solver]) <= 0.01, (acc, sklearn_accuracy[solver])
    assert len(fast.loss_curve_) == fast.n_iter_
    assert fast.loss_curve_[-1] < fast.loss_curve_[0] / 5
