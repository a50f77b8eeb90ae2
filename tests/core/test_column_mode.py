"""Networks with a layer of more than 2M weights train in column mode (products split by
weight columns over the whole batch instead of by rows). The same guarantees hold there:
correct gradients, bitwise independence from the thread count, sparse = dense."""

import numpy as np

from fastnn import _core

from _reference import relu_softmax_loss_and_gradient
from _util import assert_sparse_gradient_equals_dense

# 1450 x 1450 = 2,102,500 weights: just over the column-mode threshold (2048 x 1024).
UNITS = [40, 1450, 1450, 3]


def _data(n, dtype, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, UNITS[0])).astype(dtype)
    Y = np.eye(UNITS[-1], dtype=dtype)[rng.randint(0, UNITS[-1], n)]
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    return X, Y, w


def _params(net, dtype, seed=1):
    rng = np.random.RandomState(seed)
    return (rng.normal(size=net.n_params) * 0.03).astype(dtype)


def test_column_mode_loss_and_gradient_match_an_independent_reference():
    net = _core.Network(UNITS, "relu", "softmax", "log_loss")
    X, Y, w = _data(96, np.float64)
    params = _params(net, np.float64)
    grad = np.empty_like(params)
    loss = _core.loss_and_gradient(net, params, X, Y, w, 0.01, grad)
    ref_loss, ref_grad = relu_softmax_loss_and_gradient(UNITS, params, X, Y, w, 0.01)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-13)


def test_column_mode_sparse_input_matches_dense():
    net = _core.Network(UNITS, "relu", "softmax", "log_loss")
    X, Y, w = _data(64, np.float64)
    X[X < 0.5] = 0.0
    params = _params(net, np.float64)
    assert_sparse_gradient_equals_dense(net, params, X, Y, w)
