"""The epoch driver (fastnn._engine): a whole stochastic fit in one core call against the same
fit run one epoch a core call, the way the driver runs it when Python must act between epochs
(verbose lines, early stopping's validation score, per-epoch callbacks, partial_fit) and hands
each epoch's criterion to the core's EpochRule itself. Both paths must agree bit for bit: the
same shuffles (numpy's MT19937 reproduced in C++), learning-rate schedules, no-improvement
counts, stopping epochs, warnings and final state."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import _engine, _optimizers


def _spy_driver(monkeypatch, one_at_a_time=None):
    """Records, per fit, whether the driver ran one epoch a core call and how many core calls
    it made; ``one_at_a_time`` forces the mode (None: the driver's own choice)."""
    fits = []
    original_run = _engine._EpochDriver.run

    def run(driver):
        if one_at_a_time is not None:
            driver.one_at_a_time = one_at_a_time
        fits.append({"one_at_a_time": driver.one_at_a_time, "core_calls": 0})
        return original_run(driver)

    monkeypatch.setattr(_engine._EpochDriver, "run", run)
    for cls in (_optimizers.SGDOptimizer, _optimizers.AdamOptimizer):
        def counted(self, *args, _original=cls.run_epochs):
            fits[-1]["core_calls"] += 1
            return _original(self, *args)

        monkeypatch.setattr(cls, "run_epochs", counted)
    return fits


def _fit(est, X, y, in_core, monkeypatch, **fit_params):
    """Fit with the whole fit in the core (in_core) or one epoch a core call; returns the
    model, its warnings, and the driver's record of the fit."""
    fits = _spy_driver(monkeypatch, one_at_a_time=not in_core)
    per_call = _engine.EPOCHS_PER_CORE_CALL if in_core else 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, **fit_params)
    monkeypatch.undo()
    assert len(fits) == 1
    assert fits[0]["core_calls"] == -(-est.n_iter_ // per_call)
    return est, [(w.category, str(w.message)) for w in caught], fits[0]


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
def test_fit_in_one_core_call_equals_one_epoch_a_call(params, dtype, monkeypatch):
    X, y = make_classification(500, 8, random_state=0)
    X = X.astype(dtype)
    kw = {**dict(hidden_layer_sizes=(16,), max_iter=25, random_state=0), **params}
    fast, w_fast, _ = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
    loop, w_loop, _ = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
    _assert_same_fit(fast, loop)
    assert w_fast == w_loop


def test_random_state_instance_advances_as_in_the_loop(monkeypatch):
    X, y = make_regression(300, 5, random_state=0)
    y = y / np.abs(y).max()
    rs_fast, rs_loop = np.random.RandomState(3), np.random.RandomState(3)
    fast, _, _ = _fit(fastnn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=7,
                                          random_state=rs_fast), X, y, True, monkeypatch)
    loop, _, _ = _fit(fastnn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=7,
                                          random_state=rs_loop), X, y, False, monkeypatch)
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


def test_one_epoch_a_call_only_where_python_acts_between_epochs(monkeypatch, capsys):
    X, y = make_classification(200, 5, random_state=0)
    fits = _spy_driver(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fastnn.MLPClassifier(max_iter=3, verbose=True).fit(X, y)
        fastnn.MLPClassifier(max_iter=3, early_stopping=True).fit(X, y)
        some_zero = np.ones(200)
        some_zero[0] = 0.0
        fastnn.MLPClassifier(max_iter=3).fit(X, y, sample_weight=some_zero)
        fastnn.MLPClassifier(max_iter=3).fit(X, y)
        fastnn.MLPClassifier(max_iter=3).partial_fit(X, y, classes=[0, 1])
        fastnn.MLPClassifier(max_iter=3).partial_fit(X, y, classes=[0, 1], epochs=4)
        fastnn.MLPClassifier(max_iter=3, lr_schedule=lambda e: 1.0).fit(X, y)
    assert [f["one_at_a_time"] for f in fits] == [True, True, False, False, False, False, True]
    assert [f["core_calls"] for f in fits] == [3, 3, 1, 1, 1, 1, 3]
    assert "Iteration 3" in capsys.readouterr().out


def test_shuffles_are_numpys(monkeypatch):
    """The core's MT19937 draws the permutations RandomState.shuffle draws: a fit on data
    whose rows are their own index shows the order the network saw (one step per row)."""
    X, y = make_classification(97, 4, random_state=0)
    for seed in (0, 1, 12345):
        kw = dict(hidden_layer_sizes=(3,), max_iter=4, random_state=seed, solver="sgd",
                  batch_size=1)
        fast, _, _ = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
        loop, _, _ = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
        _assert_same_fit(fast, loop)


@pytest.mark.parametrize("stops", [True, False], ids=["rule-stops", "max_iter"])
def test_fits_longer_than_one_core_call_equal_one_epoch_a_call(stops, monkeypatch):
    """The core runs at most EPOCHS_PER_CORE_CALL epochs a call; the rule's state (learning
    rate, counts, best loss) and the generator carry over from call to call, and the last call
    runs what remains of max_iter."""
    X, y = make_classification(30, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate="adaptive", tol=1e-3,
              n_iter_no_change=3, max_iter=1000, batch_size=7, random_state=0)
    if not stops:
        kw.update(tol=0.0, n_iter_no_change=np.inf, max_iter=150)  # 64 + 64 + 22 epochs
    monkeypatch.setattr(_engine, "EPOCHS_PER_CORE_CALL", 64)
    fast, w_fast, record = _fit(fastnn.MLPClassifier(**kw), X, y, True, monkeypatch)
    loop, w_loop, _ = _fit(fastnn.MLPClassifier(**kw), X, y, False, monkeypatch)
    assert fast.n_iter_ > 64
    assert record["core_calls"] == (3 if not stops else -(-fast.n_iter_ // 64))
    assert record["core_calls"] >= 2  # several core calls
    assert (fast.n_iter_ < kw["max_iter"]) == stops
    _assert_same_fit(fast, loop)
    assert w_fast == w_loop


def test_a_generator_the_core_cannot_draw_from_shuffles_in_python_every_epoch(monkeypatch):
    """A RandomState over another bit generator (PCG64): Python draws each epoch's permutation
    as scikit-learn does, and the core runs one epoch a call under its own rule -- the fit
    follows scikit-learn's (same permutations) and the generator ends where scikit-learn's
    does."""
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    X, y = make_classification(120, 6, random_state=0)
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", batch_size=10, max_iter=4)
    fits = _spy_driver(monkeypatch)
    rs_fast = np.random.RandomState(np.random.PCG64(7))
    rs_sk = np.random.RandomState(np.random.PCG64(7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast = fastnn.MLPClassifier(random_state=rs_fast, **kw).fit(X, y)
        sk = SkMLPClassifier(random_state=rs_sk, **kw).fit(X, y)
    assert fits[0]["core_calls"] == 4 and not fits[0]["one_at_a_time"]
    for a, b in zip(fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-12)
    assert rs_fast.randint(2**31) == rs_sk.randint(2**31)
