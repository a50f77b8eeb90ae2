"""An epoch allocates nothing per mini-batch: every buffer is planned once, when the trainer is
built for a fit (Eigen's GEMM packing blocks included).

Heap allocations are counted by a small malloc shim (tests/support/malloc_counter.c) preloaded
into a child process. An epoch of 40 batches must allocate exactly as often as an epoch of 4:
what remains is the Python call itself, not the training loop. And the estimators' default
path -- a whole fit in one core call, with the core's shuffles and between-epoch rule -- must
allocate as often in that call for 30 epochs as for 3.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SHIM_SOURCE = Path(__file__).resolve().parents[1] / "support" / "malloc_counter.c"

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

CHILD = textwrap.dedent(
    """
    import ctypes, sys
    import numpy as np
    from fastnn import _core

    count = ctypes.CDLL(None).alloc_count
    count.restype = ctypes.c_long
    units, batch, dtype, solver = eval(sys.argv[1])
    dtype = np.dtype(dtype)
    Trainer = _core.Trainer32 if dtype == np.float32 else _core.Trainer64
    net = _core.Network(units, "relu", "softmax", "log_loss")
    counts = []
    for n_batches in (4, 40):
        n = batch * n_batches
        rng = np.random.default_rng(0)
        X = rng.random((n, units[0])).astype(dtype)
        Y = np.eye(units[-1], dtype=dtype)[rng.integers(0, units[-1], n)]
        w = rng.random(n).astype(dtype)
        p = rng.normal(0, 0.05, net.n_params).astype(dtype)
        m, v, t = np.zeros_like(p), np.zeros_like(p), np.zeros(1, np.int64)
        order = rng.permutation(n).astype(np.int64)
        trainer = Trainer(net, units[0], batch, 1e-4, 2)
        rule = _core.EpochRule(
            tol=1e-4, n_iter_no_change=10, schedule="constant", criterion="training_loss",
            learning_rate_init=1e-3, power_t=0.5, learning_rate=1e-3, best=np.inf,
            no_improvement_count=0, samples_seen=0)
        losses = np.empty(1)
        def epoch():
            if solver == "adam":
                trainer.run_epochs_adam(p, m, v, t, X, Y, w, order, None, None, rule, losses,
                                        1e-3, 0.9, 0.999, 1e-8, apply_rule=False)
            else:
                trainer.run_epochs_sgd(p, m, X, Y, w, order, None, None, rule, losses, 0.9,
                                       True, apply_rule=False)
        epoch()  # first call: one-time set-up (thread pool, ...)
        before = count()
        epoch()
        counts.append(count() - before)
    print(counts[0], counts[1])
    """
)


# A default fit (the whole fit in one core call): allocations during the core call, counted by
# wrapping the optimizer's call into the core, for max_iter 3 and 30.
FIT_CHILD = textwrap.dedent(
    """
    import ctypes, sys, warnings
    import numpy as np
    import fastnn
    from fastnn import _optimizers

    count = ctypes.CDLL(None).alloc_count
    count.restype = ctypes.c_long
    params = eval(sys.argv[1])
    calls = []

    def counting(run_epochs):
        def run(*args):
            before = count()
            out = run_epochs(*args)
            calls.append(count() - before)
            return out
        return run

    for cls in (_optimizers.SGDOptimizer, _optimizers.AdamOptimizer):
        cls.run_epochs = counting(cls.run_epochs)
    rng = np.random.default_rng(0)
    X = rng.random((1000, 64)).astype(params.pop("dtype"))
    y = rng.integers(0, 10, 1000)
    counts = []
    for max_iter in (3, 3, 30):  # the first fit pays one-time set-up (the thread pool, ...)
        calls.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fastnn.MLPClassifier(max_iter=max_iter, tol=0.0, n_iter_no_change=np.inf,
                                         random_state=0, **params).fit(X, y)
        assert model.n_iter_ == max_iter and len(calls) == 1, (model.n_iter_, calls)
        counts.append(calls[0])
    print(counts[1], counts[2])
    """
)


@pytest.fixture(scope="module")
def malloc_counter(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler and glibc to build the malloc-counting shim")
    lib = tmp_path_factory.mktemp("shim") / "libmalloc_counter.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", str(SHIM_SOURCE), "-o", str(lib)], check=True,
                   timeout=120)
    return lib


def _child_counts(malloc_counter, script, argument):
    """The two allocation counts ``script`` prints, run in a child with the shim preloaded."""
    env = dict(os.environ, LD_PRELOAD=str(malloc_counter))
    proc = subprocess.run(
        [sys.executable, "-c", script, repr(argument)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return tuple(map(int, proc.stdout.split()))


@pytest.mark.parametrize(
    "case",
    [
        ([64, 256, 128, 10], 200, "float32", "adam"),  # digits-sized, parallel chunks
        ([784, 256, 128, 10], 128, "float64", "sgd"),  # products beyond Eigen's stack limit
        ([300, 1024, 10], 256, "float32", "sgd"),  # item mode (a layer >= 128K weights)
        ([2, 2, 3, 2], 1, "float64", "sgd"),  # the notes' network, one sample per batch
        ([40, 1450, 1450, 3], 64, "float32", "adam"),  # column mode (a layer > 2M weights)
    ],
)
def test_epoch_allocates_nothing_per_minibatch(malloc_counter, case):
    few, many = _child_counts(malloc_counter, CHILD, case)
    assert many == few, f"4 batches: {few} allocations, 40 batches: {many}"


@pytest.mark.parametrize(
    "params",
    [
        dict(dtype="float32", solver="adam", hidden_layer_sizes=(128, 64)),
        dict(dtype="float64", solver="sgd", learning_rate="invscaling", batch_size=100),
        dict(dtype="float32", solver="adam", dropout=0.2, residual=True,
             hidden_layer_sizes=(32, 32)),
        dict(dtype="float64", solver="sgd", shuffle=False, learning_rate="adaptive"),
        dict(dtype="float32", solver="adam", hidden_layer_sizes=(2048,)),  # 64 x 2048 = 128K
    ],
    ids=["adam", "sgd-invscaling", "dropout-residual", "unshuffled-adaptive", "item-mode"],
)
def test_default_fit_allocates_nothing_per_epoch(malloc_counter, params):
    few, many = _child_counts(malloc_counter, FIT_CHILD, params)
    assert many == few, f"3 epochs: {few} allocations, 30 epochs: {many}"
