"""Ctrl-C during an epoch: the core stops after the current mini-batch, clears the pending
KeyboardInterrupt and reports it (``interrupted``), with the steps already taken left in place
(contract), and sklearn's behaviour at estimator level (a "Training interrupted by user."
warning, fit returns)."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import fastnn
from fastnn import _core

from _util import one_epoch_rule, run_epoch

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT is handled by the main thread only",
)

N_ROWS = 100_000  # batch_size 1: an uninterrupted epoch takes seconds
DELAY = 0.3


def _send_sigint_later(delay=DELAY):
    timer = threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture(scope="module")
def long_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, 20))
    Y = rng.standard_normal((N_ROWS, 1))
    layer_units = [20, 256, 1]
    net = _core.Network(layer_units, "relu", "identity", "squared_error")
    params = rng.standard_normal(net.n_params) * 0.1
    return net, params, X, Y


def test_ctrl_c_interrupts_adam_epoch_after_a_whole_minibatch(long_problem):
    net, params0, X, Y = long_problem
    trainer = _core.Trainer64(net, 20, 1, 0.0)
    p = params0.copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    t = np.zeros(1, dtype=np.int64)
    losses = np.empty(1)
    timer = _send_sigint_later()
    start = time.perf_counter()
    try:
        epochs, interrupted = trainer.run_epochs_adam(
            p, m, v, t, X, Y, None, None, None, None, one_epoch_rule(1e-3), losses, 1e-3, 0.9,
            0.999, 1e-8, apply_rule=False,
        )
        elapsed = time.perf_counter() - start
    except KeyboardInterrupt:  # pragma: no cover - signal came after the call
        pytest.fail("SIGINT escaped the epoch instead of being reported as interrupted")
    finally:
        timer.cancel()
    assert interrupted is True
    assert epochs == 0
    steps = int(t[0])
    assert 0 < steps < N_ROWS, steps
    assert elapsed < 5.0

    # The state is exactly that after `steps` whole steps: replay them.
    replay = _core.Trainer64(net, 20, 1, 0.0)
    q = params0.copy()
    mq, vq, tq = np.zeros_like(q), np.zeros_like(q), np.zeros(1, dtype=np.int64)
    run_epoch(
        replay, "adam", q, (mq, vq, tq), np.ascontiguousarray(X[:steps]),
        np.ascontiguousarray(Y[:steps]), None, None, learning_rate=1e-3, beta_1=0.9,
        beta_2=0.999, epsilon=1e-8,
    )
    assert tq[0] == steps
    assert np.array_equal(p, q)
    assert np.array_equal(m, mq)
    assert np.array_equal(v, vq)


def test_ctrl_c_interrupts_sgd_epoch(long_problem):
    net, params0, X, Y = long_problem
    trainer = _core.Trainer64(net, 20, 1, 0.0)
    p = params0.copy()
    vel = np.zeros_like(p)
    losses = np.empty(1)
    timer = _send_sigint_later()
    start = time.perf_counter()
    try:
        epochs, interrupted = trainer.run_epochs_sgd(
            p, vel, X, Y, None, None, None, None, one_epoch_rule(1e-4), losses, 0.9, True,
            apply_rule=False,
        )
        elapsed = time.perf_counter() - start
    except KeyboardInterrupt:  # pragma: no cover
        pytest.fail("SIGINT escaped the epoch instead of being reported as interrupted")
    finally:
        timer.cancel()
    assert interrupted is True
    assert epochs == 0
    assert elapsed < 5.0
    assert not np.array_equal(p, params0)  # the steps taken are kept
    assert np.all(np.isfinite(p))


def test_ctrl_c_during_fit_warns_and_returns_like_sklearn(long_problem):
    _, _, X, Y = long_problem
    est = fastnn.MLPRegressor(
        hidden_layer_sizes=(256,), batch_size=1, max_iter=5, random_state=0
    )
    timer = _send_sigint_later()
    try:
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            est.fit(X, Y.ravel())
    except KeyboardInterrupt:  # pragma: no cover
        pytest.fail("fit let KeyboardInterrupt escape (sklearn catches it)")
    finally:
        timer.cancel()
    assert est.n_iter_ == 0  # interrupted inside the first epoch
    assert est.loss_curve_ == []
    assert all(np.all(np.isfinite(c)) for c in est.coefs_)
    assert est.predict(X[:5]).shape == (5,)
