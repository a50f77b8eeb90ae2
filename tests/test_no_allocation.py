"""An epoch allocates nothing per mini-batch: every buffer is planned once, when the trainer is
built for a fit (Eigen's GEMM packing blocks included).

Heap allocations are counted by a small malloc shim (tests/support/malloc_counter.c) preloaded
into a child process. An epoch of 40 batches must allocate exactly as often as an epoch of 4:
what remains is the Python call itself, not the training loop.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SHIM_SOURCE = Path(__file__).parent / "support" / "malloc_counter.c"

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


@pytest.fixture(scope="module")
def malloc_counter(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler and glibc to build the malloc-counting shim")
    lib = tmp_path_factory.mktemp("shim") / "libmalloc_counter.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", str(SHIM_SOURCE), "-o", str(lib)], check=True)
    return lib


@pytest.mark.parametrize(
    "case",
    [
        ([64, 256, 128, 10], 200, "float32", "adam"),  # digits-sized, parallel chunks
        ([784, 256, 128, 10], 128, "float64", "sgd"),  # products beyond Eigen's stack limit
        ([300, 1024, 10], 256, "float32", "sgd"),
        ([2, 2, 3, 2], 1, "float64", "sgd"),  # the notes' network, one sample per batch
        ([40, 1450, 1450, 3], 64, "float32", "adam"),  # column mode (a layer > 2M weights)
    ],
)
def test_epoch_allocates_nothing_per_minibatch(malloc_counter, case):
    env = dict(os.environ, LD_PRELOAD=str(malloc_counter))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, repr(case)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    few, many = map(int, proc.stdout.split())
    assert many == few, f"4 batches: {few} allocations, 40 batches: {many}"
