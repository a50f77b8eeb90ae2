"""Results must be bitwise identical for any thread count."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import fastnn
from fastnn import _core

from _reference import HIDDEN_ACTIVATIONS, make_targets, n_params
from _util import core_predict, fit_quiet, run_epoch

THREAD_COUNTS = [1, 2, 3]
OUTPUT_CASES = [
    ("identity", "squared_error", 2),
    ("logistic", "binary_log_loss", 3),
    ("softmax", "log_loss", 3),
    ("exp", "poisson", 2),
]
CASE_IDS = [f"{o}-{l}" for o, l, _ in OUTPUT_CASES]


# Sizes: the core only parallelises batches of >= 2e5 multiply-adds
# (batch_size * sum(fan_in * fan_out)); 500 * (20*64 + 64*32 + 32*3) = 1.7e6, split
# into several row chunks. test_sizes_used_here_really_run_on_several_threads checks
# that these tests are not vacuous.
def _data(dtype, n_samples=1500, n_features=20, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    w = rng.normal(size=(n_features, n_classes))
    y = np.argmax(X.astype(np.float64) @ w + rng.normal(size=(n_samples, n_classes)), axis=1)
    return X, y


def _fit(kind, solver, dtype, n_threads):
    X, y = _data(dtype)
    common = dict(
        hidden_layer_sizes=(64, 32),
        solver=solver,
        batch_size=500,
        max_iter=3,
        random_state=0,
        learning_rate_init=0.01,
        n_threads=n_threads,
    )
    if kind == "clf":
        est = fastnn.MLPClassifier(**common)
    else:
        est = fastnn.MLPRegressor(**common)
        y = (X[:, :2].astype(np.float64) ** 2).sum(axis=1).astype(dtype)
    return fit_quiet(est, X, y), X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predictions_are_invariant_to_thread_count(dtype):
    est, X = _fit("clf", "adam", dtype, 1)
    X_big = np.ascontiguousarray(np.vstack([X] * 5))  # 3000 rows -> several chunks
    outs = []
    for k in THREAD_COUNTS:
        est.set_params(n_threads=k)
        outs.append((est.predict_proba(X_big), est.predict(X_big)))
    for proba, pred in outs[1:]:
        assert proba.dtype == dtype
        assert np.array_equal(proba, outs[0][0])
        assert np.array_equal(pred, outs[0][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output,loss,n_out", OUTPUT_CASES, ids=CASE_IDS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_core_loss_gradient_and_predict_invariant_to_thread_count(
    hidden, output, loss, n_out, dtype
):
    # 2001 rows, odd layer widths: row chunks start at unaligned offsets.
    rng = np.random.RandomState(0)
    layer_units = [29, 61, 33, n_out]
    n = 2001
    X = rng.normal(size=(n, 29)).astype(dtype)
    Y = make_targets(rng, loss, n, n_out, dtype=dtype)
    sw = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    params = rng.normal(scale=0.4, size=n_params(layer_units)).astype(dtype)
    net = _core.Network(layer_units, hidden, output, loss)
    results = []
    for k in THREAD_COUNTS:
        grad = np.empty_like(params)
        value = _core.loss_and_gradient(net, params, X, Y, sw, 1e-3, grad, n_threads=k)
        pred = core_predict(net, params, X, n_threads=k)
        results.append((value, grad, pred))
    for k, (value, grad, pred) in zip(THREAD_COUNTS[1:], results[1:]):
        assert value == results[0][0], f"loss, n_threads={k}"
        assert np.array_equal(grad, results[0][1]), f"gradient, n_threads={k}"
        rows = np.flatnonzero((pred != results[0][2]).any(axis=1))
        assert rows.size == 0, f"predict, n_threads={k}: rows {rows[:10]} differ"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trainer_epochs_invariant_to_thread_count(dtype):
    rng = np.random.RandomState(1)
    layer_units = [20, 64, 32, 1]
    n = 1500
    X = rng.normal(size=(n, 20)).astype(dtype)
    Y = rng.normal(size=(n, 1)).astype(dtype)
    params0 = rng.normal(scale=0.3, size=n_params(layer_units)).astype(dtype)
    order = rng.permutation(n).astype(np.int64)
    net = _core.Network(layer_units, "tanh", "identity", "squared_error")
    Trainer = _core.Trainer32 if dtype == np.float32 else _core.Trainer64
    results = []
    for k in THREAD_COUNTS:
        trainer = Trainer(net, 20, 500, 1e-4, n_threads=k)
        p_sgd = params0.copy()
        vel = np.zeros_like(p_sgd)
        l_sgd = run_epoch(trainer, "sgd", p_sgd, vel, X, Y, None, order, learning_rate=0.01,
                          momentum=0.9, nesterov=True)
        p_adam = params0.copy()
        m, v, t = np.zeros_like(p_adam), np.zeros_like(p_adam), np.zeros(1, dtype=np.int64)
        l_adam = run_epoch(trainer, "adam", p_adam, (m, v, t), X, Y, None, order,
                           learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
        assert t[0] == 3
        results.append((l_sgd, p_sgd, l_adam, p_adam))
    for l_sgd, p_sgd, l_adam, p_adam in results[1:]:
        assert l_sgd == results[0][0]
        assert np.array_equal(p_sgd, results[0][1])
        assert l_adam == results[0][2]
        assert np.array_equal(p_adam, results[0][3])


def test_max_threads_is_positive_and_has_openmp_is_bool():
    assert isinstance(_core.has_openmp, bool)
    n = _core.max_threads()
    assert isinstance(n, int) and n >= 1
    if not _core.has_openmp:
        assert n == 1


def test_threadpool_limits_caps_core_max_threads():
    if not _core.has_openmp:
        pytest.skip("fastnn built without OpenMP")
    assert any(info["user_api"] == "openmp" for info in threadpool_info())
    before = _core.max_threads()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _core.max_threads() == 1
    assert _core.max_threads() == before


def _at_offset(a, offset):
    """Copy of 1-D `a` whose data starts `offset` elements past a 64-byte boundary (numpy only
    guarantees 16-byte alignment, so real buffers vary)."""
    item = a.dtype.itemsize
    buf = np.zeros(a.size + 2 * 64 // item, dtype=a.dtype)
    start = (-(buf.ctypes.data // item)) % (64 // item) + offset
    out = buf[start : start + a.size]
    out[:] = a
    assert out.ctypes.data % 64 == offset * item
    return out


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_trainer_epochs_invariant_to_buffer_alignment(solver):
    # Bitwise reproducibility must not depend on where numpy happened to put the
    # parameter / optimizer-state buffers (SIMD head/tail handling).
    rng = np.random.RandomState(1)
    layer_units = [20, 32, 16, 3]
    n = 600
    X = rng.normal(size=(n, 20))
    Y = np.eye(3)[rng.randint(0, 3, n)]
    size = n_params(layer_units)
    params0 = rng.normal(scale=0.3, size=size)
    net = _core.Network(layer_units, "relu", "softmax", "log_loss")
    results = []
    for offset in range(4):
        trainer = _core.Trainer64(net, 20, 200, 1e-4, n_threads=1)
        p = _at_offset(params0, offset)
        s1 = _at_offset(np.zeros(size), offset)
        s2 = _at_offset(np.zeros(size), offset)
        t = np.zeros(1, dtype=np.int64)
        for _ in range(3):
            if solver == "adam":
                run_epoch(trainer, "adam", p, (s1, s2, t), X, Y, None, None, learning_rate=1e-2,
                          beta_1=0.9, beta_2=0.999, epsilon=1e-8)
            else:
                run_epoch(trainer, "sgd", p, s1, X, Y, None, None, learning_rate=1e-2,
                          momentum=0.9, nesterov=True)
        results.append(p.copy())
    for offset, p in enumerate(results[1:], start=1):
        assert np.array_equal(p, results[0]), (
            f"offset {offset}: max |diff| {np.abs(p - results[0]).max():.3g}"
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("units", [[20, 32, 16, 3], [40, 1450, 1450, 3]],
                         ids=["row-chunks", "column-mode"])
def test_loss_and_gradient_invariant_to_weight_and_parameter_alignment(units, dtype):
    # The batch's weight sum and the L2 penalty are reductions over the caller's arrays: their
    # order (and rounding) must not depend on where those arrays start.
    rng = np.random.RandomState(2)
    n = 96
    X = rng.normal(size=(n, units[0])).astype(dtype)
    Y = np.eye(units[-1], dtype=dtype)[rng.randint(0, units[-1], n)]
    w0 = rng.uniform(0.1, 3.0, n).astype(dtype)
    params0 = rng.normal(scale=0.05, size=n_params(units)).astype(dtype)
    net = _core.Network(units, "relu", "softmax", "log_loss")
    results = []
    for offset in range(8):
        w, p = _at_offset(w0, offset), _at_offset(params0, offset)
        grad = np.empty_like(params0)
        loss = _core.loss_and_gradient(net, p, X, Y, w, 1e-2, grad, 1)
        results.append((loss, grad))
    for offset, (loss, grad) in enumerate(results[1:], start=1):
        assert loss == results[0][0], f"offset {offset}"
        assert np.array_equal(grad, results[0][1]), f"offset {offset}"


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_repeated_fits_are_bitwise_identical(solver):
    first, _ = _fit("clf", solver, np.float64, 1)
    for _ in range(3):
        again, _ = _fit("clf", solver, np.float64, 1)
        for a, b in zip(first.coefs_ + first.intercepts_, again.coefs_ + again.intercepts_):
            assert np.array_equal(a, b)


_THREAD_PROBE = """
import os, warnings
import numpy as np
import fastnn
from fastnn import _core

