"""The regression losses fastnn adds (absolute_error, huber, quantile): the core's loss against a
NumPy reference, its gradient against central finite differences."""

import numpy as np
import pytest

from fastnn import _core

from _reference import forward, n_params

# (loss, parameter, n_outputs)
CASES = [
    ("absolute_error", 0.0, 1), ("absolute_error", 0.0, 3),
    ("huber", 0.5, 1), ("huber", 2.0, 2),
    ("quantile", 0.2, 1), ("quantile", 0.9, 2),
]
IDS = [f"{loss}-{p}-{k}" for loss, p, k in CASES]


def _reference_loss(loss, param, Y, P, w):
    r = P - Y
    if loss == "absolute_error":
        rows = np.abs(r)
    elif loss == "huber":
        a = np.abs(r)
        rows = np.where(a <= param, 0.5 * r**2, param * (a - 0.5 * param))
    else:
        u = Y - P
        rows = np.where(u >= 0, param * u, (param - 1) * u)
    rows = rows.mean(axis=1)
    return np.average(rows, weights=w)


def _problem(n_out, weighted, seed=0):
    rng = np.random.RandomState(seed)
    units = [4, 6, 5, n_out]
    X = rng.normal(size=(20, 4))
    Y = rng.normal(scale=2.0, size=(20, n_out))
    params = rng.normal(scale=0.5, size=n_params(units))
    w = rng.uniform(0.5, 2.0, 20) if weighted else None
    return units, X, Y, params, w


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss, param, n_out", CASES, ids=IDS)
def test_loss_value_matches_numpy(loss, param, n_out, weighted):
    units, X, Y, params, w = _problem(n_out, weighted)
    net = _core.Network(units, "tanh", "identity", loss, loss_param=param)
    grad = np.empty_like(params)
    value = _core.loss_and_gradient(net, params, X, Y, w, 0.0, grad)
    P = forward(params, units, X, "tanh", "identity")
    np.testing.assert_allclose(value, _reference_loss(loss, param, Y, P, w), rtol=1e-13)
    # and the loss the validation set is scored with: the same function of the outputs
    np.testing.assert_allclose(_core.mean_loss(P, Y, w, loss, param), value, rtol=1e-13)


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss, param, n_out", CASES, ids=IDS)
def test_gradient_matches_central_finite_differences(loss, param, n_out, weighted, alpha):
    units, X, Y, params, w = _problem(n_out, weighted, seed=1)
    net = _core.Network(units, "tanh", "identity", loss, loss_param=param)
    grad = np.empty_like(params)
    _core.loss_and_gradient(net, params, X, Y, w, alpha, grad)
    scratch = np.empty_like(params)
    fd = np.empty_like(params)
    eps = 1e-6  # the kinks (r = 0, |r| = delta) lie farther than eps from every residual here
    for i in range(params.size):
        p = params.copy()
        p[i] += eps
        up = _core.loss_and_gradient(net, p, X, Y, w, alpha, scratch)
        p[i] -= 2 * eps
        down = _core.loss_and_gradient(net, p, X, Y, w, alpha, scratch)
        fd[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "loss, param, match",
    [("huber", 0.0, "huber's delta must be > 0"), ("huber", -1.0, "huber's delta"),
     ("quantile", 0.0, "the quantile must be in"), ("quantile", 1.0, "the quantile must be in"),
     ("huber", 1.0, None)],
)
def test_the_core_checks_the_loss_parameter(loss, param, match):
    if match is None:
        assert _core.Network([2, 3, 1], "relu", "identity", loss, loss_param=param).loss_param == 1
        return
    with pytest.raises(ValueError, match=match):
        _core.Network([2, 3, 1], "relu", "identity", loss, loss_param=param)
    with pytest.raises(ValueError, match="needs output activation 'identity'"):
        _core.Network([2, 3, 1], "relu", "exp", "huber", loss_param=1.0)
