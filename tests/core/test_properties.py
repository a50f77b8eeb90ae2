"""Property-based tests of the core (hypothesis) against the NumPy reference in _reference.py.

Shapes, dtypes, activations (leaky_relu with its slope, 0 included), every output/loss pair,
residual layers, sample weights (zeros included), batch sizes and thread counts are drawn; data
and parameters come from a drawn seed. Runs are derandomized (a fixed seed per test) and use no
example database, so CI sees the same examples every time.

FASTNN_PROPERTY_EXAMPLES_SCALE (default 1) scales every max_examples: the sanitizer job
(test_sanitizers.py) runs this file with fewer examples.
"""

import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Hypothesis imports this (and through it libcst, when installed) to print a failing example:
# import it now, so that a dependency's DeprecationWarning cannot turn a failure report into a
# pytest INTERNALERROR under filterwarnings = error.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:
        pass

from fastnn import _core

from _reference import (
    ALL_OUTPUT_LOSS_PAIRS,
    HIDDEN_ACTIVATIONS,
    forward,
    loss_and_gradient,
    residual_layers,
    unpack,
)
from _util import run_epoch

pytestmark = [pytest.mark.slow]

_SCALE = float(os.environ.get("FASTNN_PROPERTY_EXAMPLES_SCALE", "1"))

# Relative tolerances of the core against the float64 reference, and the absolute ones as a
# fraction of the largest reference entry (gradient entries can cancel to ~0).
TOLERANCES = {
    np.dtype(np.float64): dict(rtol=1e-10, atol_fraction=1e-12),
    np.dtype(np.float32): dict(rtol=1e-4, atol_fraction=1e-5),
}

# The core runs a batch on several threads only from this many multiply-adds
# (kMinParallelMacs in cpp/src/trainer.cpp), predict only from 2 blocks of 256 rows.
MIN_PARALLEL_MACS = 2.0e5
PREDICT_BLOCK_ROWS = 256


