"""`_core.loss_and_gradient` against finite differences and a NumPy reference.

float64 everywhere except where a test says otherwise.
"""

import numpy as np
import pytest

from fastnn import _core

from _reference import (
    HIDDEN_ACTIVATIONS,
    LEAKY_SLOPE,
    forward,
    make_targets,
    n_params,
    total_loss,
)
from _util import core_predict

N_SAMPLES = 12
FD_EPS = 1e-6

# (output activation, loss, n_outputs).  squared_error is checked with one output
# only: with several outputs scikit-learn's loss is averaged over outputs while its
# gradient is not (the gradient is that of the loss summed over outputs); that
# convention is pinned against sklearn's _backprop in test_sklearn_parity.py.
OUTPUT_CASES = [
    ("identity", "squared_error", 1),
    ("logistic", "binary_log_loss", 1),
    ("logistic", "binary_log_loss", 3),  # multilabel
    ("softmax", "log_loss", 3),
    ("exp", "poisson", 1),
    ("exp", "poisson", 2),
]
CASE_IDS = [f"{o}-{l}-{k}" for o, l, k in OUTPUT_CASES]


def _problem(hidden, output, loss, n_out, weighted, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    layer_units = [4, 5, 3, n_out]
    X = rng.normal(size=(N_SAMPLES, layer_units[0]))
    Y = make_targets(rng, loss, N_SAMPLES, n_out)
    params = rng.normal(scale=0.5, size=n_params(layer_units))
    sw = rng.uniform(0.5, 2.0, size=N_SAMPLES) if weighted else None
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    params = np.ascontiguousarray(params, dtype=dtype)
    if sw is not None:
        sw = np.ascontiguousarray(sw, dtype=dtype)
    return layer_units, X, Y, params, sw


def _core_loss_grad(net, params, X, Y, sw, alpha):
    grad = np.full(net.n_params, np.nan, dtype=params.dtype)
    value = _core.loss_and_gradient(net, params, X, Y, sw, alpha, grad)
    return value, grad


def _central_differences(net, params, X, Y, sw, alpha, eps=FD_EPS):
    fd = np.empty_like(params)
    scratch = np.empty_like(params)
    for i in range(params.shape[0]):
        p = params.copy()
        p[i] = params[i] + eps
        f_plus = _core.loss_and_gradient(net, p, X, Y, sw, alpha, scratch)
        p[i] = params[i] - eps
        f_minus = _core.loss_and_gradient(net, p, X, Y, sw, alpha, scratch)
        fd[i] = (f_plus - f_minus) / (2 * eps)
    return fd


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_gradient_matches_central_finite_differences(
    hidden, output, loss, n_out, alpha, weighted
):
    layer_units, X, Y, params, sw = _problem(hidden, output, loss, n_out, weighted)
    net = _core.Network(layer_units, hidden, output, loss)
    assert net.n_params == n_params(layer_units)

    _, grad = _core_loss_grad(net, params, X, Y, sw, alpha)
    assert np.all(np.isfinite(grad)), "gradient buffer not fully written"
    fd = _central_differences(net, params, X, Y, sw, alpha)

    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    rel = np.linalg.norm(grad - fd) / np.linalg.norm(fd)
    assert rel < 1e-6


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_loss_value_matches_numpy_reference(hidden, output, loss, n_out, alpha, weighted):
    layer_units, X, Y, params, sw = _problem(hidden, output, loss, n_out, weighted, seed=1)
    net = _core.Network(layer_units, hidden, output, loss)
    value, _ = _core_loss_grad(net, params, X, Y, sw, alpha)
    expected = total_loss(params, layer_units, X, Y, hidden, output, loss, alpha, sw)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
def test_predict_matches_numpy_reference_forward(hidden, output, loss, n_out):
    layer_units, X, _, params, _ = _problem(hidden, output, loss, n_out, False, seed=2)
    net = _core.Network(layer_units, hidden, output, loss)
    out = core_predict(net, params, X)
    assert out.dtype == np.float64
    assert out.shape == (N_SAMPLES, n_out)
    expected = forward(params, layer_units, X, hidden, output)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


def test_squared_error_multioutput_loss_is_averaged_over_outputs():
    # sklearn: 0.5 * average over samples, then *mean* over outputs.
    layer_units, X, Y, params, _ = _problem("tanh", "identity", "squared_error", 2, False)
    net = _core.Network(layer_units, "tanh", "identity", "squared_error")
    value, _ = _core_loss_grad(net, params, X, Y, None, 0.0)
    P = forward(params, layer_units, X, "tanh", "identity")
    np.testing.assert_allclose(value, 0.5 * np.mean((Y - P) ** 2), rtol=1e-12)


@pytest.mark.parametrize("slope", [0.2, 0.5])
def test_leaky_relu_slope_is_used_in_loss_and_gradient(slope):
    layer_units, X, Y, params, sw = _problem("leaky_relu", "softmax", "log_loss", 3, True)
    net = _core.Network(layer_units, "leaky_relu", "softmax", "log_loss", leaky_slope=slope)
    value, grad = _core_loss_grad(net, params, X, Y, sw, 0.1)
    expected = total_loss(
        params, layer_units, X, Y, "leaky_relu", "softmax", "log_loss", 0.1, sw,
        leaky_slope=slope,
    )
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    fd = _central_differences(net, params, X, Y, sw, 0.1)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # and the default slope is 0.01, different from `slope`
    net_default = _core.Network(layer_units, "leaky_relu", "softmax", "log_loss")
    value_default, _ = _core_loss_grad(net_default, params, X, Y, sw, 0.1)
    expected_default = total_loss(
        params, layer_units, X, Y, "leaky_relu", "softmax", "log_loss", 0.1, sw,
        leaky_slope=LEAKY_SLOPE,
    )
    np.testing.assert_allclose(value_default, expected_default, rtol=1e-12)
    assert not np.isclose(value_default, value, rtol=1e-9)


def test_log_loss_clips_probabilities_at_dtype_eps():
    # Saturated softmax/logistic outputs: without the clip the loss would be inf.
    layer_units = [2, 3, 1]
    X = np.array([[30.0, -30.0], [-30.0, 30.0], [1.0, 2.0]])
    params = np.zeros(n_params(layer_units))
    # identity hidden layer: h = X @ W1 ; out = h @ W2 huge
    params[:6] = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]]).ravel()
    params[6:9] = [10.0, -10.0, 0.0]
    Y = np.array([[0.0], [1.0], [1.0]])  # first two samples are confidently wrong
    net = _core.Network(layer_units, "identity", "logistic", "binary_log_loss")
    value, _ = _core_loss_grad(net, params, X, Y, None, 0.0)
    expected = total_loss(
        params, layer_units, X, Y, "identity", "logistic", "binary_log_loss", 0.0
    )
    assert np.isfinite(value)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    # -log(eps) per wrong sample, averaged over 3 samples, is the dominating term
    assert value > 2 * -np.log(np.finfo(np.float64).eps) / 3 * 0.99


