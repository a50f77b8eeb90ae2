"""fastnn's additions from the lecture notes: leaky ReLU, dropout, the classifier's quadratic
cost, weight initialisation choices and residual layers.

Each one is checked against finite differences (or a NumPy reference), for thread invariance
where threads are involved, and for an effect on a real fit.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import _core
from fastnn._spec import NetworkSpec
from fastnn._spec import residual_layers as residual_layers_of_spec

from _reference import forward, residual_layers, unpack
from _util import fit_quiet, run_epoch

FD_EPS = 1e-6


def _reference_forward(params, units, X, hidden, output, slope=0.01, residual=False):
    """The notes' forward pass, layer by layer: a = g(W a + b), or a + g(W a + b) for a
    residual (square, hidden, not first) layer."""
    return forward(params, units, X, hidden, output, slope, residual_layers(units, residual))


def _grad_check(trainer, params, X, Y, epoch=0, rtol=1e-6):
    grad = np.empty_like(params)
    trainer.loss_and_gradient(params, X, Y, None, grad, epoch)
    scratch = np.empty_like(params)
    fd = np.empty_like(params)
    for i in range(params.size):
        p = params.copy()
        p[i] += FD_EPS
        up = trainer.loss_and_gradient(p, X, Y, None, scratch, epoch)
        p[i] -= 2 * FD_EPS
        down = trainer.loss_and_gradient(p, X, Y, None, scratch, epoch)
        fd[i] = (up - down) / (2 * FD_EPS)
    np.testing.assert_allclose(grad, fd, rtol=rtol, atol=1e-8)
    return grad


def _problem(units, seed=0, n=16, targets="real"):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, units[0]))
    if targets == "onehot":
        Y = np.eye(units[-1])[rng.randint(units[-1], size=n)]
    else:
        Y = rng.normal(size=(n, units[-1]))
    params = rng.normal(scale=0.5, size=sum(a * b + b for a, b in zip(units[:-1], units[1:])))
    return X, Y, params


# ----------------------------------------------------------------------------- leaky ReLU
@pytest.mark.parametrize("slope", [0.1, 0.3])
def test_leaky_relu_gradient_and_forward(slope):
    units = [3, 6, 4, 1]  # squared_error: one output (see test_gradients.py)
    X, Y, params = _problem(units)
    net = _core.Network(units, "leaky_relu", "identity", "squared_error", slope)
    _grad_check(_core.Trainer64(net, 3, 16, 0.0, 1), params, X, Y)
    coefs, intercepts = unpack(params, units)
    out = _core.predict(coefs, intercepts, "leaky_relu", "identity", slope, X, 1)
    np.testing.assert_allclose(out, _reference_forward(params, units, X, "leaky_relu", "identity",
                                                       slope), rtol=1e-12)


def test_leaky_relu_estimator_fits_and_uses_its_slope():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    kw = dict(hidden_layer_sizes=(32,), activation="leaky_relu", max_iter=100, random_state=0)
    clf = fit_quiet(fastnn.MLPClassifier(leaky_relu_slope=0.1, **kw), X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > 0.9
    # predict is the reference forward pass with the same slope
    params = np.concatenate([c.ravel() for c in clf.coefs_ + clf.intercepts_])
    ref = _reference_forward(params, [64, 32, 10], X[:50], "leaky_relu", "identity", 0.1)
    expected = np.exp(ref - ref.max(1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X[:50]), expected / expected.sum(1, keepdims=True),
                               rtol=1e-10)
    # another slope is another model
    other = fit_quiet(fastnn.MLPClassifier(leaky_relu_slope=0.3, **kw), X[:1200], y[:1200])
    assert not np.array_equal(other.coefs_[0], clf.coefs_[0])
    # relu is leaky_relu with slope 0
    relu = fit_quiet(fastnn.MLPClassifier(**{**kw, "activation": "relu"}), X[:1200], y[:1200])
    flat = fit_quiet(fastnn.MLPClassifier(leaky_relu_slope=0.0, **kw), X[:1200], y[:1200])
    for a, b in zip(relu.coefs_, flat.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "softplus", "silu", "gelu"])
def test_fastnn_activations_are_not_convertible_to_sklearn(activation):
    X, y = make_classification(60, 4, random_state=0)
    clf = fit_quiet(fastnn.MLPClassifier((5,), activation=activation, max_iter=5), X, y)
    with pytest.raises(ValueError, match=r"cannot be converted. fastnn.to_onnx\(model\)"):
        clf.to_sklearn()


@pytest.mark.parametrize("activation", ["elu", "softplus", "silu", "gelu"])
def test_new_activations_train_and_learn_a_smooth_function(activation):
    """Each new activation trains a regressor on a smooth target to a small error, with
    dropout or residual layers too, in float32 and float64 alike. (Both at once fail softplus
    in PyTorch as here: R² 0.47 and 0.50 -- each residual layer adds a positive softplus.)"""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, (600, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    for kw in ({}, {"dropout": 0.05}, {"residual": True}):
        for dtype in (np.float64, np.float32):
            model = fit_quiet(fastnn.MLPRegressor(hidden_layer_sizes=(32, 32),
                                                  activation=activation, max_iter=300, tol=0,
                                                  n_iter_no_change=300, learning_rate_init=3e-3,
                                                  random_state=0, **kw), X.astype(dtype), y)
            assert model.coefs_[0].dtype == dtype
            score = model.score(X.astype(dtype), y)
            assert score > 0.94, (kw, dtype, score)


# ------------------------------------------------------------------ quadratic cost (classifier)
def test_quadratic_cost_gradient_and_value():
    units = [2, 2, 3, 2]
    X, Y, params = _problem(units, targets="onehot")
    net = _core.Network(units, "logistic", "logistic", "quadratic")
    trainer = _core.Trainer64(net, 2, 16, 0.0, 1)
    _grad_check(trainer, params, X, Y)
    F = _reference_forward(params, units, X, "logistic", "logistic")
    value = trainer.loss_and_gradient(params, X, Y, None, np.empty_like(params))
    # the notes' cost: 1/N sum 1/2 ||y - F(x)||^2
    np.testing.assert_allclose(value, np.mean(0.5 * ((Y - F) ** 2).sum(1)), rtol=1e-13)


def test_classifier_squared_error_loss_on_the_notes_points():
    x1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7]
    x2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]
    X = np.c_[x1, x2]
    y = np.array(["A"] * 5 + ["B"] * 5)
    clf = fastnn.MLPClassifier(
        (2, 3), activation="logistic", loss="squared_error", solver="sgd", batch_size=1,
        momentum=0, alpha=0, learning_rate_init=0.5, max_iter=3000, tol=0,
        n_iter_no_change=np.inf, weight_init=0.5, random_state=1,
    )
    fit_quiet(clf, X, y)
    assert clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    # the loss_ reported is the notes' quadratic cost of the (single-output) network
    assert clf.loss_ < 0.02
    np.testing.assert_array_equal(clf.predict(X), y)
    np.testing.assert_allclose(proba.sum(1), 1.0)


def test_classifier_squared_error_multiclass_probabilities_are_normalised():
    X, y = load_digits(return_X_y=True)
    clf = fit_quiet(fastnn.MLPClassifier((32,), loss="squared_error", max_iter=100, learning_rate_init=0.01,
                                         random_state=0), X / 16, y)
    raw = clf._forward_pass_fast(X[:20] / 16)
    proba = clf.predict_proba(X[:20] / 16)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(proba, raw / raw.sum(1, keepdims=True))
    assert not np.allclose(raw.sum(1), 1.0)  # sigmoid outputs, not a softmax
    assert clf.score(X / 16, y) > 0.9
    with pytest.raises(ValueError, match="cannot be converted"):
        clf.to_sklearn()


def test_classifier_rejects_unknown_loss():
    with pytest.raises(ValueError, match="'loss' parameter of MLPClassifier must be a str "
                                         "among"):
        fastnn.MLPClassifier(loss="hinge").fit([[0.0], [1.0]], [0, 1])


# ------------------------------------------------------------------------------- residual
@pytest.mark.parametrize("hidden", ["tanh", "relu", "logistic", "elu", "softplus", "silu", "gelu"])
def test_residual_gradient_and_forward(hidden):
    units = [3, 5, 5, 5, 1]
    X, Y, params = _problem(units)
    net = _core.Network(units, hidden, "identity", "squared_error", 0.01,
                        residual_layers(units))
    assert net.residual_layers == [False, True, True, False]
    _grad_check(_core.Trainer64(net, 3, 16, 0.0, 1), params, X, Y)
    coefs, intercepts = unpack(params, units)
    out = _core.predict(coefs, intercepts, hidden, "identity", 0.01, X, 1,
                        net.residual_layers)
    np.testing.assert_allclose(out, _reference_forward(params, units, X, hidden, "identity",
                                                       residual=True), rtol=1e-12)
    plain = _core.predict(coefs, intercepts, hidden, "identity", 0.01, X, 1)
    assert not np.allclose(out, plain)


def test_residual_only_where_widths_match():
    units = [4, 8, 8, 6, 6, 3]
    assert residual_layers_of_spec(True, units) == [False, True, False, True, False]
    assert residual_layers_of_spec(False, units) == [False] * 5
    net = _core.Network(units, "relu", "identity", "squared_error", 0.01,
                        residual_layers_of_spec(True, units))
    assert net.residual_layers == [False, True, False, True, False]
    for flags in ([False, True, False], [True, False, False], [False, False, True]):
        with pytest.raises(ValueError, match="cannot be residual"):  # not square / not hidden
            _core.Network([4, 8, 6, 3], "relu", "identity", "squared_error", 0.01, flags)
    with pytest.raises(ValueError, match="one flag per weight layer"):
        _core.Network(units, "relu", "identity", "squared_error", 0.01, [False, True])
    with pytest.raises(ValueError, match=r"residual=True needs two consecutive hidden layers"):
        fastnn.MLPRegressor(hidden_layer_sizes=(8, 6), residual=True).fit(np.ones((4, 2)), np.ones(4))


def test_residual_deep_network_trains_better():
    """The notes' point: y + sigma(K y + b) layers keep a deep network trainable."""
    X, y = make_classification(2000, 20, n_informative=10, random_state=0)
    kw = dict(hidden_layer_sizes=(32,) * 10, activation="tanh", max_iter=30, random_state=0,
              solver="sgd", learning_rate_init=0.01)
    plain = fit_quiet(fastnn.MLPClassifier(**kw), X, y)
    res = fit_quiet(fastnn.MLPClassifier(residual=True, **kw), X, y)
    assert res.loss_ < 0.5 * plain.loss_
    assert res.score(X, y) >= plain.score(X, y)