def _settings(max_examples):
    return settings(
        max_examples=max(1, int(max_examples * _SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ------------------------------------------------------------------------------ strategies
@st.composite
def networks(draw, widths=None, n_hidden=None):
    """A network spec: layer units, activations, loss, slope, residual. widths, n_hidden:
    strategies for the hidden layers' widths (default 1..16) and count (default 1..3)."""
    widths = st.integers(1, 16) if widths is None else widths
    n_hidden = st.integers(1, 3) if n_hidden is None else n_hidden
    n_features = draw(st.integers(1, 12))
    hidden_units = []
    for _ in range(draw(n_hidden)):
        # repeat the previous width half the time, so residual layers are common
        if hidden_units and draw(st.booleans()):
            hidden_units.append(hidden_units[-1])
        else:
            hidden_units.append(draw(widths))
    output, loss = draw(st.sampled_from(ALL_OUTPUT_LOSS_PAIRS))
    n_outputs = draw(st.integers(2, 4) if output == "softmax" else st.integers(1, 3))
    hidden = draw(st.sampled_from(HIDDEN_ACTIVATIONS))
    slope = 0.01
    if hidden == "leaky_relu":
        slope = draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
    units = [n_features, *hidden_units, n_outputs]
    residual = any(residual_layers(units)) and draw(st.booleans())
    return dict(units=units, hidden=hidden, output=output, loss=loss, slope=slope,
                residual=residual)


def _targets(rng, loss, n, n_outputs):
    if loss == "squared_error":
        return rng.normal(size=(n, n_outputs))
    if loss == "poisson":
        return rng.poisson(1.5, size=(n, n_outputs)).astype(float)
    if loss == "log_loss":
        return np.eye(n_outputs)[rng.randint(0, n_outputs, n)]
    return (rng.uniform(size=(n, n_outputs)) < 0.5).astype(float)  # binary / quadratic


def _params(rng, units):
    # Variance-preserving hidden layers; a smaller output layer keeps exp/softmax outputs and
    # the SGD steps moderate (an exp output of an identity network can otherwise diverge).
    coefs = [rng.normal(scale=1 / math.sqrt(a), size=(a, b)) for a, b in zip(units, units[1:])]
    coefs[-1] *= 0.3
    intercepts = [rng.normal(scale=0.5, size=b) for b in units[1:]]
    intercepts[-1] *= 0.3
    return np.concatenate([c.ravel() for c in coefs] + intercepts)


def _weights(rng, n, kind):
    if kind == "none":
        return None
    w = rng.uniform(0.1, 2.0, n)
    if kind == "with_zeros":
        w[rng.uniform(size=n) < 0.3] = 0.0
        w[0] = 1.5  # Σw > 0
    return w


def _problem(spec, n, dtype, weights, seed):
    rng = np.random.RandomState(seed)
    units = spec["units"]
    X = rng.normal(size=(n, units[0]))
    Y = _targets(rng, spec["loss"], n, units[-1])
    w = _weights(rng, n, weights)
    params = _params(rng, units)
    return tuple(None if a is None else np.ascontiguousarray(a, dtype=dtype)
                 for a in (X, Y, w, params))


def _network(spec):
    return _core.Network(spec["units"], spec["hidden"], spec["output"], spec["loss"],
                         leaky_slope=spec["slope"],
                         residual=residual_layers(spec["units"], spec["residual"]))


def _reference(spec, params, X, Y, w, alpha):
    """The float64 reference from the (possibly float32) inputs; log losses clip at the
    inputs' dtype's eps, as the core does."""
    return loss_and_gradient(
        _f64(params), spec["units"], _f64(X), _f64(Y), spec["hidden"], spec["output"],
        spec["loss"], alpha, _f64(w), leaky_slope=spec["slope"],
        residual=residual_layers(spec["units"], spec["residual"]), eps=np.finfo(X.dtype).eps,
    )


def _f64(a):
    return None if a is None else a.astype(np.float64)


def _core_predict(net, params, X, n_threads):
    coefs, intercepts = unpack(params, net.layer_units)
    return _core.predict(coefs, intercepts, net.hidden_activation, net.output_activation,
                         net.leaky_slope, X, n_threads=n_threads, residual=net.residual_layers)


def _assert_close(actual, expected, dtype, what):
    tol = TOLERANCES[np.dtype(dtype)]
    expected = np.asarray(expected, dtype=np.float64)
    atol = tol["atol_fraction"] * max(float(np.abs(expected).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=tol["rtol"],
                               atol=atol, err_msg=what)


# ------------------------------------------------------------------------------ properties
@_settings(max_examples=600)
@given(
    spec=networks(),
    n=st.integers(1, 40),
    dtype=st.sampled_from([np.float64, np.float32]),
    weights=st.sampled_from(["none", "positive", "with_zeros"]),
    alpha=st.sampled_from([0.0, 1e-4, 0.3]),
    n_threads=st.integers(1, 3),
    extra_batch=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_loss_gradient_and_predict_match_numpy_reference(
    spec, n, dtype, weights, alpha, n_threads, extra_batch, seed
):
    X, Y, w, params = _problem(spec, n, dtype, weights, seed)
    net = _network(spec)
    assert net.residual_layers == residual_layers(spec["units"], spec["residual"])
    grad = np.full_like(params, np.nan)
    value = _core.loss_and_gradient(net, params, X, Y, w, alpha, grad, n_threads=n_threads)
    ref_value, ref_grad = _reference(spec, params, X, Y, w, alpha)
    _assert_close(value, ref_value, dtype, "loss")
    _assert_close(grad, ref_grad, dtype, "gradient")

    # A trainer planned for larger batches (other workspace sizes) gives the same, bitwise.
    Trainer = _core.Trainer32 if dtype == np.float32 else _core.Trainer64
    trainer = Trainer(net, spec["units"][0], n + extra_batch, alpha, n_threads=n_threads)
    grad2 = np.full_like(params, np.nan)
    assert trainer.loss_and_gradient(params, X, Y, w, grad2) == value
    assert np.array_equal(grad2, grad)

    out = _core_predict(net, params, X, n_threads)
    assert out.dtype == dtype and out.shape == (n, spec["units"][-1])
    ref_out = forward(_f64(params), spec["units"], _f64(X), spec["hidden"], spec["output"],
                      spec["slope"], residual_layers(spec["units"], spec["residual"]))
    _assert_close(out, ref_out, dtype, "predict")


@_settings(max_examples=300)
@given(
    spec=networks(),
    n=st.integers(2, 40),
    batch_fraction=st.floats(0.0, 1.0, exclude_max=True),
    shuffled=st.booleans(),
    weighted=st.booleans(),
    alpha=st.sampled_from([0.0, 1e-3]),
    learning_rate=st.sampled_from([0.001, 0.01]),
    n_threads=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_sgd_epoch_equals_numpy_minibatch_steps(
    spec, n, batch_fraction, shuffled, weighted, alpha, learning_rate, n_threads, seed
):
    batch_size = 1 + int(batch_fraction * (n - 1))  # 1 .. n - 1: several mini-batches
    X, Y, w, params0 = _problem(spec, n, np.float64, "positive" if weighted else "none", seed)
    order = np.random.RandomState(seed ^ 1).permutation(n).astype(np.int64) if shuffled else None
    net = _network(spec)
    trainer = _core.Trainer64(net, spec["units"][0], batch_size, alpha, n_threads=n_threads)
    params = params0.copy()
    velocity = np.zeros_like(params)
    epoch_loss = run_epoch(trainer, "sgd", params, velocity, X, Y, w, order,
                           learning_rate=learning_rate, momentum=0.0, nesterov=False)

    rows = np.arange(n) if order is None else order
    expected, expected_loss = params0.copy(), 0.0
    for start in range(0, n, batch_size):
        batch = rows[start : start + batch_size]
        value, grad = _reference(spec, expected, X[batch], Y[batch],
                                 None if w is None else w[batch], alpha)
        expected_loss += value * batch.size
        step = -learning_rate * grad  # no momentum: the velocity is the last step
        expected += step
    np.testing.assert_allclose(epoch_loss, expected_loss / n, rtol=1e-9)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(params, expected, rtol=1e-9, atol=1e-11 * scale)
    np.testing.assert_allclose(velocity, step, rtol=1e-9, atol=1e-11 * scale)


@st.composite
def parallel_problems(draw):
    """Networks and row counts large enough that the core really splits the work: every batch
    has >= MIN_PARALLEL_MACS multiply-adds and predict more than one block of rows."""
    spec = draw(networks(widths=st.integers(40, 96), n_hidden=st.integers(2, 3)))
    units = spec["units"]
    macs = sum(a * b for a, b in zip(units, units[1:]))
    min_rows = math.ceil(1.05 * MIN_PARALLEL_MACS / macs)
    batch_size = draw(st.integers(min_rows, min_rows + 100))
    # several batches, the last one smaller; more than one predict block
    n = draw(st.integers(max(batch_size + 1, PREDICT_BLOCK_ROWS + 1), 2 * batch_size + 300))
    return spec, batch_size, n


@_settings(max_examples=100)
@given(
    problem=parallel_problems(),
    dtype=st.sampled_from([np.float64, np.float32]),
    weights=st.sampled_from(["none", "positive"]),
    solver=st.sampled_from(["sgd", "nesterov", "adam"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_results_are_bitwise_identical_for_1_2_3_threads(problem, dtype, weights, solver, seed):
    spec, batch_size, n = problem
    X, Y, w, params0 = _problem(spec, n, dtype, weights, seed)
    params0 *= dtype(0.5)
    order = np.random.RandomState(seed ^ 1).permutation(n).astype(np.int64)
    net = _network(spec)
    Trainer = _core.Trainer32 if dtype == np.float32 else _core.Trainer64
    results = []
    for n_threads in (1, 2, 3):
        grad = np.empty_like(params0)
        value = _core.loss_and_gradient(net, params0, X, Y, w, 1e-3, grad, n_threads=n_threads)
        out = _core_predict(net, params0, X, n_threads)
        trainer = Trainer(net, spec["units"][0], batch_size, 1e-3, n_threads=n_threads)
        params, m, v = params0.copy(), np.zeros_like(params0), np.zeros_like(params0)
        if solver == "adam":
            t = np.zeros(1, dtype=np.int64)
            epoch_loss = run_epoch(trainer, "adam", params, (m, v, t), X, Y, w, order,
                                   learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        else:
            epoch_loss = run_epoch(trainer, "sgd", params, m, X, Y, w, order, learning_rate=1e-3,
                                   momentum=0.9, nesterov=solver == "nesterov")
        results.append((value, grad, out, epoch_loss, params, m, v))
    assert np.isfinite(results[0][0])
    names = ("loss", "gradient", "predict", "epoch loss", "params", "state m", "state v")
    for n_threads, result in zip((2, 3), results[1:]):
        for name, a, b in zip(names, results[0], result):
            assert np.array_equal(a, b), f"{name} differs between 1 and {n_threads} threads"


def test_strategies_reach_residual_zero_slope_and_every_loss():
    """The strategies are not vacuous: residual networks, leaky_relu with slope 0 and every
    output/loss pair occur among the examples they generate."""
    seen = set()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(spec=networks())
    def collect(spec):
        seen.add(spec["loss"])
        if spec["residual"]:
            seen.add("residual")
        if spec["hidden"] == "leaky_relu" and spec["slope"] == 0.0:
            seen.add("slope0")

    collect()
    assert seen >= {loss for _, loss in ALL_OUTPUT_LOSS_PAIRS} | {"residual", "slope0"}
