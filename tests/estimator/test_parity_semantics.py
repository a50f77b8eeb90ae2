"""Behavioural parity with scikit-learn 1.9's MLPs, point by point.

Every test runs fastnn and scikit-learn on the same data with the same ``random_state`` (float64
unless the dtype is the point) and compares what a user can observe: exceptions (type and
message), stdout with ``verbose``, warnings, fitted attributes (values and types), dtypes, the
learning-rate schedules, warm start / partial_fit / early stopping semantics, and the model
itself. What test_sklearn_parity.py (core numerics, single steps and short fits) and
test_estimator_basics.py (signatures, shapes, pickling) already cover is not repeated here.
"""

import contextlib
import copy
import inspect
import io
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import fastnn

from _util import EXTRA_PARAMS, extra_params, fit_quiet, partial_fit_quiet

CLF = (fastnn.MLPClassifier, SkMLPClassifier)
REG = (fastnn.MLPRegressor, SkMLPRegressor)
PAIRS = [CLF, REG]
PAIR_IDS = ["classifier", "regressor"]
SMALL = dict(hidden_layer_sizes=(6,), random_state=0)


# --------------------------------------------------------------------------- data
def _clf_data(n_classes=3, n_samples=120, seed=0):
    X, y = make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_redundant=1,
        n_classes=n_classes, random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _reg_data(n_targets=1, n_samples=120, seed=0):
    X, y = make_regression(
        n_samples=n_samples, n_features=6, n_targets=n_targets, noise=1.0, random_state=seed
    )
    X = StandardScaler().fit_transform(X)
    return X, (y - y.mean(axis=0)) / y.std(axis=0)


def _data(Fast):
    return _clf_data() if Fast is fastnn.MLPClassifier else _reg_data()


