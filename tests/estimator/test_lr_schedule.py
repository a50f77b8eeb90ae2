"""lr_schedule ('cosine', 'step', 'plateau', a callable) and warmup_epochs: the core's epoch rule
against the formulas, whole fits against equivalent fits (plateau = scikit-learn's adaptive,
a constant factor = a scaled learning_rate_init), and their effect on a real fit."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import MLPClassifier, MLPRegressor, _core

from _util import assert_same_training, fit_quiet


def _rates(schedule, epochs, warmup=0, horizon=10, factor=None):
    rule = _core.EpochRule(
        tol=1e-4, n_iter_no_change=10, schedule=schedule, criterion="training_loss",
        learning_rate_init=0.1, power_t=0.5, learning_rate=0.1, best=np.inf,
        no_improvement_count=0, samples_seen=0, warmup_epochs=warmup, horizon=horizon,
        plateau_rate=0.1,
    )
    rates = []
    for e in range(epochs):
        if factor is not None:
            rule.factor = factor(e)
        rule.begin_epoch()
        rates.append(rule.learning_rate)
    assert rule.epoch == epochs
    return rates


def test_the_rule_follows_the_documented_formulas():
    cosine = [0.1 * 0.5 * (1 + math.cos(math.pi * min(e, 9) / 10)) for e in range(12)]
    np.testing.assert_allclose(_rates("cosine", 12), cosine, rtol=1e-15)
    assert _rates("step", 10) == [0.1] * 5 + [0.1 * 0.1] * 3 + [0.1 * 0.01] * 2
    # warm-up: epoch k < 3 at (k + 1) / 4 of its rate; the schedule counts from its end
    warm = _rates("cosine", 6, warmup=3, horizon=9)
    np.testing.assert_allclose(warm[:3], [0.1 * k / 4 for k in (1, 2, 3)], rtol=1e-15)
    np.testing.assert_allclose(
        warm[3:], [0.1 * 0.5 * (1 + math.cos(math.pi * e / 6)) for e in range(3)], rtol=1e-15)
    assert _rates("constant", 3, warmup=1) == [0.05, 0.1, 0.1]
    assert _rates("given", 3, factor=lambda e: 2.0 ** -e) == [0.1, 0.05, 0.025]
    assert _rates("plateau", 2) == [0.1, 0.1]


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16, y[:500]


def test_plateau_with_sgd_is_scikit_learns_adaptive_rate(capsys):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.5, tol=0.05,
                  n_iter_no_change=2, max_iter=60, random_state=0, verbose=True)
    adaptive = fit_quiet(MLPClassifier(learning_rate="adaptive", **params), X, y)
    adaptive_out = capsys.readouterr().out
    plateau = fit_quiet(MLPClassifier(lr_schedule="plateau", **params), X, y)
    assert_same_training(adaptive, plateau)
    assert plateau._optimizer.learning_rate == adaptive._optimizer.learning_rate < 0.5 / 25
    assert capsys.readouterr().out == adaptive_out  # the same lines, "Setting learning rate" too
    assert "Setting learning rate to" in adaptive_out


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_constant_factor_is_a_scaled_learning_rate_init(solver):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=8, random_state=0)
    scaled = fit_quiet(MLPClassifier(learning_rate_init=0.001 * 0.25, **params), X, y)
    given = fit_quiet(MLPClassifier(learning_rate_init=0.001, lr_schedule=lambda e: 0.25,
                                    **params), X, y)
    assert_same_training(scaled, given)
    plain = fit_quiet(MLPClassifier(**params), X, y)
    ones = fit_quiet(MLPClassifier(lr_schedule=lambda e: 1, **params), X, y)
    assert_same_training(plain, ones)  # and a factor of 1 is no schedule


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_callable_giving_the_cosine_is_cosine(solver):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=12, warmup_epochs=2,
                  random_state=0, learning_rate_init=0.01)
    cosine = fit_quiet(MLPClassifier(lr_schedule="cosine", **params), X, y)
    seen = []

    def by_hand(epoch):
        seen.append(epoch)
        return 0.5 * (1 + math.cos(math.pi * min(max(epoch - 2, 0), 9) / 10))

    given = fit_quiet(MLPClassifier(lr_schedule=by_hand, **params), X, y)
    assert seen == list(range(12))
    np.testing.assert_allclose(given.loss_curve_, cosine.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(given.coefs_[0], cosine.coefs_[0], rtol=1e-9, atol=1e-12)


def test_warmup_lowers_only_the_first_epochs_rates():
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver="sgd", max_iter=6, random_state=0,
                  momentum=0.0)
    warm = fit_quiet(MLPClassifier(warmup_epochs=3, **params), X, y)
    assert warm._optimizer.learning_rate == 0.001  # back to the full rate
    factors = [0.25, 0.5, 0.75, 1, 1, 1]
    by_hand = fit_quiet(MLPClassifier(lr_schedule=lambda e: factors[e], **params), X, y)
    assert_same_training(warm, by_hand)


def test_partial_fit_continues_the_schedule_and_fit_restarts_it():
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver="adam", lr_schedule="step", max_iter=4,
                  random_state=np.random.RandomState(0))
    calls = MLPClassifier(**params)
    for _ in range(6):
        calls.partial_fit(X, y, classes=np.arange(10))
    at_once = MLPClassifier(**{**params, "random_state": np.random.RandomState(0)})
    at_once.partial_fit(X, y, classes=np.arange(10), epochs=6)
    assert_same_training(calls, at_once)
    assert calls._optimizer.schedule_epoch == at_once._optimizer.schedule_epoch == 6
    restarted = fit_quiet(calls.set_params(warm_start=True), X, y)
    assert restarted._optimizer.schedule_epoch == 4  # a fit's schedule starts over


def test_schedules_shape_a_real_fit():
    # A high rate on digits: with the constant rate the training loss soon stalls (bounces)
    # and the fit stops; lowering the rate on a plateau (Adam) or annealing it (cosine, SGD)
    # trains on to a much lower loss and a better test score.
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rng = np.random.default_rng(0)
    test, train = np.split(rng.permutation(len(y)), [600])
    for solver, rate, schedule in (("adam", 0.03, "plateau"), ("sgd", 0.3, "cosine")):
        fits = {
            s: fit_quiet(MLPClassifier((128,), solver=solver, learning_rate_init=rate,
                                       batch_size=32, max_iter=60, tol=0, n_iter_no_change=3,
                                       lr_schedule=s, random_state=0), X[train], y[train])
            for s in (None, schedule)
        }
        assert fits[None].n_iter_ < 30 and fits[schedule].n_iter_ == 60
        assert fits[schedule].loss_ < fits[None].loss_ / 10
        assert fits[schedule].score(X[test], y[test]) > fits[None].score(X[test], y[test])


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(lr_schedule="linear"), ValueError, "The 'lr_schedule' parameter of MLPClassifier"),
        (dict(warmup_epochs=-1), ValueError, "The 'warmup_epochs' parameter of MLPClassifier"),
        (dict(warmup_epochs=1.5), ValueError, "The 'warmup_epochs' parameter of MLPClassifier"),
        (dict(solver="sgd", learning_rate="invscaling", lr_schedule="cosine"), ValueError,
         "use learning_rate='constant' with them"),
        (dict(solver="sgd", learning_rate="adaptive", warmup_epochs=2), ValueError,
         "use learning_rate='constant' with them"),
        (dict(lr_schedule=lambda e: float("nan")), ValueError,
         "lr_schedule\\(0\\) returned nan: it must return a finite real >= 0"),
        (dict(lr_schedule=lambda e: -1.0), ValueError, "lr_schedule\\(0\\) returned -1.0"),
        (dict(lr_schedule=lambda e: "big"), ValueError, "lr_schedule\\(0\\) returned 'big'"),
    ],
)
def test_bad_schedules_are_clear_errors(params, error, match):
    X, y = _digits()
    with pytest.raises(error, match=match):
        MLPClassifier((4,), max_iter=2, **params).fit(X, y)


def test_lbfgs_ignores_the_schedule_as_it_ignores_learning_rate():
    X, y = _digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0)
        b = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0,
                         lr_schedule="cosine", warmup_epochs=3)
        np.testing.assert_array_equal(a.fit(X, y).predict(X), b.fit(X, y).predict(X))


def test_schedules_are_saved_pickled_and_dropped_by_to_sklearn(tmp_path):
    X, y = _digits()
    model = fit_quiet(MLPClassifier((8,), max_iter=3, lr_schedule="cosine", warmup_epochs=1,
                                    random_state=0), X, y)
    fastnn.save(model, tmp_path / "m.fastnn")
    loaded = fastnn.load(tmp_path / "m.fastnn")
    assert (loaded.lr_schedule, loaded.warmup_epochs) == ("cosine", 1)
    assert pickle.loads(pickle.dumps(model)).get_params() == model.get_params()
    params = model.to_sklearn().get_params()
    assert "lr_schedule" not in params and "warmup_epochs" not in params
    with pytest.raises(ValueError, match="cannot save parameter lr_schedule="):
        fastnn.save(model.set_params(lr_schedule=lambda e: 1.0), tmp_path / "c.fastnn")
