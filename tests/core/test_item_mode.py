"""Networks with a layer of >= 128K weights and batches of >= 1M multiply-adds train in item mode:
the batch's passes cut into row items and its weight gradient into tiles of each layer's rows,
with the weights and deltas packed once for all of them (workspace.hpp). Its gradient against an
independent reference (whole batch, many items and tiles), sparse = dense, and its partition."""

import numpy as np
import pytest

from fastnn import _core

from _reference import relu_softmax_loss_and_gradient
from _util import assert_sparse_gradient_equals_dense

UNITS = [600, 256, 64, 3]  # 153,600 weights in the first layer


def _net():
    return _core.Network(UNITS, "relu", "softmax", "log_loss")


def _data(n, dtype, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, UNITS[0])).astype(dtype)
    X[X < 0.3] = 0.0  # sparse enough for the CSR comparison
    Y = np.eye(UNITS[-1], dtype=dtype)[rng.randint(0, UNITS[-1], n)]
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    params = (rng.normal(size=_net().n_params) * 0.05).astype(dtype)
    return X, Y, w, params


@pytest.mark.parametrize("n", [7, 40, 203, 1000])  # 1 to 64 row items, items of uneven rows
def test_item_mode_loss_and_gradient_match_an_independent_reference(n):
    net = _net()
    plan = _core.plan_memory(net, n)
    assert plan["item_mode"] and len(plan["tiles"]) >= 16
    X, Y, w, params = _data(n, np.float64)
    grad = np.empty_like(params)
    loss = _core.loss_and_gradient(net, params, X, Y, w, 0.01, grad)
    ref_loss, ref_grad = relu_softmax_loss_and_gradient(UNITS, params, X, Y, w, 0.01)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-13)


def test_item_mode_sparse_input_matches_dense():
    net = _net()
    X, Y, w, params = _data(203, np.float64)
    assert_sparse_gradient_equals_dense(net, params, X, Y, w)


def test_item_mode_float32_gradient_is_close_to_float64():
    net = _net()
    X, Y, w, params = _data(203, np.float64)
    g64, g32 = np.empty_like(params), np.empty(params.shape, np.float32)
    l64 = _core.loss_and_gradient(net, params, X, Y, w, 0.01, g64)
    l32 = _core.loss_and_gradient(net, params.astype(np.float32), X.astype(np.float32),
                                  Y.astype(np.float32), w.astype(np.float32), 0.01, g32)
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
