"""A whole stochastic fit in one core call (``_run_epochs_in_core``) against the epoch-by-epoch
loop it replaces: the same shuffles (numpy's MT19937 reproduced in C++), learning-rate
schedules, no-improvement counts, stopping epochs, warnings and final state -- bit for bit."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn._mlp import BaseMultilayerPerceptron


def _fit(est, X, y, in_core, monkeypatch, **fit_params):
    calls = []
    original = BaseMultilayerPerceptron._epochs_in_core

    def spy(self, *args):
        chosen = original(self, *args) if in_core else False
        calls.append(chosen)
        return chosen

    monkeypatch.setattr(BaseMultilayerPerceptron, "_epochs_in_core", spy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, **fit_params)
    monkeypatch.undo()
    assert calls == [in_core]
    return est, [(w.category, str(w.message)) for w in caught]


def _assert_same_fit(a, b):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)
    assert a.loss_curve_ == b.loss_curve_
    assert all(type(v) is np.float64 for v in a.loss_curve_)
    for name in ("n_iter_", "t_", "loss_", "best_loss_", "_no_improvement_count"):
        assert getattr(a, name) == getattr(b, name), name
        assert type(getattr(a, name)) is type(getattr(b, name)), name
    assert a._optimizer.learning_rate == b._optimizer.learning_rate


CASES = [
    dict(solver="adam"),
    dict(solver="adam", shuffle=False),
    dict(solver="adam", tol=1e-2, n_iter_no_change=2),  # stops early
    dict(solver="sgd", learning_rate="constant", momentum=0.0),
    dict(solver="sgd", learning_rate="invscaling", power_t=0.3),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=1),  # lr / 5
    dict(solver="sgd", nesterovs_momentum=False, batch_size=1, max_iter=5),
    dict(solver="sgd", batch_size=500),  # full batch
    dict(solver="adam", dropout=0.3),
    dict(solver="adam", n_iter_no_change=np.inf, tol=0.0),
]


@pytest.mark.parametrize("params", CASES, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_in_core_equals_the_epoch_loop(params, dtype, monkeypatch):
    X, y = make_classification(500, 8, random_state=0)
    X = X.astype(dtype)
    kw = {**dict(hidden_layer_sizes=(16,), max_iter=25, random_state=0), **params}
    fast, w_fast = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
    loop, w_loop = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
    _assert_same_fit(fast, loop)
    assert w_fast == w_loop


def test_random_state_instance_advances_as_in_the_loop(monkeypatch):
    X, y = make_regression(300, 5, random_state=0)
    y = y / np.abs(y).max()
    rs_fast, rs_loop = np.random.RandomState(3), np.random.RandomState(3)
    fast, _ = _fit(fastnn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=7, random_state=rs_fast), X, y, True,
                   monkeypatch)
    loop, _ = _fit(fastnn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=7, random_state=rs_loop), X, y, False,
                   monkeypatch)
    _assert_same_fit(fast, loop)
    assert rs_fast.randint(2**31) == rs_loop.randint(2**31)


def test_warm_start_and_sample_weight(monkeypatch):
    X, y = make_classification(400, 6, random_state=1)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, 400)
    kw = dict(hidden_layer_sizes=(12,), max_iter=6, random_state=0, warm_start=True,
              solver="sgd", learning_rate="invscaling")
    fast, loop = fastnn.MLPClassifier(**kw), fastnn.MLPClassifier(**kw)
    for _ in range(3):
        _fit(fast, X, y, True, monkeypatch, sample_weight=sw)
        _fit(loop, X, y, False, monkeypatch, sample_weight=sw)
        _assert_same_fit(fast, loop)


def test_loop_is_kept_where_python_acts_between_epochs(monkeypatch, capsys):
    X, y = make_classification(200, 5, random_state=0)
    seen = []
    original = BaseMultilayerPerceptron._epochs_in_core

    def spy(self, *args):
        seen.append(original(self, *args))
        return seen[-1]

    monkeypatch.setattr(BaseMultilayerPerceptron, "_epochs_in_core", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fastnn.MLPClassifier(max_iter=3, verbose=True).fit(X, y)
        fastnn.MLPClassifier(max_iter=3, early_stopping=True).fit(X, y)
        zero = np.ones(200)
        zero[0] = 0.0
        fastnn.MLPClassifier(max_iter=3).fit(X, y, sample_weight=zero)
        fastnn.MLPClassifier(max_iter=3).fit(X, y)
        fastnn.MLPClassifier(max_iter=3).partial_fit(X, y, classes=[0, 1])
    assert seen == [False, False, False, True, False]  # partial_fit: one epoch, the loop
    assert "Iteration 3" in capsys.readouterr().out


def test_shuffles_are_numpys(monkeypatch):
    """The core's MT19937 draws the permutations RandomState.shuffle draws: a fit on data
    whose rows are their own index shows the order the network saw (one step per row)."""
    X, y = make_classification(97, 4, random_state=0)
    for seed in (0, 1, 12345):
        kw = dict(hidden_layer_sizes=(3,), max_iter=4, random_state=seed, solver="sgd",
                  batch_size=1)
        fast, _ = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
        loop, _ = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
        _assert_same_fit(fast, loop)


@pytest.mark.parametrize("stops", [True, False], ids=["rule-stops", "max_iter"])
def test_fits_longer_than_one_core_call_equal_the_loop(stops, monkeypatch):
    """The core runs at most _EPOCHS_PER_CORE_CALL epochs a call; the rule's state (learning
    rate, counts, best loss) and the generator carry over from call to call, and the last call
    runs what remains of max_iter."""
    from fastnn import _mlp

    X, y = make_classification(30, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate="adaptive", tol=1e-3,
              n_iter_no_change=3, max_iter=1000, batch_size=7, random_state=0)
    if not stops:
        kw.update(tol=0.0, n_iter_no_change=np.inf, max_iter=150)  # 64 + 64 + 22 epochs
    monkeypatch.setattr(_mlp, "_EPOCHS_PER_CORE_CALL", 64)
    fast, w_fast = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
    monkeypatch.setattr(_mlp, "_EPOCHS_PER_CORE_CALL", 64)
    loop, w_loop = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
    assert fast.n_iter_ > 64  # several core calls
    assert (fast.n_iter_ < kw["max_iter"]) == stops
    _assert_same_fit(fast, loop)
    assert w_fast == w_loop