def test_residual_refuses_sklearn_export():
    # (thread-count invariance: tests/test_thread_invariance.py)
    X, y = make_classification(600, 64, random_state=0)
    kw = dict(hidden_layer_sizes=(256, 256), residual=True, max_iter=3, random_state=0)
    one = fit_quiet(fastnn.MLPClassifier(**kw), X, y)
    with pytest.raises(ValueError, match="cannot be converted"):
        one.to_sklearn()


# -------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("hidden", ["tanh", "elu", "softplus", "silu", "gelu"])
def test_dropout_gradient_of_the_thinned_network(hidden):
    units = [3, 6, 6, 1]
    X, Y, params = _problem(units)
    net = _core.Network(units, hidden, "identity", "squared_error")
    trainer = _core.Trainer64(net, 3, 16, 0.0, 1, [0.3, 0.5, 0.0], 1234)
    g0 = _grad_check(trainer, params, X, Y, epoch=0)
    g1 = _grad_check(trainer, params, X, Y, epoch=1)
    assert not np.allclose(g0, g1)  # another epoch, other masks
    plain = _core.Trainer64(net, 3, 16, 0.0, 1)
    g = np.empty_like(params)
    plain.loss_and_gradient(params, X, Y, None, g)
    assert not np.allclose(g, g0)


