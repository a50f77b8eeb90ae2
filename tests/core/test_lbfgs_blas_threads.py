"""While scipy's L-BFGS-B runs between the core's evaluations, numpy's and scipy's BLAS run on one
thread (fastnn._threads.blas_on_one_thread): a woken OpenBLAS thread spins for ~0.1 s after each
call on the cores the core's team needs. Limits are restored afterwards."""

import warnings

import numpy as np
import pytest
import scipy.optimize

import fastnn

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_lbfgs_runs_with_blas_on_one_thread_and_restores_it(monkeypatch):
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library threadpoolctl can see")
    seen = []
    minimize = scipy.optimize.minimize

    def recording_minimize(fun, *args, **kwargs):
        def recorded(x):
            seen.append(_blas_threads())
            return fun(x)
        return minimize(recorded, *args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", recording_minimize)
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(100, 5)), rng.randint(0, 2, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastnn.MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
    assert seen and all(threads == [1] * len(before) for threads in seen), seen
    assert _blas_threads() == before