def test_poisson_loss_uses_xlogy_form_with_zero_counts():
    layer_units, X, _, params, _ = _problem("tanh", "exp", "poisson", 1, False, seed=3)
    Y = np.zeros((N_SAMPLES, 1))
    Y[::3] = 4.0
    net = _core.Network(layer_units, "tanh", "exp", "poisson")
    value, grad = _core_loss_grad(net, params, X, Y, None, 0.0)
    P = forward(params, layer_units, X, "tanh", "exp")
    # xlogy(0, .) == 0, so zero counts contribute just ŷ
    terms = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / P), 0.0) - Y + P
    np.testing.assert_allclose(value, terms.mean(), rtol=1e-12)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
def test_data_loss_and_gradient_invariant_to_sample_weight_scale(output, loss, n_out):
    # with alpha=0 only: the L2 term is divided by sw.sum(), so it does scale.
    layer_units, X, Y, params, sw = _problem("tanh", output, loss, n_out, True, seed=4)
    net = _core.Network(layer_units, "tanh", output, loss)
    v1, g1 = _core_loss_grad(net, params, X, Y, sw, 0.0)
    v2, g2 = _core_loss_grad(net, params, X, Y, sw * 3.0, 0.0)
    np.testing.assert_allclose(v2, v1, rtol=1e-12)
    np.testing.assert_allclose(g2, g1, rtol=1e-10, atol=1e-14)
    # ... while the L2 term is divided by sw.sum()
    v3, _ = _core_loss_grad(net, params, X, Y, sw * 3.0, 0.1)
    v4, _ = _core_loss_grad(net, params, X, Y, sw, 0.1)
    coefs_sq = (params[: sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))] ** 2).sum()
    np.testing.assert_allclose(v4 - v1, 0.5 * 0.1 * coefs_sq / sw.sum(), rtol=1e-10)
    np.testing.assert_allclose(v3 - v1, 0.5 * 0.1 * coefs_sq / (3 * sw.sum()), rtol=1e-10)