def test_dropout_keeps_expected_outputs_and_rate():
    """Inverted dropout: averaged over many rows, the training-time output equals the
    prediction; and the fraction of dropped units is the rate."""
    rng = np.random.RandomState(0)
    n, width, rate = 40000, 50, 0.3
    X = np.ones((n, 1))
    # identity network: hidden unit j outputs w_j; the output sums them
    net = _core.Network([1, width, 1], "identity", "identity", "squared_error")
    w1 = rng.uniform(0.5, 1.5, width)
    params = np.concatenate([w1, np.ones(width), np.zeros(width), [0.0]])
    trainer = _core.Trainer64(net, 1, n, 0.0, 1, [rate, 0.0], 7)
    grad = np.empty_like(params)
    trainer.loss_and_gradient(params, X, np.zeros((n, 1)), None, grad, 3)
    # d loss / d output intercept = mean(yhat - 0) = mean training-time output
    mean_output = grad[-1]
    assert abs(mean_output - w1.sum()) < 4 * np.sqrt(rate / (1 - rate) * (w1 ** 2).sum() / n)
    # d loss / d w2_j = mean(h_j * yhat): zero for no unit; kept fraction from d/d b1_j:
    # d/d b1_j = mean(mask_j/(1-rate) * yhat * w2_j) -- compare with d/d w1_j (x = 1): equal
    np.testing.assert_allclose(grad[:width], grad[2 * width:3 * width], rtol=1e-12)


