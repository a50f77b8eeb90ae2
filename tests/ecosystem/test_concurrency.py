"""Fitted models are safe to use from several Python threads, and fits in different threads do
not disturb each other: every result equals, bitwise, the same call made serially.

The core releases the GIL for the whole of an epoch or a prediction, so these threads really
run C++ at the same time; a barrier makes the concurrent calls start together (and fails the
test, instead of passing vacuously, if the calls were not concurrent at all).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.datasets import make_classification

import fastnn

# ConvergenceWarning is expected (fixed small max_iter). The filter is set for the whole test
# by pytest, from the main thread, so the worker threads see it too (a catch_warnings() inside
# a thread would race with the other threads').
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_SAMPLES, N_FEATURES = 4000, 50
BARRIER_TIMEOUT = 120  # s: only reached when the calls could not run concurrently


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(N_SAMPLES, N_FEATURES, n_informative=20, n_classes=3,
                               random_state=0)
    y_reg = X[:, :5] @ np.linspace(-1.0, 1.0, 5) + 0.1 * X[:, 5] ** 2
    return np.ascontiguousarray(X), y, y_reg


def _estimator(kind, n_threads, seed=0):
    """A fit long enough (~10^9 multiply-adds, 20 full epochs) for threads to overlap."""
    params = dict(hidden_layer_sizes=(128, 128), max_iter=20, tol=0.0, n_iter_no_change=100,
                  random_state=seed, n_threads=n_threads)
    if kind == "clf":
        return fastnn.MLPClassifier(solver="adam", **params)
    return fastnn.MLPRegressor(solver="sgd", learning_rate_init=1e-3, **params)


def _fit(kind, n_threads, data, seed=0, barrier=None):
    X, y, y_reg = data
    est = _estimator(kind, n_threads, seed)
    if barrier is not None:
        barrier.wait(BARRIER_TIMEOUT)
    return est.fit(X, y if kind == "clf" else y_reg)


def _assert_same_fit(a, b):
    assert a.n_iter_ == b.n_iter_ == 20
    assert a.loss_curve_ == b.loss_curve_
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.fixture(scope="module")
def fitted(data):
    return {kind: _fit(kind, 2, data, seed=1) for kind in ("clf", "reg")}


def _slices(n):
    """Whole X, row ranges (contiguous views), strided views and single rows."""
    out = [slice(None)]
    rng = np.random.RandomState(0)
    for _ in range(12):
        lo = int(rng.randint(0, n - 1))
        out.append(slice(lo, int(rng.randint(lo + 1, n + 1))))
    out += [slice(None, None, 2), slice(1, None, 3), slice(7, 8), slice(n - 1, n)]
    return out


def test_predict_from_8_threads_equals_serial_predict_bitwise(data, fitted):
    X = data[0]
    clf, reg = fitted["clf"], fitted["reg"]
    slices = _slices(X.shape[0])
    serial = {
        i: (clf.predict(X[s]), clf.predict_proba(X[s]), reg.predict(X[s]))
        for i, s in enumerate(slices)
    }

    def work(task):
        i = task % len(slices)
        s = slices[i]
        return i, (clf.predict(X[s]), clf.predict_proba(X[s]), reg.predict(X[s]))

    n_tasks = 8 * len(slices)  # every slice predicted 8 times, by different threads
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(n_tasks)))
    assert len(results) == n_tasks
    for i, outputs in results:
        for got, expected in zip(outputs, serial[i]):
            assert got.dtype == expected.dtype and got.shape == expected.shape
            assert np.array_equal(got, expected), f"slice {slices[i]}"


@pytest.mark.parametrize("n_threads", [1, 2])
def test_two_fits_in_joblib_threads_equal_their_serial_fits(data, n_threads):
    serial = [_fit(kind, n_threads, data) for kind in ("clf", "reg")]
    barrier = threading.Barrier(2)  # both fits start together (or the test fails)
    concurrent = Parallel(n_jobs=2, backend="threading")(
        delayed(_fit)(kind, n_threads, data, barrier=barrier) for kind in ("clf", "reg")
    )
    for a, b in zip(serial, concurrent):
        _assert_same_fit(a, b)


def test_fit_while_another_thread_predicts_equals_serial_results(data, fitted):
    X = data[0]
    predictor = fitted["clf"]
    expected_proba = predictor.predict_proba(X)
    serial_fit = _fit("reg", 2, data, seed=3)

    barrier = threading.Barrier(2)
    fit_done = threading.Event()
    mismatches, n_predicts = [], [0]

    def predict_until_fit_done():
        barrier.wait(BARRIER_TIMEOUT)
        while True:  # at least once, then for as long as the fit runs
            proba = predictor.predict_proba(X)
            n_predicts[0] += 1
            if not np.array_equal(proba, expected_proba):
                mismatches.append(n_predicts[0])
            if fit_done.is_set():
                break

    def fit():
        try:
            return _fit("reg", 2, data, seed=3, barrier=barrier)
        finally:
            fit_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        predicting = pool.submit(predict_until_fit_done)
        fitting = pool.submit(fit)
        concurrent_fit = fitting.result()
        predicting.result()
    assert n_predicts[0] >= 1
    assert mismatches == []
    _assert_same_fit(serial_fit, concurrent_fit)