@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
def test_unit_sample_weight_equals_no_sample_weight(output, loss, n_out):
    layer_units, X, Y, params, _ = _problem("relu", output, loss, n_out, False, seed=5)
    net = _core.Network(layer_units, "relu", output, loss)
    v1, g1 = _core_loss_grad(net, params, X, Y, None, 0.1)
    v2, g2 = _core_loss_grad(net, params, X, Y, np.ones(N_SAMPLES), 0.1)
    np.testing.assert_allclose(v2, v1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-15)


def test_integer_sample_weight_equals_repeating_rows():
    layer_units, X, Y, params, _ = _problem("logistic", "softmax", "log_loss", 3, False)
    sw = np.tile([1.0, 2.0, 3.0], N_SAMPLES // 3)
    rep = sw.astype(int)
    net = _core.Network(layer_units, "logistic", "softmax", "log_loss")
    v1, g1 = _core_loss_grad(net, params, X, Y, sw, 0.1)
    Xr = np.ascontiguousarray(np.repeat(X, rep, axis=0))
    Yr = np.ascontiguousarray(np.repeat(Y, rep, axis=0))
    v2, g2 = _core_loss_grad(net, params, Xr, Yr, None, 0.1)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
def test_float32_loss_and_gradient_close_to_float64(hidden, output, loss, n_out):
    layer_units, X, Y, params, sw = _problem(hidden, output, loss, n_out, True, seed=6)
    net = _core.Network(layer_units, hidden, output, loss)
    v64, g64 = _core_loss_grad(net, params, X, Y, sw, 0.1)
    f32 = [np.ascontiguousarray(a, dtype=np.float32) for a in (params, X, Y, sw)]
    v32, g32 = _core_loss_grad(net, f32[0], f32[1], f32[2], f32[3], 0.1)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(v32, v64, rtol=1e-4)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
    out32 = core_predict(net, f32[0], f32[1])
    assert out32.dtype == np.float32


def test_n_params_for_deeper_network():
    layer_units = [7, 11, 5, 3, 2]
    net = _core.Network(layer_units, "relu", "softmax", "log_loss")
    assert net.n_params == 7 * 11 + 11 * 5 + 5 * 3 + 3 * 2 + 11 + 5 + 3 + 2


@pytest.mark.parametrize(
    "args",
    [
        ("relux", "softmax", "log_loss"),
        ("relu", "softmaxx", "log_loss"),
        ("relu", "softmax", "hinge"),
        ("softmax", "softmax", "log_loss"),  # softmax is not a hidden activation
    ],
)
def test_network_rejects_unknown_names(args):
    with pytest.raises(ValueError):
        _core.Network([3, 4, 2], *args)


def test_gradient_length_mismatch_is_rejected():
    layer_units, X, Y, params, _ = _problem("relu", "identity", "squared_error", 1, False)
    net = _core.Network(layer_units, "relu", "identity", "squared_error")
    with pytest.raises((ValueError, TypeError)):
        _core.loss_and_gradient(net, params, X, Y, None, 0.0, np.empty(net.n_params - 1))
    with pytest.raises((ValueError, TypeError)):
        _core.loss_and_gradient(
            net, params[:-1].copy(), X, Y, None, 0.0, np.empty(net.n_params)
        )
    with pytest.raises((ValueError, TypeError)):
        # wrong number of features
        core_predict(net, params, np.ascontiguousarray(X[:, :3]))