def test_dropout_masks_follow_random_state():
    # (bitwise the same for any thread count and on a repeated fit: test_thread_invariance.py)
    X, y = make_classification(800, 64, random_state=0)
    kw = dict(hidden_layer_sizes=(256, 128), dropout=[0.2, 0.5], max_iter=4, random_state=0)
    one = fit_quiet(fastnn.MLPClassifier(**kw), X, y)
    other_seed = fit_quiet(fastnn.MLPClassifier(**{**kw, "random_state": 1}), X, y)
    assert not np.array_equal(other_seed.coefs_[0], one.coefs_[0])


def test_dropout_regularises_an_overfitting_network():
    X, y = make_classification(1200, 20, n_informative=5, flip_y=0.25, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=400, random_state=0)
    kw = dict(hidden_layer_sizes=(256, 256), max_iter=300, alpha=0, n_iter_no_change=1000,
              random_state=0)
    plain = fit_quiet(fastnn.MLPClassifier(**kw), Xtr, ytr)
    dropped = fit_quiet(fastnn.MLPClassifier(dropout=0.5, **kw), Xtr, ytr)
    # without dropout the net memorises the noisy labels and is confidently wrong on new data
    assert log_loss(yte, dropped.predict_proba(Xte)) < 0.8 * log_loss(yte, plain.predict_proba(Xte))
    assert dropped.score(Xte, yte) >= plain.score(Xte, yte) - 0.01


def test_dropout_zero_is_the_default_and_bad_values_raise():
    X, y = make_classification(100, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(8, 4), max_iter=3, random_state=0)
    a = fit_quiet(fastnn.MLPClassifier(**kw), X, y)
    b = fit_quiet(fastnn.MLPClassifier(dropout=[0.0, 0.0], **kw), X, y)
    for p, q in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        fastnn.MLPClassifier(dropout=[0.1], **kw).fit(X, y)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        fastnn.MLPClassifier(dropout=[0.1, 1.0], **kw).fit(X, y)
    with pytest.raises(ValueError, match="must be a float in the range"):
        fastnn.MLPClassifier(dropout=1.0, **kw).fit(X, y)
    with pytest.raises(ValueError, match="stochastic solver"):
        fastnn.MLPClassifier(dropout=0.2, solver="lbfgs", **kw).fit(X, y)


def test_dropout_model_exports_the_whole_network_to_sklearn():
    X, y = make_classification(200, 6, random_state=0)
    clf = fit_quiet(fastnn.MLPClassifier((16,), dropout=0.3, max_iter=20, random_state=0), X, y)
    np.testing.assert_allclose(clf.to_sklearn().predict_proba(X), clf.predict_proba(X),
                               rtol=1e-12)


