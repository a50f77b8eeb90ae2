"""Faults during training: what a model is left as when a fit fails midway, and Ctrl-C.

A warm-started fit (or partial_fit) that diverges raises scikit-learn's error and leaves the
model it started from (scikit-learn's keeps the non-finite weights); a zero-weight mini-batch
midway leaves the last whole epoch. SIGINT to a
child process in the middle of a long fit returns from ``fit`` within a fraction of a second
(the core polls for it between mini-batches, at most every 20 ms), with scikit-learn's
"Training interrupted by user." warning and a model that predicts.
"""

import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import fastnn

PAIRS = {
    "classifier": (fastnn.MLPClassifier, SkMLPClassifier),
    "regressor": (fastnn.MLPRegressor, SkMLPRegressor),
}
NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


def _data(which):
    if which == "classifier":
        X, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3,
                                   random_state=0)
    else:
        X, y = make_regression(n_samples=120, n_features=6, noise=1.0, random_state=0)
        y = (y - y.mean()) / y.std()
    return StandardScaler().fit_transform(X), y


def _quiet(fn, *args, **kwargs):
    """``fn(...)``, ignoring warnings (ConvergenceWarning; numpy's overflow RuntimeWarnings in
    scikit-learn), returning the exception raised instead of raising it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            return exc


def _same_exception(a, b):
    return isinstance(a, Exception) and type(a) is type(b) and str(a) == str(b)


# ---------------------------------------------------------------- diverging warm start
# How each estimator is made to diverge on its second, warm-started fit. A classifier's
# saturating outputs keep its weights finite at any learning rate: it diverges on huge X.
DIVERGENCES = {
    "regressor-sgd-learning-rate": ("regressor", dict(solver="sgd"),
                                    dict(learning_rate_init=1e10), 1.0),
    "regressor-adam-learning-rate": ("regressor", dict(solver="adam"),
                                     dict(learning_rate_init=1e300), 1.0),
    "classifier-sgd-huge-X": ("classifier", dict(solver="sgd"), {}, 1e200),
    "regressor-adam-huge-X": ("regressor", dict(solver="adam"), {}, 1e200),
}


@pytest.mark.parametrize("case", list(DIVERGENCES))
def test_diverged_warm_start_fit_raises_sklearns_error_and_leaves_the_model_it_started_from(
        case):
    which, params, diverge, scale = DIVERGENCES[case]
    X, y = _data(which)
    Fast, Sk = PAIRS[which]
    kw = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, warm_start=True, **params)
    fast, sk = _quiet(Fast(**kw).fit, X, y), _quiet(Sk(**kw).fit, X, y)
    before = fast._fitted_state()
    outputs = {m: getattr(fast, m)(X) for m in ("predict", "predict_proba") if hasattr(fast, m)}
    for est in (fast, sk):
        est.set_params(max_iter=4, **diverge)
    f_error, s_error = _quiet(fast.fit, X * scale, y), _quiet(sk.fit, X * scale, y)
    assert _same_exception(f_error, s_error) and str(f_error) == NON_FINITE_WEIGHTS

    # scikit-learn keeps the diverged weights (its model predicts NaN); fastnn's model is the
    # one the fit started from, exactly, and predicts what it predicted
    assert not all(np.isfinite(c).all() for c in sk.coefs_ + sk.intercepts_)
    after = fast._fitted_state()
    assert after.keys() == before.keys()
    for key in ("coefs_", "intercepts_"):
        for a, b in zip(after[key], before[key]):
            np.testing.assert_array_equal(a, b)
    for key in ("loss_curve_", "n_iter_", "t_", "loss_", "best_loss_", "_no_improvement_count"):
        assert after[key] == before[key], key
    for method, expected in outputs.items():
        np.testing.assert_array_equal(getattr(fast, method)(X), expected)

    # training goes on from there as if the failed call had not happened
    for est in (fast,):
        est.set_params(max_iter=4, **{k: 1e-3 for k in diverge})
    _quiet(fast.fit, X, y)
    reference = _quiet(Fast(**kw).fit, X, y)
    reference.set_params(max_iter=4)
    _quiet(reference.fit, X, y)
    for a, b in zip(fast.coefs_ + fast.intercepts_, reference.coefs_ + reference.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert fast.loss_curve_ == reference.loss_curve_


def test_diverged_first_fit_raises_as_sklearn_and_a_refit_works():
    X, y = _data("regressor")
    kw = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    fast, sk = fastnn.MLPRegressor(**kw), SkMLPRegressor(**kw)
    error = _quiet(fast.fit, X * 1e200, y)
    assert _same_exception(error, _quiet(sk.fit, X * 1e200, y))
    assert str(error) == NON_FINITE_WEIGHTS  # no model to go back to: scikit-learn's state
    assert not all(np.isfinite(c).all() for c in fast.coefs_)
    assert np.isfinite(_quiet(fast.fit, X, y).predict(X)).all()
    assert np.isfinite(_quiet(clone(fast).fit, X, y).predict(X)).all()


# ------------------------------------------------------ a zero-weight mini-batch midway
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("which", list(PAIRS))
def test_zero_weight_minibatch_midway_leaves_the_last_whole_epoch(which, dtype):
    # scikit-learn raises at the offending mini-batch, after updating the weights with the
    # mini-batches before it; fastnn checks an epoch's mini-batches before running it (the
    # core runs whole epochs) and raises with the weights of the last whole epoch. The
    # bookkeeping (n_iter_, t_, loss_curve_) and the weights' dtype are the same.
    X, y = _data(which)
    X = X.astype(dtype)
    sample_weight = np.ones(len(y))
    sample_weight[40:60] = 0.0  # the third mini-batch of 20, in every epoch (no shuffle)
    params = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0, warm_start=True,
                  solver="sgd", shuffle=False, batch_size=20)
    models = []
    for C in PAIRS[which]:
        est = _quiet(C(**params).fit, X, y)
        before = [c.copy() for c in est.coefs_ + est.intercepts_]
        error = _quiet(est.fit, X.astype(np.float64), y, sample_weight=sample_weight)
        models.append((est, before, error))
    (fast, f_before, f_error), (sk, s_before, s_error) = models

    assert _same_exception(f_error, s_error)
    assert isinstance(f_error, ZeroDivisionError)
    assert str(f_error) == "Weights sum to zero, can't be normalized"
    for name in ("n_iter_", "t_"):
        assert getattr(fast, name) == getattr(sk, name), name
    assert fast.loss_curve_ == pytest.approx(sk.loss_curve_, rel=1e-5)
    for a, b, c in zip(fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_, f_before):
        assert a.dtype == b.dtype == dtype  # a float32 model stays float32 (was float64)
        assert np.array_equal(a, c)  # fastnn: the last whole epoch's weights
    assert not all(np.array_equal(b, c) for b, c in
                   zip(sk.coefs_ + sk.intercepts_, s_before))  # sklearn: two batches more
    assert np.isfinite(np.asarray(fast.predict(X), dtype=float)).all()
    # and training goes on once the weights are fixed
    _quiet(fast.fit, X, y, sample_weight=np.ones(len(y)))
    assert fast.n_iter_ == 2


# --------------------------------------------------------------------- Ctrl-C latency
_LONG_FIT = textwrap.dedent(
    """
    import json, signal, sys, time, warnings
    import numpy as np
    import fastnn

    signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the parent ignores
    batch_size, hidden = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 20))
    y = rng.standard_normal(200_000)
    est = fastnn.MLPRegressor(hidden_layer_sizes=(hidden,), batch_size=batch_size,
                              max_iter=50, random_state=0)
    est.fit(X[:2000], y[:2000])  # warm-up (imports, thread pool), not timed
    est.set_params(max_iter=50)
    print("fitting", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        finally:
            returned = time.time()
    prediction = est.predict(X[:10])
    json.dump({
        "returned": returned,
        "warnings": [str(w.message) for w in caught],
        "n_iter": est.n_iter_,
        "t": est.t_,
        "finite": bool(np.isfinite(prediction).all() and all(
            np.isfinite(c).all() for c in est.coefs_)),
        "shape": list(prediction.shape),
    }, sys.stdout)
    """
)


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("batch_size,hidden", [(1, 128), (2000, 1024)],
                         ids=["batch-1", "batch-2000"])
def test_sigint_to_a_child_returns_from_fit_promptly(batch_size, hidden, request):
    child = subprocess.Popen(
        [sys.executable, "-c", _LONG_FIT, str(batch_size), str(hidden)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "fitting"
        time.sleep(0.4)  # well inside the 50 epochs (one takes 0.2-1 s, with the load)
        sent = time.time()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    result = json.loads(out)
    latency = result["returned"] - sent
    request.node.user_properties.append(("sigint_latency_s", round(latency, 4)))
    # The requirement is 100 ms after the current mini-batch (the core polls every 20 ms);
    # 0.5 s leaves room for a loaded machine.
    assert 0 <= latency < 0.5, latency
    assert result["warnings"] == ["Training interrupted by user."]
    # stopped early, with the epochs completed before the signal recorded consistently
    assert result["n_iter"] < 50 and result["t"] == result["n_iter"] * 200_000
    assert result["finite"] and result["shape"] == [10]
