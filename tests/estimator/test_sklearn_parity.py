"""float64 parity with scikit-learn 1.9's MLPClassifier / MLPRegressor.

Reference values come from scikit-learn itself (including its private
``_backprop`` and its ``SGDOptimizer`` / ``AdamOptimizer``).
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches

import fastnn
from fastnn import _core

from _reference import (
    SKLEARN_HIDDEN_ACTIVATIONS,
    make_targets,
    n_params,
    sklearn_backprop,
)
from _util import fit_quiet, partial_fit_quiet, run_epoch

RTOL = 1e-10
ATOL = 1e-12


# --------------------------------------------------------------------------- data
def _clf_data(n_classes=2, n_samples=60, n_features=8, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=5,
        n_redundant=1,
        n_classes=n_classes,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _reg_data(n_targets=1, n_samples=60, n_features=8, seed=0):
    X, y = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_targets=n_targets,
        noise=1.0,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean(axis=0)) / y.std(axis=0)
    return X, y


def _poisson_data(n_samples=60, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    w = rng.normal(scale=0.3, size=n_features)
    y = rng.poisson(np.exp(X @ w + 0.5)).astype(float)
    y[0] = max(y[0], 1.0)  # strictly positive sum
    return X, y


def _assert_same_fitted_params(fast, sk, rtol=RTOL, atol=ATOL):
    assert len(fast.coefs_) == len(sk.coefs_)
    for a, b in zip(fast.coefs_, sk.coefs_):
        assert a.shape == b.shape
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert len(fast.intercepts_) == len(sk.intercepts_)
    for a, b in zip(fast.intercepts_, sk.intercepts_):
        assert a.shape == b.shape
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _assert_same_fit_state(fast, sk, rtol=RTOL, atol=ATOL):
    _assert_same_fitted_params(fast, sk, rtol, atol)
    assert fast.n_iter_ == sk.n_iter_
    assert fast.t_ == sk.t_
    assert fast.n_layers_ == sk.n_layers_
    assert fast.n_outputs_ == sk.n_outputs_
    assert fast.out_activation_ == sk.out_activation_
    assert fast.n_features_in_ == sk.n_features_in_
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=rtol)
    if hasattr(sk, "loss_curve_"):
        assert len(fast.loss_curve_) == len(sk.loss_curve_)
        np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=rtol)


def _copy_weights(fast, sk):
    fast.coefs_ = [c.copy() for c in sk.coefs_]
    fast.intercepts_ = [b.copy() for b in sk.intercepts_]


# ------------------------------------------------- predictions with copied weights
@pytest.mark.parametrize("activation", SKLEARN_HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_predictions_match_sklearn_with_copied_weights(activation, n_classes):
    X, y = _clf_data(n_classes=n_classes)
    kw = dict(hidden_layer_sizes=(9, 6), activation=activation, random_state=0,
              alpha=0.01)
    sk = fit_quiet(SkMLPClassifier(solver="lbfgs", max_iter=60, **kw), X, y)
    fast = fit_quiet(fastnn.MLPClassifier(max_iter=1, **kw), X, y)
    _copy_weights(fast, sk)

    X_test = np.random.RandomState(1).normal(size=(40, X.shape[1]))
    np.testing.assert_allclose(
        fast.predict_proba(X_test), sk.predict_proba(X_test), rtol=RTOL, atol=ATOL
    )
    with np.errstate(divide="ignore"):  # a saturated probability may be exactly 0
        np.testing.assert_allclose(
            fast.predict_log_proba(X_test),
            sk.predict_log_proba(X_test),
            rtol=1e-9,
            atol=1e-11,
        )
    np.testing.assert_array_equal(fast.predict(X_test), sk.predict(X_test))
    assert fast.score(X, y) == sk.score(X, y)


def test_multilabel_classifier_predictions_match_sklearn_with_copied_weights():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 5))
    Y = (X[:, :3] + 0.3 * rng.normal(size=(80, 3)) > 0).astype(int)
    kw = dict(hidden_layer_sizes=(7,), activation="tanh", random_state=0)
    sk = fit_quiet(SkMLPClassifier(solver="lbfgs", max_iter=100, **kw), X, Y)
    fast = fit_quiet(fastnn.MLPClassifier(max_iter=1, **kw), X, Y)
    assert fast.out_activation_ == "logistic"
    _copy_weights(fast, sk)
    np.testing.assert_allclose(
        fast.predict_proba(X), sk.predict_proba(X), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))


@pytest.mark.parametrize("activation", SKLEARN_HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_predictions_match_sklearn_with_copied_weights(activation, n_targets):
    X, y = _reg_data(n_targets=n_targets)
    kw = dict(hidden_layer_sizes=(9, 6), activation=activation, random_state=0)
    sk = fit_quiet(SkMLPRegressor(solver="lbfgs", max_iter=100, **kw), X, y)
    fast = fit_quiet(fastnn.MLPRegressor(max_iter=1, **kw), X, y)
    _copy_weights(fast, sk)
    X_test = np.random.RandomState(1).normal(size=(40, X.shape[1]))
    pred = fast.predict(X_test)
    assert pred.shape == sk.predict(X_test).shape
    np.testing.assert_allclose(pred, sk.predict(X_test), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.score(X, y), sk.score(X, y), rtol=1e-10)


def test_poisson_regressor_predictions_match_sklearn_with_copied_weights():
    X, y = _poisson_data()
    kw = dict(loss="poisson", hidden_layer_sizes=(5,), activation="tanh", random_state=0)
    sk = fit_quiet(SkMLPRegressor(solver="lbfgs", max_iter=50, **kw), X, y)
    fast = fit_quiet(fastnn.MLPRegressor(max_iter=1, learning_rate_init=1e-4, **kw), X, y)
    assert fast.out_activation_ == "exp"
    _copy_weights(fast, sk)
    pred = fast.predict(X)
    assert np.all(pred > 0)
    np.testing.assert_allclose(pred, sk.predict(X), rtol=RTOL, atol=ATOL)


# ----------------------------------------------- loss/gradient vs sklearn _backprop
# (kind, output activation, core loss name, n_outputs)
BACKPROP_CASES = [
    ("clf", "logistic", "binary_log_loss", 1),
    ("clf", "logistic", "binary_log_loss", 3),
    ("clf", "softmax", "log_loss", 4),
    ("reg", "identity", "squared_error", 1),
    ("reg", "identity", "squared_error", 2),
    ("reg", "exp", "poisson", 1),
    ("reg", "exp", "poisson", 2),
]
BACKPROP_IDS = [f"{o}-{l}-{k}" for _, o, l, k in BACKPROP_CASES]


def _sk_estimator(kind, out_activation, loss, activation, alpha):
    if kind == "clf":
        est = SkMLPClassifier(activation=activation, alpha=alpha)
    else:
        est = SkMLPRegressor(loss=loss, activation=activation, alpha=alpha)
    est.out_activation_ = out_activation
    return est


def _backprop_problem(loss, n_out, weighted, n_samples=30, seed=0):
    rng = np.random.RandomState(seed)
    layer_units = [5, 7, 4, n_out]
    X = rng.normal(size=(n_samples, layer_units[0]))
    Y = make_targets(rng, loss, n_samples, n_out)
    # sklearn-style Glorot-uniform initial parameters
    params = rng.uniform(-0.7, 0.7, size=n_params(layer_units))
    sw = rng.uniform(0.2, 3.0, size=n_samples) if weighted else None
    return layer_units, X, Y, params, sw


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("activation", SKLEARN_HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("kind,output,loss,n_out", BACKPROP_CASES, ids=BACKPROP_IDS)
def test_loss_and_gradient_equal_sklearn_backprop(
    kind, output, loss, n_out, activation, alpha, weighted
):
    layer_units, X, Y, params, sw = _backprop_problem(loss, n_out, weighted)
    est = _sk_estimator(kind, output, loss, activation, alpha)
    ref_loss, ref_grad = sklearn_backprop(est, params, layer_units, X, Y, sw)

    net = _core.Network(layer_units, activation, output, loss)
    grad = np.full(net.n_params, np.nan)
    value = _core.loss_and_gradient(net, params, X, Y, sw, alpha, grad)
    np.testing.assert_allclose(value, ref_loss, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, ref_grad, rtol=RTOL, atol=ATOL)


# ------------------------------------------------ optimizer steps vs sklearn optimizers
def _reference_epoch(est, params, layer_units, X, Y, sw, order, batch_size, optimizer):
    """One epoch the way sklearn's _fit_stochastic runs it, on a packed vector; returns its
    mean loss (sklearn's ``loss_``: the accumulated loss over the rows)."""
    n = X.shape[0]
    idx = np.arange(n) if order is None else order
    acc = 0.0
    for sl in gen_batches(n, batch_size):
        bi = idx[sl]
        swb = None if sw is None else sw[bi]
        loss, grad = sklearn_backprop(est, params, layer_units, X[bi], Y[bi], swb)
        acc += loss * (sl.stop - sl.start)
        optimizer.update_params([params], [grad])
    return acc / n


OPT_CASES = [
    ("clf", "softmax", "log_loss", 3, "relu"),
    ("clf", "logistic", "binary_log_loss", 1, "tanh"),
    ("reg", "identity", "squared_error", 2, "logistic"),
    ("reg", "exp", "poisson", 1, "identity"),
]
OPT_IDS = [f"{c[2]}-{c[3]}-{c[4]}" for c in OPT_CASES]


@pytest.mark.parametrize("nesterov", [True, False], ids=["nesterov", "momentum"])
@pytest.mark.parametrize("kind,output,loss,n_out,activation", OPT_CASES, ids=OPT_IDS)
def test_one_sgd_step_equals_sklearn_sgd_optimizer(
    kind, output, loss, n_out, activation, nesterov
):
    alpha, lr, momentum = 0.01, 0.05, 0.9
    layer_units, X, Y, params0, _ = _backprop_problem(loss, n_out, False)
    n = X.shape[0]

    ref = params0.copy()
    est = _sk_estimator(kind, output, loss, activation, alpha)
    opt = SGDOptimizer([ref], lr, "constant", momentum, nesterov)
    ref_loss = _reference_epoch(est, ref, layer_units, X, Y, None, None, n, opt)

    net = _core.Network(layer_units, activation, output, loss)
    trainer = _core.Trainer64(net, layer_units[0], n, alpha)
    params = params0.copy()
    velocity = np.zeros_like(params)
    epoch_loss = run_epoch(trainer, "sgd", params, velocity, X, Y, None, None,
                           learning_rate=lr, momentum=momentum, nesterov=nesterov)
    assert not np.array_equal(params, params0)
    np.testing.assert_allclose(epoch_loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(params, ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(velocity, opt.velocities[0], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind,output,loss,n_out,activation", OPT_CASES, ids=OPT_IDS)
def test_one_adam_step_equals_sklearn_adam_optimizer(kind, output, loss, n_out, activation):
    alpha, lr, b1, b2, eps = 0.01, 0.01, 0.9, 0.999, 1e-8
    layer_units, X, Y, params0, _ = _backprop_problem(loss, n_out, False)
    n = X.shape[0]

    ref = params0.copy()
    est = _sk_estimator(kind, output, loss, activation, alpha)
    opt = AdamOptimizer([ref], lr, b1, b2, eps)
    ref_loss = _reference_epoch(est, ref, layer_units, X, Y, None, None, n, opt)

    net = _core.Network(layer_units, activation, output, loss)
    trainer = _core.Trainer64(net, layer_units[0], n, alpha)
    params = params0.copy()
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    t = np.zeros(1, dtype=np.int64)
    epoch_loss = run_epoch(trainer, "adam", params, (m, v, t), X, Y, None, None,
                           learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    assert t[0] == 1 == opt.t
    np.testing.assert_allclose(epoch_loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(params, ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(m, opt.ms[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(v, opt.vs[0], rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", ["sgd-nesterov", "sgd-momentum", "adam"])
@pytest.mark.parametrize("kind,output,loss,n_out,activation", OPT_CASES, ids=OPT_IDS)
def test_two_minibatch_epochs_with_order_equal_sklearn_optimizers(
    kind, output, loss, n_out, activation, solver, weighted
):
    # 30 rows, batch_size 12 -> batches of 12, 12, 6; optimizer state carried over
    # from the first epoch into the second; a different row order in each epoch.
    alpha, batch_size = 0.01, 12
    layer_units, X, Y, params0, sw = _backprop_problem(loss, n_out, weighted)
    n = X.shape[0]
    rng = np.random.RandomState(42)
    orders = [rng.permutation(n).astype(np.int64) for _ in range(2)]

    ref = params0.copy()
    est = _sk_estimator(kind, output, loss, activation, alpha)
    if solver == "adam":
        opt = AdamOptimizer([ref], 0.01, 0.9, 0.999, 1e-8)
    else:
        opt = SGDOptimizer([ref], 0.02, "constant", 0.9, solver == "sgd-nesterov")
    ref_losses = [
        _reference_epoch(est, ref, layer_units, X, Y, sw, o, batch_size, opt)
        for o in orders
    ]

    net = _core.Network(layer_units, activation, output, loss)
    trainer = _core.Trainer64(net, layer_units[0], batch_size, alpha)
    params = params0.copy()
    losses = []
    if solver == "adam":
        m, v, t = np.zeros_like(params), np.zeros_like(params), np.zeros(1, dtype=np.int64)
        for o in orders:
            losses.append(run_epoch(trainer, "adam", params, (m, v, t), X, Y, sw, o,
                                    learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8))
        assert t[0] == 6 == opt.t
        np.testing.assert_allclose(m, opt.ms[0], rtol=1e-9, atol=1e-12)
    else:
        velocity = np.zeros_like(params)
        for o in orders:
            losses.append(run_epoch(trainer, "sgd", params, velocity, X, Y, sw, o,
                                    learning_rate=0.02, momentum=0.9,
                                    nesterov=solver == "sgd-nesterov"))
        np.testing.assert_allclose(velocity, opt.velocities[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-11)
    np.testing.assert_allclose(params, ref, rtol=1e-9, atol=1e-12)


def test_epoch_order_is_honoured():
    # Same data, two different orders -> different parameters (so `order` is used),
    # and order=None equals order=arange(n) bitwise.
    layer_units, X, Y, params0, _ = _backprop_problem("log_loss", 3, False)
    n = X.shape[0]
    net = _core.Network(layer_units, "relu", "softmax", "log_loss")
    trainer = _core.Trainer64(net, layer_units[0], 7, 0.0)

    def run(order):
        p = params0.copy()
        vel = np.zeros_like(p)
        run_epoch(trainer, "sgd", p, vel, X, Y, None, order, learning_rate=0.05, momentum=0.9,
                  nesterov=True)
        return p

    p_none = run(None)
    p_arange = run(np.arange(n, dtype=np.int64))
    p_rev = run(np.arange(n, dtype=np.int64)[::-1].copy())
    assert np.array_equal(p_none, p_arange)
    assert not np.allclose(p_none, p_rev)


# --------------------------------------------------------------- estimator level
def _fit_pair(kind, X, y, fit_kwargs=None, **params):
    SkCls, FastCls = (
        (SkMLPClassifier, fastnn.MLPClassifier)
        if kind == "clf"
        else (SkMLPRegressor, fastnn.MLPRegressor)
    )
    fit_kwargs = fit_kwargs or {}
    sk = fit_quiet(SkCls(**params), X, y, **fit_kwargs)
    fast = fit_quiet(FastCls(**params), X, y, **fit_kwargs)
    return fast, sk


@pytest.mark.parametrize("activation", SKLEARN_HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "solver,nesterov", [("sgd", True), ("sgd", False), ("adam", True)]
)
def test_classifier_one_full_batch_epoch_matches_sklearn(
    solver, nesterov, n_classes, activation
):
    X, y = _clf_data(n_classes=n_classes)
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        hidden_layer_sizes=(10, 7),
        activation=activation,
        solver=solver,
        nesterovs_momentum=nesterov,
        batch_size=X.shape[0],
        shuffle=False,
        random_state=0,
        max_iter=1,
        learning_rate_init=0.01,
    )
    _assert_same_fit_state(fast, sk)
    np.testing.assert_array_equal(fast.classes_, sk.classes_)
    np.testing.assert_allclose(fast.best_loss_, sk.best_loss_, rtol=RTOL)


def test_fit_emits_convergence_warning_when_max_iter_reached():
    X, y = _clf_data()
    with pytest.warns(ConvergenceWarning):
        fastnn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(
            X, y
        )


def test_same_random_state_gives_sklearn_initial_weights():
    # A zero learning rate leaves the initial weights untouched: they must be
    # exactly sklearn's Glorot-uniform draws from the same random_state.
    X, y = _clf_data(n_classes=3)
    for activation in ("relu", "logistic"):  # logistic uses a different bound
        fast, sk = _fit_pair(
            "clf",
            X,
            y,
            hidden_layer_sizes=(6, 4),
            activation=activation,
            solver="sgd",
            learning_rate_init=1e-300,
            momentum=0.0,
            alpha=0.0,
            max_iter=1,
            random_state=3,
        )
        _assert_same_fitted_params(fast, sk, rtol=0, atol=1e-200)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_three_shuffled_minibatch_epochs_match_sklearn(kind, solver):
    # batch_size 16 on 100 rows: 7 batches (last one of 4 rows) per epoch, with
    # per-epoch shuffles drawn from random_state exactly as sklearn draws them.
    if kind == "clf":
        X, y = _clf_data(n_classes=3, n_samples=100)
    else:
        X, y = _reg_data(n_targets=1, n_samples=100)
    fast, sk = _fit_pair(
        kind,
        X,
        y,
        hidden_layer_sizes=(12, 8),
        solver=solver,
        batch_size=16,
        shuffle=True,
        random_state=0,
        max_iter=3,
        learning_rate_init=0.01,
    )
    _assert_same_fit_state(fast, sk, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_classifier_sample_weight_fit_matches_sklearn(solver):
    X, y = _clf_data(n_classes=3, n_samples=80)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, size=X.shape[0])
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        fit_kwargs={"sample_weight": sw},
        hidden_layer_sizes=(8,),
        solver=solver,
        batch_size=25,
        random_state=1,
        max_iter=3,
        learning_rate_init=0.01,
    )
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_sgd_learning_rate_schedules_match_sklearn(learning_rate):
    # adaptive with a huge tol: the loss never improves "enough", so every
    # n_iter_no_change+1 epochs the learning rate is divided by 5 until <= 1e-6.
    X, y = _clf_data(n_classes=2, n_samples=50)
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate=learning_rate,
        learning_rate_init=0.1,
        tol=10.0 if learning_rate == "adaptive" else 1e-4,
        n_iter_no_change=1,
        batch_size=20,
        random_state=0,
        max_iter=30,
    )
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)
    if learning_rate == "adaptive":
        assert sk.n_iter_ < 30  # the schedule really triggered stopping


def test_convergence_by_tol_stops_at_same_epoch_as_sklearn():
    X, y = _clf_data(n_classes=2, n_samples=60)
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        hidden_layer_sizes=(6,),
        solver="adam",
        learning_rate_init=0.01,
        tol=1e-2,
        n_iter_no_change=3,
        random_state=0,
        max_iter=500,
    )
    assert sk.n_iter_ < 500
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(fast.best_loss_, sk.best_loss_, rtol=1e-9)


def test_early_stopping_matches_sklearn():
    X, y = _clf_data(n_classes=3, n_samples=120)
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        hidden_layer_sizes=(8,),
        solver="adam",
        learning_rate_init=0.01,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        random_state=0,
        max_iter=40,
    )
    _assert_same_fit_state(fast, sk, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.validation_scores_, sk.validation_scores_)
    assert fast.best_validation_score_ == sk.best_validation_score_
    assert fast.best_loss_ is None


def test_partial_fit_matches_sklearn():
    X, y = _clf_data(n_classes=3, n_samples=90)
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", random_state=0, batch_size=30)
    sk = SkMLPClassifier(**kw)
    fast = fastnn.MLPClassifier(**kw)
    classes = np.unique(y)
    for est in (sk, fast):
        partial_fit_quiet(est, X[:45], y[:45], classes=classes)
        partial_fit_quiet(est, X[45:], y[45:])
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)


def test_warm_start_continues_like_sklearn():
    X, y = _reg_data(n_samples=60)
    kw = dict(hidden_layer_sizes=(8,), solver="adam", random_state=0, max_iter=2,
              warm_start=True, learning_rate_init=0.01)
    sk = SkMLPRegressor(**kw)
    fast = fastnn.MLPRegressor(**kw)
    for est in (sk, fast):
        fit_quiet(est, X, y)
        fit_quiet(est, X, y)
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_squared_error_regressor_fit_matches_sklearn(n_targets, solver):
    X, y = _reg_data(n_targets=n_targets, n_samples=70)
    for batch_size, shuffle, max_iter in [(70, False, 1), (16, True, 3)]:
        fast, sk = _fit_pair(
            "reg",
            X,
            y,
            hidden_layer_sizes=(10, 5),
            activation="tanh",
            solver=solver,
            batch_size=batch_size,
            shuffle=shuffle,
            random_state=0,
            max_iter=max_iter,
            learning_rate_init=0.01,
        )
        _assert_same_fit_state(fast, sk, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fast.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_poisson_regressor_fit_matches_sklearn(solver):
    X, y = _poisson_data(n_samples=70)
    for batch_size, shuffle, max_iter in [(70, False, 1), (16, True, 3)]:
        fast, sk = _fit_pair(
            "reg",
            X,
            y,
            loss="poisson",
            hidden_layer_sizes=(6,),
            activation="relu",
            solver=solver,
            batch_size=batch_size,
            shuffle=shuffle,
            random_state=0,
            max_iter=max_iter,
            learning_rate_init=0.001,
        )
        _assert_same_fit_state(fast, sk, rtol=1e-8, atol=1e-10)


def test_lbfgs_fit_matches_sklearn():
    X, y = _clf_data(n_classes=3, n_samples=60)
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        hidden_layer_sizes=(6,),
        solver="lbfgs",
        random_state=0,
        max_iter=10,
    )
    _assert_same_fitted_params(fast, sk, rtol=1e-6, atol=1e-8)
    assert fast.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=1e-8)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_item_mode_fit_matches_sklearn(solver):
    # A 600 x 256 layer (>= 128K weights) and 40-row batches of 6M multiply-adds: item mode
    # (workspace.hpp), its row items, weight-gradient tiles and updates fused into the tiles.
    X, y = _clf_data(n_classes=3, n_samples=160, n_features=600)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, size=X.shape[0])
    assert _core.plan_memory(_core.Network([600, 256, 3], "relu", "softmax", "log_loss"),
                             40)["item_mode"]
    fast, sk = _fit_pair(
        "clf",
        X,
        y,
        fit_kwargs={"sample_weight": sw},
        hidden_layer_sizes=(256,),
        solver=solver,
        batch_size=40,
        random_state=1,
        max_iter=3,
        learning_rate_init=0.01,
        alpha=0.01,
    )
    _assert_same_fit_state(fast, sk, rtol=1e-9, atol=1e-11)