# ------------------------------------------------------------------------ initialisation
def _initial_layer(init, fan_in, fan_out, dtype):
    """The initial (W, b) of a one-layer network's spec, drawn from RandomState(0)."""
    spec = NetworkSpec(
        layer_units=(fan_in, fan_out), activation="relu", out_activation="identity",
        loss="squared_error", leaky_relu_slope=0.01, residual_layers=(False,),
        dropout_rates=(), dtype=np.dtype(dtype),
    )
    (W,), (b,) = spec.initial_weights(init, np.random.RandomState(0))
    return W, b


@pytest.mark.parametrize(
    "init,std_of",
    [
        ("glorot_uniform", lambda i, o: np.sqrt(2.0 / (i + o))),
        ("glorot_normal", lambda i, o: np.sqrt(2.0 / (i + o))),
        ("he_uniform", lambda i, o: np.sqrt(2.0 / i)),
        ("he_normal", lambda i, o: np.sqrt(2.0 / i)),
    ],
)
def test_weight_init_distributions(init, std_of):
    X, y = np.random.RandomState(0).normal(size=(10, 300)), np.arange(10) % 2
    clf = fastnn.MLPClassifier((400,), weight_init=init, max_iter=1, random_state=0)
    W, b = _initial_layer(init, 300, 400, np.float64)
    np.testing.assert_allclose(W.std(), std_of(300, 400), rtol=0.02)
    assert abs(W.mean()) < 0.01 * std_of(300, 400) * 10
    np.testing.assert_array_equal(b, 0.0)
    if init.endswith("uniform"):
        assert np.abs(W).max() <= np.sqrt(3) * std_of(300, 400)
    fit_quiet(clf, X, y)  # and it trains


def test_weight_init_sigma_draws_weights_and_intercepts_from_a_normal():
    W, b = _initial_layer(0.5, 200, 300, np.float32)
    assert W.dtype == b.dtype == np.float32
    np.testing.assert_allclose(W.std(), 0.5, rtol=0.02)
    np.testing.assert_allclose(b.std(), 0.5, rtol=0.15)


def test_weight_init_changes_the_start_and_sklearn_is_the_default():
    X, y = make_classification(100, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = fastnn.MLPClassifier(**kw).fit(X, y)
        same = fastnn.MLPClassifier(weight_init="sklearn", **kw).fit(X, y)
        he = fastnn.MLPClassifier(weight_init="he_normal", **kw).fit(X, y)
    np.testing.assert_array_equal(base.coefs_[0], same.coefs_[0])
    assert not np.allclose(base.coefs_[0], he.coefs_[0])
    with pytest.raises(ValueError, match="'weight_init' parameter"):
        fastnn.MLPClassifier(weight_init="zeros").fit(X, y)
    with pytest.raises(ValueError, match="'weight_init' parameter"):
        fastnn.MLPClassifier(weight_init=-1.0).fit(X, y)


# ------------------------------------------------------------ single-sample and full batch
@pytest.mark.parametrize("batch_size", [1, 40])
def test_single_sample_and_full_batch_sgd_follow_the_reference(batch_size):
    """batch_size=1 is the notes' SGD, batch_size=n their gradient descent: a few epochs of
    each against plain NumPy steps on the quadratic cost."""
    rng = np.random.RandomState(0)
    units = [2, 3, 2]
    X = rng.uniform(size=(40, 2))
    Y = np.eye(2)[rng.randint(2, size=40)]
    params = rng.normal(scale=0.5, size=17)
    net = _core.Network(units, "logistic", "logistic", "quadratic")
    trainer = _core.Trainer64(net, 2, batch_size, 0.0, 1)
    p = params.copy()
    order = rng.permutation(40).astype(np.int64)
    run_epoch(trainer, "sgd", p, np.zeros_like(p), X, Y, None, order, learning_rate=0.1,
              momentum=0.0, nesterov=False)
    ref = params.copy()
    step = _core.Trainer64(net, 2, 40, 0.0, 1)
    grad = np.empty_like(ref)
    for start in range(0, 40, batch_size):
        rows = order[start:start + batch_size]
        step.loss_and_gradient(ref, np.ascontiguousarray(X[rows]), np.ascontiguousarray(Y[rows]),
                               None, grad)
        ref -= 0.1 * grad
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-14)