def n_tasks():
    return len(os.listdir("/proc/self/task"))

rng = np.random.RandomState(0)
before = n_tasks()
{body}
print(n_tasks() - before)
"""

_PROBES = {
    "fit": """
X = rng.normal(size=(1500, 20)); y = rng.randint(0, 3, 1500)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fastnn.MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=500, max_iter=1,
                         random_state=0, n_threads=3).fit(X, y)
""",
    "loss_and_gradient": """
units = [29, 61, 33, 3]
net = _core.Network(units, "tanh", "softmax", "log_loss")
X = rng.normal(size=(2001, 29)); Y = np.eye(3)[rng.randint(0, 3, 2001)]
p = rng.normal(size=net.n_params); g = np.empty_like(p)
_core.loss_and_gradient(net, p, X, Y, None, 0.0, g, n_threads=3)
""",
}


@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.parametrize("probe", ["fit", "loss_and_gradient"])
def test_sizes_used_here_really_run_on_several_threads(probe):
    # OpenMP keeps its worker threads alive after a parallel region: a fresh
    # interpreter gains threads iff the work really ran in parallel.
    if not _core.has_openmp:
        pytest.skip("fastnn built without OpenMP")
    code = _THREAD_PROBE.replace("{body}", textwrap.dedent(_PROBES[probe]))
    env = dict(os.environ, OMP_NUM_THREADS="3", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) >= 1