# ------------------------------------------------------------------------ helpers
def _outcome(fn):
    """What calling ``fn`` shows a user: (result or (exception type, message), stdout,
    [(warning category, message), ...])."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            result = (type(exc), str(exc))
    return result, out.getvalue(), [(w.category, str(w.message)) for w in caught]


def _sorted_sets(message):
    """The message with each ``{...}`` set display's items sorted: a set's order depends on
    string hashing (PYTHONHASHSEED), not on the estimator."""
    return re.sub(r"\{([^{}]*)\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def _both(pair, fn):
    """``_outcome`` of ``fn(estimator class)`` for fastnn and scikit-learn."""
    Fast, Sk = pair
    return _outcome(lambda: fn(Fast)), _outcome(lambda: fn(Sk))


def _assert_same_model(fast, sk, rtol=1e-9, atol=1e-11):
    assert len(fast.coefs_) == len(sk.coefs_)
    for a, b in zip(fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_):
        assert a.shape == b.shape
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for attr in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_",
                 "n_features_in_"):
        assert getattr(fast, attr) == getattr(sk, attr), attr
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=rtol)
    if hasattr(sk, "loss_curve_"):
        np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=rtol)
        if sk.validation_scores_ is None:
            assert fast.validation_scores_ is None and fast.best_validation_score_ is None
        else:  # accuracies are exact; R^2 of predictions equal to rounding
            np.testing.assert_allclose(fast.validation_scores_, sk.validation_scores_,
                                       rtol=rtol)
            np.testing.assert_allclose(fast.best_validation_score_, sk.best_validation_score_,
                                       rtol=rtol)
        if sk.best_loss_ is None:
            assert fast.best_loss_ is None
        else:
            np.testing.assert_allclose(fast.best_loss_, sk.best_loss_, rtol=rtol)


def _fit_both(pair, X, y, fit_kwargs=None, **params):
    Fast, Sk = pair
    fit_kwargs = fit_kwargs or {}
    return (fit_quiet(Fast(**params), X, y, **fit_kwargs),
            fit_quiet(Sk(**params), X, y, **fit_kwargs))


# ------------------------------------------------------------- parameter validation
INVALID_PARAMS = [
    dict(alpha=-1),
    dict(activation="x"),
    dict(solver="x"),
    dict(batch_size=0),
    dict(learning_rate_init=0),
    dict(learning_rate="x"),
    dict(momentum=2),
    dict(validation_fraction=1),
    dict(beta_1=1),
    dict(beta_2=-0.1),
    dict(epsilon=0),
    dict(n_iter_no_change=0),
    dict(max_fun=0),
    dict(max_iter=0),
    dict(power_t=-1),
    dict(tol=-1),
    dict(shuffle="yes"),
    dict(hidden_layer_sizes=(4, 0)),
    dict(hidden_layer_sizes=0),
    dict(hidden_layer_sizes="a"),
]


@pytest.mark.parametrize("params", INVALID_PARAMS, ids=lambda p: "-".join(map(str, p.items())))
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_invalid_parameter_raises_sklearns_exception_and_message(pair, params):
    X, y = _data(pair[0])
    fast, sk = _both(pair, lambda C: C(**params).fit(X, y))
    assert isinstance(sk[0], tuple), "scikit-learn accepted it"
    assert fast[0][0] is sk[0][0]
    expected = _sorted_sets(sk[0][1])
    if "activation" in params:  # fastnn's additional activations
        expected = expected.replace(
            "{'identity', 'logistic', 'relu', 'tanh'}",
            "{'elu', 'gelu', 'identity', 'leaky_relu', 'logistic', 'relu', 'silu', 'softplus', "
            "'tanh'}")
    if "solver" in params:  # fastnn's additional solvers
        expected = expected.replace("{'adam', 'lbfgs', 'sgd'}",
                                    "{'adam', 'adamw', 'lbfgs', 'rmsprop', 'rprop', 'sgd'}")
    assert _sorted_sets(fast[0][1]) == expected
    assert fast[2] == sk[2] == []


def test_invalid_loss_raises_sklearns_message():
    X, y = _reg_data()
    fast, sk = _both(REG, lambda C: C(loss="hinge").fit(X, y))
    assert isinstance(sk[0], tuple)
    assert fast[0][0] is sk[0][0]
    # scikit-learn's message, listing fastnn's additional losses too
    assert _sorted_sets(fast[0][1]) == _sorted_sets(sk[0][1]).replace(
        "'poisson', 'squared_error'",
        "'absolute_error', 'huber', 'poisson', 'quantile', 'squared_error'")


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_layer_sizes=3),
        dict(hidden_layer_sizes=np.array([4, 3])),
        dict(hidden_layer_sizes=[]),
        dict(n_iter_no_change=np.inf, max_iter=4),
        dict(random_state=np.random.RandomState(3)),
        dict(shuffle=False, batch_size=7),
        dict(beta_1=0.0, beta_2=0.0),
        dict(solver="sgd", momentum=1.0),
        dict(alpha=0.0, activation="identity"),
        dict(activation="logistic", solver="lbfgs"),
    ],
    ids=["hls-int", "hls-array", "hls-empty", "n_iter_no_change-inf", "RandomState",
         "no-shuffle", "beta-0", "momentum-1", "identity", "logistic-lbfgs"],
)
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_accepted_parameter_variants_fit_like_sklearn(pair, params):
    X, y = _data(pair[0])
    params = {"max_iter": 3, "random_state": 0, **params}
    # deep copies: a RandomState instance is consumed by the fit
    models = [fit_quiet(C(**copy.deepcopy(params)), X, y) for C in pair]
    _assert_same_model(*models, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_set_params_and_repr_like_sklearn(pair):
    fast, sk = _both(pair, lambda C: C().set_params(foo=1))
    assert fast[0][0] is sk[0][0] is ValueError
    # the same message, whose list of valid parameters also has fastnn's extras
    valid = re.search(r"Valid parameters are: \[(.*)\]", fast[0][1]).group(1)
    assert sorted(eval("[" + valid + "]")) == sorted(
        set(pair[1]().get_params()) | set(extra_params(pair[0])))
    assert fast[0][1].split("Valid parameters")[0] == sk[0][1].split("Valid parameters")[0]
    assert repr(pair[0](alpha=0.1)) == repr(pair[1](alpha=0.1))
    assert repr(pair[0](alpha=0.1, n_threads=2)) == f"{pair[0].__name__}(alpha=0.1, n_threads=2)"


@pytest.mark.parametrize("n_threads", [0, -2, 1.5, "4"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_invalid_n_threads_raises_in_sklearns_style(pair, n_threads):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = _data(pair[0])
    Fast = pair[0]
    with pytest.raises(InvalidParameterError) as info:
        Fast(n_threads=n_threads).fit(X, y)
    assert str(info.value) == (
        f"The 'n_threads' parameter of {Fast.__name__} must be None or an int in the range "
        f"[1, inf). Got {n_threads!r} instead."
    )
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------- verbose output and warnings
VERBOSE_CASES = {
    # "Setting learning rate to ..." lines, then "Learning rate too small. Stopping."
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", tol=0.5, n_iter_no_change=2,
                         max_iter=60),
    # "Validation score: ..." lines, stopping on the validation score
    "sgd-early-stopping": dict(solver="sgd", early_stopping=True, n_iter_no_change=3,
                               max_iter=40, learning_rate_init=0.05),
    # plain adam reaching max_iter (ConvergenceWarning)
    "adam-max-iter": dict(solver="adam", max_iter=5),
    # adam converging on the training loss ("Training loss did not improve ... Stopping.")
    "adam-converged": dict(solver="adam", tol=1e-2, learning_rate_init=0.01, max_iter=300),
    "adaptive-early-stopping": dict(solver="sgd", learning_rate="adaptive", tol=0.5,
                                    early_stopping=True, n_iter_no_change=1, max_iter=60),
    "invscaling": dict(solver="sgd", learning_rate="invscaling", max_iter=4),
    "lbfgs": dict(solver="lbfgs", max_iter=5),
}


@pytest.mark.parametrize("case", list(VERBOSE_CASES))
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_verbose_stdout_and_warnings_identical(pair, case):
    X, y = _data(pair[0])
    params = dict(VERBOSE_CASES[case], verbose=True, **SMALL)
    fast, sk = _both(pair, lambda C: C(**params).fit(X, y))
    assert not isinstance(sk[0], tuple) and not isinstance(fast[0], tuple)
    assert fast[1] == sk[1]  # stdout, byte for byte
    assert fast[2] == sk[2]  # warnings: category and text
    if case == "sgd-adaptive":
        assert "Setting learning rate to 0.000200" in fast[1]
        assert "Learning rate too small. Stopping." in fast[1]
    if case == "sgd-early-stopping":
        assert "Validation score: " in fast[1]
    if case == "adam-converged":
        assert "Training loss did not improve more than tol=0.010000" in fast[1]
        assert fast[2] == []
    if case == "adam-max-iter":
        assert fast[2] == [(ConvergenceWarning, "Stochastic Optimizer: Maximum iterations (5) "
                            "reached and the optimization hasn't converged yet.")]


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_verbose_levels_above_one_print_the_same(pair):
    X, y = _data(pair[0])
    fast, sk = _both(pair, lambda C: C(max_iter=2, verbose=3, **SMALL).fit(X, y))
    assert fast[1] == sk[1] != ""


@pytest.mark.parametrize("limit", ["max_iter", "max_fun"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_lbfgs_convergence_warning_text_identical(pair, limit):
    X, y = _data(pair[0])
    fast, sk = _both(pair, lambda C: C(solver="lbfgs", **{limit: 4}, **SMALL).fit(X, y))
    assert fast[2] == sk[2]
    assert len(fast[2]) == 1 and fast[2][0][0] is ConvergenceWarning
    # scipy's own words ("F,G EVALUATIONS" / "f AND g EVALUATIONS" across scipy versions)
    assert ("TOTAL NO. OF ITERATIONS" if limit == "max_iter" else "EVALUATIONS") in (
        fast[2][0][1].upper()
    )
    assert fast[0].n_iter_ == sk[0].n_iter_
    np.testing.assert_allclose(fast[0].loss_, sk[0].loss_, rtol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_batch_size_clipping_warning_identical(pair):
    X, y = _data(pair[0])
    fast, sk = _both(pair, lambda C: C(batch_size=10_000, max_iter=2, **SMALL).fit(X, y))
    assert fast[2] == sk[2]
    assert fast[2][0] == (UserWarning, "Got `batch_size` less than 1 or larger than sample "
                          "size. It is going to be clipped")
    _assert_same_model(fast[0], sk[0])


def test_column_vector_y_warning_identical():
    X, y = _clf_data()
    fast, sk = _both(CLF, lambda C: C(max_iter=2, **SMALL).fit(X, y.reshape(-1, 1)))
    assert fast[2] == sk[2]
    assert any("column-vector y" in str(m) for _, m in fast[2])


# ------------------------------------------------------------------- warm_start
def test_warm_start_requires_the_same_classes():
    X, y = _clf_data()
    for y2 in (y % 2, np.where(y == 2, 3, y)):
        fast, sk = _both(CLF, lambda C: fit_quiet(C(warm_start=True, max_iter=2, **SMALL), X, y)
                         .fit(X, y2))
        assert fast[0] == sk[0]
        assert fast[0][0] is ValueError
        assert fast[0][1].startswith("warm_start can only be used where `y` has the same "
                                     "classes as in the previous call to fit.")


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_warm_start_continues_and_loss_curve_grows_like_sklearn(pair, solver):
    X, y = _data(pair[0])
    models = []
    for C in pair:
        est = C(warm_start=True, max_iter=3, solver=solver, learning_rate_init=0.01, **SMALL)
        fit_quiet(est, X, y)
        first = [c.copy() for c in est.coefs_]
        est.set_params(max_iter=2)
        fit_quiet(est, X, y)
        # continued from the previous weights, not re-initialised
        assert not np.array_equal(est.coefs_[0], first[0])
        fit_quiet(est, X[:90], y[:90])
        models.append(est)
    fast, sk = models
    _assert_same_model(fast, sk)
    assert len(fast.loss_curve_) == 3 + 2 + 2
    assert fast.n_iter_ == 2  # reset on every fit, as scikit-learn does
    assert fast.t_ == sk.t_ == 5 * X.shape[0] + 2 * 90


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_warm_start_switching_solver_like_sklearn(pair):
    X, y = _data(pair[0])
    models = []
    for C in pair:
        est = fit_quiet(C(warm_start=True, max_iter=3, **SMALL), X, y)
        est.set_params(solver="lbfgs")
        fit_quiet(est, X, y)
        models.append(est)
    fast, sk = models
    _assert_same_model(fast, sk)
    assert len(fast.loss_curve_) == 3  # lbfgs does not extend it
    # ... and back from lbfgs: scikit-learn has no loss_curve_ to extend (AttributeError)
    fast, sk = _both(pair, lambda C: fit_quiet(C(warm_start=True, solver="lbfgs", max_iter=3,
                                                 **SMALL), X, y)
                     .set_params(solver="adam").fit(X, y))
    assert fast[0] == sk[0]
    assert fast[0][0] is AttributeError


def test_warm_start_toggling_early_stopping_fails_like_sklearn():
    X, y = _clf_data()
    for first, second in ((True, False), (False, True)):
        fast, sk = _both(
            CLF, lambda C: fit_quiet(C(warm_start=True, early_stopping=first, max_iter=2,
                                       **SMALL), X, y)
            .set_params(early_stopping=second).fit(X, y))
        assert fast[0] == sk[0]
        assert fast[0][0] in (TypeError, AttributeError)


# ------------------------------------------------------------------- partial_fit
def test_partial_fit_classes_rules_identical():
    X, y = _clf_data()
    cases = {
        "no classes on first call": lambda C: C(**SMALL).partial_fit(X, y),
        "unseen label": lambda C: partial_fit_quiet(C(**SMALL), X, y % 2, classes=[0, 1])
        .partial_fit(X, y),
        "different classes later": lambda C: partial_fit_quiet(C(**SMALL), X, y,
                                                               classes=[0, 1, 2])
        .partial_fit(X, y, classes=[0, 1, 2, 3]),
        "unseen label after fit": lambda C: fit_quiet(C(max_iter=2, **SMALL), X, y % 2)
        .partial_fit(X, y),
    }
    for name, fn in cases.items():
        fast, sk = _both(CLF, fn)
        assert isinstance(sk[0], tuple), name
        assert fast[0] == sk[0], name


def test_partial_fit_repeated_identical_classes_and_subsets_accepted():
    X, y = _clf_data()
    models = []
    for C in CLF:
        est = C(solver="sgd", batch_size=20, **SMALL)
        est.partial_fit(X[:40], y[:40], classes=np.array([0, 1, 2]))
        est.partial_fit(X[40:80], y[40:80], classes=[0, 1, 2])  # same classes again: fine
        est.partial_fit(X[80:][y[80:] < 2], y[80:][y[80:] < 2])  # a subset of the classes
        models.append(est)
    _assert_same_model(*models)
    np.testing.assert_array_equal(models[0].classes_, [0, 1, 2])


def test_partial_fit_is_unavailable_for_lbfgs_classifier_like_sklearn():
    fast, sk = _both(CLF, lambda C: C(solver="lbfgs").partial_fit)
    assert fast[0] == sk[0]
    assert fast[0] == (AttributeError, "This 'MLPClassifier' has no attribute 'partial_fit'")
    assert hasattr(fastnn.MLPClassifier(solver="lbfgs"), "partial_fit") is False


def test_lbfgs_regressor_partial_fit_runs_full_lbfgs_like_sklearn():
    # scikit-learn 1.9's MLPRegressor guards partial_fit with
    # ``available_if(lambda est: est._check_solver)`` (the bound method, never called, so
    # always truthy): the regressor has partial_fit for lbfgs, and each call runs a whole
    # L-BFGS optimisation (max_iter iterations) from the current weights.
    assert hasattr(SkMLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(fastnn.MLPRegressor(solver="lbfgs"), "partial_fit")
    X, y = _reg_data()
    models = []
    for C in REG:
        est = C(solver="lbfgs", max_iter=5, **SMALL)
        steps = []
        for _ in range(2):
            partial_fit_quiet(est, X, y)
            steps.append((est.n_iter_, float(est.loss_)))
        assert not hasattr(est, "loss_curve_")
        models.append((est, steps))
    (fast, fast_steps), (sk, sk_steps) = models
    assert [n for n, _ in fast_steps] == [n for n, _ in sk_steps] == [5, 5]
    np.testing.assert_allclose([lo for _, lo in fast_steps], [lo for _, lo in sk_steps],
                               rtol=1e-9)
    assert fast_steps[1][1] < fast_steps[0][1]  # the second call continued
    _assert_same_model(fast, sk, rtol=1e-8, atol=1e-10)
    assert fast.t_ == sk.t_ == 0


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_partial_fit_with_early_stopping_raises_sklearns_error(pair):
    X, y = _data(pair[0])
    kw = {"classes": np.unique(y)} if pair[0] is fastnn.MLPClassifier else {}
    fast, sk = _both(pair, lambda C: C(early_stopping=True, **SMALL).partial_fit(X, y, **kw))
    assert fast[0] == sk[0] == (ValueError, "partial_fit does not support early_stopping=True")


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_partial_fit_after_fit_reuses_the_optimizer_like_sklearn(pair):
    # fit then partial_fit keeps the Adam state (step count, moments) of the fit
    X, y = _data(pair[0])
    models = []
    for C in pair:
        est = fit_quiet(C(max_iter=3, learning_rate_init=0.01, **SMALL), X, y)
        est.partial_fit(X, y)
        est.partial_fit(X[:50], y[:50])
        models.append(est)
    _assert_same_model(*models)
    assert models[0]._optimizer.t == models[1]._optimizer.t


def test_multilabel_partial_fit_like_sklearn():
    X, _ = _clf_data()
    Y = (X[:, :3] > 0).astype(int)
    models = []
    for C in CLF:
        est = C(solver="sgd", learning_rate_init=0.05, **SMALL)
        # multilabel: the classes are the label columns' indices
        est.partial_fit(X[:60], Y[:60], classes=[0, 1, 2])
        est.partial_fit(X[60:], Y[60:])
        models.append(est)
    _assert_same_model(*models)
    np.testing.assert_array_equal(models[0].classes_, [0, 1, 2])
    np.testing.assert_array_equal(models[0].predict(X), models[1].predict(X))
    # passing the label values instead is an error in both
    fast, sk = _both(CLF, lambda C: C(**SMALL).partial_fit(X, Y, classes=[0, 1]))
    assert fast[0] == sk[0] and fast[0][0] is ValueError


# ---------------------------------------------------------------- early stopping
@pytest.mark.parametrize(
    "pair,solver,lr",
    [(CLF, "sgd", 0.05), (CLF, "adam", 0.01), (REG, "sgd", 0.1), (REG, "adam", 0.05)],
    ids=["classifier-sgd", "classifier-adam", "regressor-sgd", "regressor-adam"],
)
def test_early_stopping_trajectory_and_best_weights_like_sklearn(pair, solver, lr):
    X, y = _data(pair[0])
    fast, sk = _fit_both(pair, X, y, solver=solver, early_stopping=True,
                         validation_fraction=0.25, n_iter_no_change=4, max_iter=200,
                         learning_rate_init=lr, hidden_layer_sizes=(16,), random_state=0)
    assert sk.n_iter_ < 200  # stopped early
    _assert_same_model(fast, sk)
    assert fast.best_loss_ is None
    assert isinstance(fast.validation_scores_, list)
    assert len(fast.validation_scores_) == fast.n_iter_ == len(fast.loss_curve_)
    assert fast.best_validation_score_ == max(fast.validation_scores_)
    # the weights are the best epoch's, restored after the last epoch: not the last epoch's
    best_epoch = int(np.argmax(fast.validation_scores_)) + 1
    assert best_epoch < fast.n_iter_
    Fast = pair[0]
    replay = fit_quiet(Fast(solver=solver, early_stopping=True, validation_fraction=0.25,
                            n_iter_no_change=10_000, max_iter=best_epoch, learning_rate_init=lr,
                            hidden_layer_sizes=(16,), random_state=0), X, y)
    for a, b in zip(fast.coefs_ + fast.intercepts_, replay.coefs_ + replay.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_with_sample_weight_like_sklearn():
    X, y = _clf_data()
    sw = np.random.RandomState(0).uniform(0.2, 2.0, X.shape[0])
    fast, sk = _fit_both(CLF, X, y, fit_kwargs={"sample_weight": sw}, early_stopping=True,
                         n_iter_no_change=3, max_iter=30, learning_rate_init=0.01, **SMALL)
    _assert_same_model(fast, sk)


def test_early_stopping_multilabel_not_stratified_like_sklearn():
    X, _ = _clf_data()
    Y = (X[:, :3] > 0).astype(int)
    fast, sk = _fit_both(CLF, X, Y, early_stopping=True, n_iter_no_change=3, max_iter=30,
                         learning_rate_init=0.01, **SMALL)
    _assert_same_model(fast, sk)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_early_stopping_too_small_validation_set_message(pair):
    X, y = _data(pair[0])
    fast, sk = _both(pair, lambda C: C(early_stopping=True, validation_fraction=0.01,
                                       **SMALL).fit(X[:60], y[:60]))
    assert fast[0] == sk[0]
    assert fast[0][0] is ValueError and "validation set is too small" in fast[0][1]


# ------------------------------------------------------------ learning-rate schedules
def test_adaptive_learning_rate_sequence_identical():
    # each "Setting learning rate to" line is one division by 5; the final rate too
    X, y = _clf_data()
    params = dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.2, tol=0.05,
                  n_iter_no_change=1, max_iter=200, verbose=True, **SMALL)
    fast, sk = _both(CLF, lambda C: C(**params).fit(X, y))
    rates = [re.findall(r"Setting learning rate to ([0-9.]+)", out[1]) for out in (fast, sk)]
    assert rates[0] == rates[1]
    assert rates[0][:3] == ["0.040000", "0.008000", "0.001600"]
    assert fast[0]._optimizer.learning_rate == sk[0]._optimizer.learning_rate
    _assert_same_model(fast[0], sk[0])


@pytest.mark.parametrize("power_t", [0.25, 0.5, 1.0])
def test_invscaling_schedule_identical(power_t):
    X, y = _reg_data()
    fast, sk = _fit_both(REG, X, y, solver="sgd", learning_rate="invscaling", power_t=power_t,
                         learning_rate_init=0.1, batch_size=32, max_iter=6, **SMALL)
    assert fast._optimizer.learning_rate == sk._optimizer.learning_rate
    assert fast._optimizer.learning_rate == 0.1 / (6 * X.shape[0] + 1) ** power_t
    _assert_same_model(fast, sk)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("nesterov", [True, False], ids=["nesterov", "plain-momentum"])
def test_sgd_momentum_and_nesterov_like_sklearn(nesterov, momentum):
    X, y = _clf_data()
    fast, sk = _fit_both(CLF, X, y, solver="sgd", nesterovs_momentum=nesterov,
                         momentum=momentum, learning_rate_init=0.05, batch_size=25,
                         max_iter=4, **SMALL)
    _assert_same_model(fast, sk)


def test_adam_learning_rate_attribute_like_sklearn():
    X, y = _clf_data()
    fast, sk = _fit_both(CLF, X, y, beta_1=0.8, beta_2=0.99, epsilon=1e-6, max_iter=4,
                         learning_rate_init=0.01, **SMALL)
    assert fast._optimizer.t == sk._optimizer.t
    np.testing.assert_allclose(fast._optimizer.learning_rate, sk._optimizer.learning_rate,
                               rtol=1e-15)
    _assert_same_model(fast, sk)


# ------------------------------------------------------- targets: multilabel, outputs
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multilabel_classification_fit_like_sklearn(solver):
    X, _ = _clf_data()
    Y = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5].astype(int)
    fast, sk = _fit_both(CLF, X, Y, solver=solver, max_iter=5, learning_rate_init=0.01,
                         **SMALL)
    _assert_same_model(fast, sk, rtol=1e-8, atol=1e-10)
    assert fast.out_activation_ == "logistic"
    np.testing.assert_array_equal(fast.classes_, sk.classes_)
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))
    np.testing.assert_allclose(fast.predict_proba(X), sk.predict_proba(X), rtol=1e-8)
    assert fast.score(X, Y) == sk.score(X, Y)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_lbfgs_regression_like_sklearn(loss):
    X, y = _reg_data(n_targets=2 if loss == "squared_error" else 1)
    if loss == "poisson":
        y = np.exp(0.5 * y)  # y >= 0
    fast, sk = _fit_both(REG, X, y, solver="lbfgs", loss=loss, max_iter=15, **SMALL)
    _assert_same_model(fast, sk, rtol=1e-7, atol=1e-9)
    assert fast.out_activation_ == ("exp" if loss == "poisson" else "identity")
    np.testing.assert_allclose(fast.predict(X), sk.predict(X), rtol=1e-7, atol=1e-9)


def test_poisson_with_negative_targets_behaves_like_sklearn():
    # scikit-learn does not reject y < 0 for the poisson loss: the loss is nan (no error)
    X, y = _reg_data()
    fast, sk = _fit_both(REG, X, y, loss="poisson", max_iter=3, **SMALL)
    assert np.isnan(sk.loss_) and np.isnan(fast.loss_)
    assert len(fast.loss_curve_) == len(sk.loss_curve_)


# ------------------------------------------------------------------- sample_weight
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_sample_weight_with_zeros_like_sklearn(pair, solver):
    X, y = _data(pair[0])
    sw = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0])
    sw[::5] = 0.0
    fast, sk = _fit_both(pair, X, y, fit_kwargs={"sample_weight": sw}, solver=solver,
                         batch_size=32, max_iter=4, learning_rate_init=0.01, **SMALL)
    _assert_same_model(fast, sk, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_penalty_is_normalised_by_the_weight_sum_like_sklearn(solver):
    # the loss is sum(w * l) / sum(w) + 0.5 * alpha * ||W||^2 / sum(w): with a constant weight
    # c, the data term is unchanged and the penalty is alpha / c's, as in scikit-learn
    X, y = _clf_data()
    common = dict(solver=solver, max_iter=4, batch_size=40, shuffle=False,
                  learning_rate_init=0.05, **SMALL)
    fast, sk = _fit_both(CLF, X, y, fit_kwargs={"sample_weight": np.full(X.shape[0], 4.0)},
                         alpha=2.0, **common)
    _assert_same_model(fast, sk, rtol=1e-8, atol=1e-10)
    plain = fit_quiet(fastnn.MLPClassifier(alpha=0.5, **common), X, y)
    for a, b in zip(fast.coefs_, plain.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_minibatch_with_zero_weight_sum_raises_sklearns_error(pair):
    X, y = _data(pair[0])
    sw = np.ones(X.shape[0])
    sw[:20] = 0.0  # the whole first mini-batch of 10 rows (no shuffle)
    fast, sk = _both(pair, lambda C: C(solver="sgd", shuffle=False, batch_size=10, max_iter=2,
                                       **SMALL).fit(X, y, sample_weight=sw))
    assert fast[0] == sk[0] == (ZeroDivisionError, "Weights sum to zero, can't be normalized")
    assert fast[2] == sk[2] == []


@pytest.mark.parametrize(
    "sample_weight",
    [np.zeros(120), np.ones(10), -np.ones(120), 2.0, np.arange(120)],
    ids=["all-zero", "wrong-length", "negative", "scalar", "int"],
)
def test_sample_weight_validation_like_sklearn(sample_weight):
    X, y = _clf_data()
    fast, sk = _both(CLF, lambda C: C(max_iter=2, **SMALL).fit(X, y, sample_weight=sample_weight))
    if isinstance(sk[0], tuple):
        assert fast[0] == sk[0]
    else:
        _assert_same_model(fast[0], sk[0])


# ------------------------------------------------------ fitted attributes: types, dtypes
def _attribute_types(est):
    def kind(v):
        if isinstance(v, list):
            return ("list", tuple(sorted({kind(x) for x in v}, key=str)))
        return (type(v), getattr(v, "dtype", None))

    return {k: kind(v) for k, v in vars(est).items()
            if k.endswith("_") and not k.startswith("_")}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("early_stopping", [False, True], ids=["", "early-stopping"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_fitted_attribute_types_and_dtypes_like_sklearn(pair, solver, early_stopping, dtype):
    # the same attributes, each of the same Python type (loss_ / loss_curve_ items /
    # best_loss_, int n_iter_ / t_, ...) and array dtype; with float32 X, sgd/adam keep float32
    # weights and outputs; lbfgs returns float64 weights (scipy's solution), as scikit-learn.
    X, y = _data(pair[0])
    X = X.astype(dtype)
    fast, sk = _fit_both(pair, X, y, solver=solver, early_stopping=early_stopping,
                         max_iter=3, **SMALL)
    fast_types = _attribute_types(fast)
    # fastnn's one addition: the validation loss, a list of floats with early stopping
    added = fast_types.pop("validation_loss_curve_", None)
    assert added == (None if solver == "lbfgs" else ("list", ((float, None),)) if early_stopping
                     else (type(None), None))
    assert fast_types == _attribute_types(sk)
    assert type(fast.n_iter_) is int and type(fast.t_) is int
    # np.float64 losses, or np.float32 where scipy's xlogy makes scikit-learn's float32
    # multiclass log-loss float32 (scipy 1.13, 1.18): whichever scikit-learn's is here
    assert type(fast.loss_) in (np.float64, np.float32) and type(fast.loss_) is type(sk.loss_)
    if solver != "lbfgs":
        assert all(type(v) is type(fast.loss_) for v in fast.loss_curve_)
        assert (fast.best_loss_ is None) == early_stopping
    expected = dtype if solver != "lbfgs" else np.float64
    assert all(c.dtype == expected for c in fast.coefs_ + fast.intercepts_)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        if hasattr(sk, method):
            a, b = getattr(fast, method)(X), getattr(sk, method)(X)
            assert a.dtype == b.dtype and a.shape == b.shape, method
    # float64 X on a model (float32 or float64) gives float64 outputs, as numpy promotes
    out = fast.predict_proba(X.astype(np.float64)) if hasattr(fast, "predict_proba") else (
        fast.predict(X.astype(np.float64)))
    assert out.dtype == np.float64


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_float32_model_continued_on_float64_X_stays_float32_like_sklearn(pair, how):
    # scikit-learn updates its parameters in place: a float32 model continued on float64 X
    # computes in float64 (X @ float32 weights promotes) and keeps float32 weights
    X, y = _data(pair[0])
    kw = {"classes": np.unique(y)} if pair[0] is fastnn.MLPClassifier and how == "partial_fit" \
        else {}
    models = []
    for C in pair:
        est = C(warm_start=how == "warm_start", max_iter=3, learning_rate_init=0.01, **SMALL)
        if how == "warm_start":
            fit_quiet(est, X.astype(np.float32), y)
            fit_quiet(est, X, y)
        else:
            est.partial_fit(X.astype(np.float32), y, **kw)
            est.partial_fit(X, y)
        models.append(est)
    fast, sk = models
    assert all(c.dtype == np.float32 for c in fast.coefs_ + fast.intercepts_)
    _assert_same_model(fast, sk, rtol=1e-5, atol=1e-6)
    out = "predict_proba" if hasattr(sk, "predict_proba") else "predict"
    assert getattr(fast, out)(X.astype(np.float32)).dtype == np.float32
    assert getattr(fast, out)(X).dtype == getattr(sk, out)(X).dtype == np.float64


def test_known_differences_from_sklearn():
    """Where fastnn deliberately differs (README.md (scikit-learn compatibility), "differs")."""
    X, y = _reg_data()
    # (1) a regressor warm-started with another number of outputs: scikit-learn broadcasts
    # the old network's outputs against y silently (n_outputs_ becomes 1 while coefs_ keep 2
    # outputs and predict returns 2 columns); fastnn raises.
    sk = fit_quiet(SkMLPRegressor(warm_start=True, max_iter=2, **SMALL), X, np.c_[y, y])
    fit_quiet(sk, X, y)
    assert sk.n_outputs_ == 1 and sk.predict(X).shape == (X.shape[0], 2)
    fast = fit_quiet(fastnn.MLPRegressor(warm_start=True, max_iter=2, **SMALL), X, np.c_[y, y])
    with pytest.raises(ValueError):
        fit_quiet(fast, X, y)
    # (2) string targets for the regressor: both raise, scikit-learn a numpy UFuncTypeError
    # (a TypeError) from inside the loss, fastnn a ValueError from the float conversion.
    ys = np.array(["a"] * X.shape[0])
    with pytest.raises(TypeError):
        fit_quiet(SkMLPRegressor(max_iter=2, **SMALL), X, ys)
    with pytest.raises(ValueError, match="could not convert string to float"):
        fit_quiet(fastnn.MLPRegressor(max_iter=2, **SMALL), X, ys)


# ------------------------------------------------------------ tags, routing, public API
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_sklearn_tags_identical(pair):
    from sklearn.utils import get_tags

    Fast, Sk = pair
    for params in ({}, {"solver": "lbfgs"}, {"early_stopping": True}):
        assert get_tags(Fast(**params)) == get_tags(Sk(**params))


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_metadata_routing_identical(pair):
    import sklearn

    Fast, Sk = pair
    with sklearn.config_context(enable_metadata_routing=True):
        routing = []
        for C in pair:
            est = C().set_fit_request(sample_weight=True).set_score_request(sample_weight="w")
            est.set_partial_fit_request(sample_weight=False)
            routing.append(est.get_metadata_routing())
        # the same requests, and fastnn's fit also takes the validation set (not requested)
        assert str(routing[0].partial_fit) == str(routing[1].partial_fit)
        assert str(routing[0].score) == str(routing[1].score)
        added = {"X_val": None, "y_val": None, "sample_weight_val": None}
        assert routing[0].fit.requests == {**routing[1].fit.requests, **added}
    for method in ("set_fit_request", "set_partial_fit_request", "set_score_request"):
        fast_params = inspect.signature(getattr(Fast, method)).parameters
        sk_params = inspect.signature(getattr(Sk, method)).parameters
        assert set(fast_params) == set(sk_params) | (
            {"X_val", "y_val", "sample_weight_val"} if method == "set_fit_request" else set())


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_public_api_is_sklearns_plus_extras(pair, solver):
    Fast, Sk = pair

    def public(est):
        return {n for n in dir(est) if not n.startswith("_")}

    fast, sk = Fast(solver=solver), Sk(solver=solver)
    assert public(sk) <= public(fast)
    # set_callbacks: scikit-learn's callback API (sklearn.callback), which its MLPs lack
    assert public(fast) - public(sk) <= set(extra_params(Fast)) | {
        "to_sklearn", "set_callbacks", "hidden_activations"}
    # fit and partial_fit take fastnn's keyword-only additions after scikit-learn's parameters
    added = {"fit": ["X_val", "y_val", "sample_weight_val"], "partial_fit": ["epochs"]}
    for name in public(sk):
        attr = getattr(Sk, name, None)
        if callable(attr) and not name.startswith("set_") and name != "get_metadata_routing":
            fast_sig, sk_sig = inspect.signature(getattr(Fast, name)), inspect.signature(attr)
            extra = list(fast_sig.parameters)[len(sk_sig.parameters):]
            assert extra == added.get(name, []), name
            assert all(fast_sig.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY
                       for p in extra), name
            assert fast_sig.replace(parameters=list(fast_sig.parameters.values())[
                :len(sk_sig.parameters)]) == sk_sig, name


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 7, 9]), np.array(["a", "bb", "c"]), np.array(["a", "bb", "c"], dtype=object),
     np.array([1.0, 2.0, 4.0]), np.array([True, False])],
    ids=["int", "str", "object", "float", "bool"],
)
def test_classes_dtype_and_predict_dtype_like_sklearn(labels):
    X, y = _clf_data(n_classes=len(labels))
    yl = labels[y]
    fast, sk = _fit_both(CLF, X, yl, max_iter=3, **SMALL)
    assert fast.classes_.dtype == sk.classes_.dtype
    np.testing.assert_array_equal(fast.classes_, sk.classes_)
    assert fast.predict(X).dtype == sk.predict(X).dtype
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: (X * 4).astype(np.int64),
        lambda X: (X * 4).astype(np.int32),
        lambda X: X > 0,
        lambda X: X.astype(np.float16),
        lambda X: np.asfortranarray(X),
        lambda X: X[:, ::-1].copy()[:, ::-1],  # non-contiguous view
        lambda X: X.tolist(),
    ],
    ids=["int64", "int32", "bool", "float16", "F-ordered", "strided", "list"],
)
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_other_input_types_are_cast_like_sklearn(pair, convert):
    X, y = _data(pair[0])
    Xc = convert(X)
    fast, sk = _fit_both(pair, Xc, y, max_iter=3, **SMALL)
    _assert_same_model(fast, sk)
    a, b = fast.predict(Xc), sk.predict(Xc)
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11) if a.dtype.kind == "f" else (
        np.testing.assert_array_equal(a, b))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_read_only_X_and_y_like_sklearn(solver):
    X, y = _clf_data()
    X.setflags(write=False)
    y.setflags(write=False)
    fast, sk = _fit_both(CLF, X, y, solver=solver, max_iter=3, **SMALL)
    _assert_same_model(fast, sk, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(fast.predict_proba(X), fast.predict_proba(X.copy()))


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda X, y: (X[:, :0], y),
        lambda X, y: (X[:0], y[:0]),
        lambda X, y: (X.reshape(X.shape[0], 2, 3), y),
        lambda X, y: (X + 1j, y),
        lambda X, y: (X, y[:-1]),
        lambda X, y: (X[:1], y[:1]),
    ],
    ids=["no-features", "no-samples", "3d", "complex", "length-mismatch", "one-sample"],
)
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_malformed_input_errors_like_sklearn(pair, make_bad):
    X, y = _data(pair[0])
    Xb, yb = make_bad(X, y)
    fast, sk = _both(pair, lambda C: C(max_iter=2, **SMALL).fit(Xb, yb))
    if isinstance(sk[0], tuple):
        assert fast[0] == sk[0]
    else:
        assert not isinstance(fast[0], tuple)


def test_continuous_target_for_classifier_error_like_sklearn():
    X, y = _reg_data()
    fast, sk = _both(CLF, lambda C: C(max_iter=2, **SMALL).fit(X, y))
    assert fast[0] == sk[0]
    assert fast[0][0] is ValueError


def test_single_class_classifier_like_sklearn():
    X, _ = _clf_data()
    y = np.full(X.shape[0], 4)
    fast, sk = _fit_both(CLF, X, y, max_iter=3, **SMALL)
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))
    assert fast.predict_proba(X).shape == sk.predict_proba(X).shape
    _assert_same_model(fast, sk)


def test_predict_feature_count_message_like_sklearn():
    X, y = _clf_data()
    fast, sk = _fit_both(CLF, X, y, max_iter=2, **SMALL)
    for method in ("predict", "predict_proba", "predict_log_proba", "score"):
        args = (X[:, :3],) if method != "score" else (X[:, :3], y)
        a = _outcome(lambda: getattr(fast, method)(*args))
        b = _outcome(lambda: getattr(sk, method)(*args))
        assert a[0] == b[0], method


def test_not_fitted_message_like_sklearn():
    X, _ = _clf_data()
    for pair in PAIRS:
        fast, sk = _both(pair, lambda C: C().predict(X))
        assert fast[0][0] is sk[0][0]
        assert fast[0][1] == sk[0][1].replace("sklearn.neural_network._multilayer_perceptron",
                                              "fastnn._mlp")


def test_pandas_dataframe_sets_feature_names_like_sklearn():
    pd = pytest.importorskip("pandas")
    X, y = _clf_data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fast, sk = _fit_both(CLF, df, y, max_iter=3, **SMALL)
    np.testing.assert_array_equal(fast.feature_names_in_, sk.feature_names_in_)
    _assert_same_model(fast, sk)
    # predicting on a bare array after fitting on a DataFrame warns as sklearn does
    a = _outcome(lambda: fast.predict(X))
    b = _outcome(lambda: sk.predict(X))
    assert a[2] == b[2] and a[2]
    # and renamed columns are an error, with sklearn's message
    bad = df.rename(columns={"f0": "zz"})
    a, b = _outcome(lambda: fast.predict(bad)), _outcome(lambda: sk.predict(bad))
    assert a[0] == b[0]


# --------------------------------------------------- same random_state -> same model
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, random_state=0)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_digits_one_epoch_coefs_equal_sklearns(digits, solver):
    X_train, _, y_train, _ = digits
    fast, sk = _fit_both(CLF, X_train, y_train, solver=solver, max_iter=1, random_state=0)
    for a, b in zip(fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=0)
    assert fast.loss_ == pytest.approx(sk.loss_, rel=1e-12)


def test_digits_default_fit_predicts_like_sklearn(digits):
    # MLPClassifier(random_state=0) with every default (adam, (100,), max_iter=200)
    X_train, X_test, y_train, _ = digits
    fast, sk = _fit_both(CLF, X_train, y_train, random_state=0)
    assert fast.n_iter_ == sk.n_iter_
    agreement = np.mean(fast.predict(X_test) == sk.predict(X_test))
    assert agreement >= 0.99, agreement


# ------------------------------------------------------------- compatibility doc
def test_compatibility_doc_lists_everything():
    """README.md (scikit-learn compatibility) has a row for every parameter, fitted attribute and public
    method of scikit-learn's two MLPs (enumerated from scikit-learn itself)."""
    import os

    path = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "README.md")
    with open(path, encoding="utf-8") as f:
        rows = re.findall(r"^\| `(\w+)", f.read(), re.M)
    for _, Sk in PAIRS:
        names = set(inspect.signature(Sk).parameters)
        # cleandoc: Python 3.13 already strips a docstring's indentation, earlier ones do not
        doc = inspect.cleandoc(Sk.__doc__)
        attributes = doc.split("Attributes\n----------\n")[1].split("\nSee Also")[0]
        names |= set(re.findall(r"^(\w+) :", attributes, re.M))
        names |= {n for n in dir(Sk) if not n.startswith("_") and callable(getattr(Sk, n))}
        names.add("__sklearn_tags__")
        missing = names - set(rows)
        assert not missing, f"{Sk.__name__}: {sorted(missing)}"
    assert set(EXTRA_PARAMS) | {"loss", "to_sklearn"} <= set(rows)
