"""fastnn's threads among the ecosystem's: threadpoolctl limits it, joblib's process workers get
their share of the cores, and fits run side by side in threads share them.

test_threads.py checks that results do not depend on the thread count and that
``threadpool_limits(limits=1, user_api='openmp')`` caps ``_core.max_threads()``;
test_meta_estimators.py that a threaded GridSearchCV equals a serial one.
"""

import os
import subprocess
import sys
import textwrap
import threading
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

import fastnn
from fastnn import _core, _engine, _threads

from _util import fit_quiet, openmp_runtimes_limiting_fastnn

needs_openmp = pytest.mark.skipif(not _core.has_openmp, reason="fastnn built without OpenMP")


def _data(n_samples=1500, n_features=20, seed=0):
    # 500-row batches through (64, 32): large enough for the core to use several threads
    # (test_threads.py::test_sizes_used_here_really_run_on_several_threads).
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = np.argmax(X @ rng.normal(size=(n_features, 3)), axis=1)
    return X, y


def _model(**params):
    return fastnn.MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=500, max_iter=3,
                                random_state=0, **params)


def _same_model(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_,
                                                   b.coefs_ + b.intercepts_))


def _max_threads_in_a_new_thread():
    """OpenMP's limit for a thread that set none (what a joblib worker thread starts with)."""
    out = []
    worker = threading.Thread(target=lambda: out.append(_core.max_threads()))
    worker.start()
    worker.join()
    return out[0]


@needs_openmp
@pytest.mark.parametrize("user_api", [None, "openmp"])
def test_threadpool_limits_one_limits_fastnn_and_keeps_its_model(user_api):
    X, y = _data()
    outside = fit_quiet(_model(n_threads=2), X, y)
    with threadpool_limits(limits=1, user_api=user_api):
        assert _core.max_threads() == 1
        # 0: "all the calling thread may use" = 1
        assert _threads.core_threads(_model().n_threads) in (0, 1)
        inside = fit_quiet(_model(), X, y)
    assert _same_model(inside, outside)
    assert inside.loss_curve_ == outside.loss_curve_


@needs_openmp
def test_fastnns_openmp_runtime_is_one_threadpoolctl_finds_and_limits():
    if _core.max_threads() < 2:
        pytest.skip("needs an OpenMP limit above 1")
    openmp, limiting = openmp_runtimes_limiting_fastnn()
    assert openmp, threadpool_info()
    # exactly one of the OpenMP runtimes threadpoolctl lists is fastnn's (scikit-learn's wheel
    # vendors another libgomp, which does not limit fastnn)
    assert len(limiting) == 1, (limiting, openmp)
    assert limiting[0] in {info["filepath"] for info in threadpool_info()}


_NEW_THREADS_PROBE = """
import os, warnings
import numpy as np
from threadpoolctl import threadpool_limits
import fastnn

def n_tasks():
    return len(os.listdir("/proc/self/task"))

rng = np.random.RandomState(0)
X = rng.normal(size=(1500, 20)); y = rng.randint(0, 3, 1500)
warnings.simplefilter("ignore")
model = fastnn.MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=500, max_iter=1,
                             random_state=0)
before = n_tasks()
with threadpool_limits(limits=1):
    model.fit(X, y)
print(n_tasks() - before)
model.fit(X, y)
print(n_tasks() - before)
"""


@pytest.mark.subprocess
@needs_openmp
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_fit_inside_threadpool_limits_starts_no_openmp_thread():
    # OpenMP keeps its worker threads alive after a parallel region: a fresh interpreter gains
    # threads iff a fit ran on several.
    env = dict(os.environ, OMP_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_NEW_THREADS_PROBE)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    limited, unlimited = (int(n) for n in out.stdout.split())
    assert limited == 0
    assert unlimited >= 1


def _core_max_threads():
    from fastnn import _core

    return _core.max_threads()


@pytest.mark.subprocess
@needs_openmp
def test_loky_workers_start_with_their_share_of_the_cores():
    # joblib's process backend sets OMP_NUM_THREADS=cpu_count // n_jobs in its workers (unless
    # the parent set it): fits in GridSearchCV(n_jobs=2) processes need nothing from fastnn.
    expected = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    with joblib.parallel_config(backend="loky"):
        seen = joblib.Parallel(n_jobs=2)(joblib.delayed(_core_max_threads)() for _ in range(2))
    assert seen == [expected, expected]


def test_a_lone_fit_takes_every_core_it_may_use():
    assert _threads.shared_core_threads() == 0  # the core then asks OpenMP: all it may use
    assert _threads.core_threads(_model().n_threads) == 0
    assert _threads.core_threads(_model(n_threads=3).n_threads) == 3


def test_fits_running_side_by_side_in_threads_share_the_cores():
    n_fits = 2
    meeting = threading.Barrier(n_fits + 1)  # the fits' threads, and this one in between
    seen = {}

    def counted_fit(name):
        meeting.wait(timeout=30)  # all fits are running
        seen[name] = (_threads.shared_core_threads(),
                      _threads.core_threads(_model(n_threads=2).n_threads), _core.max_threads())
        meeting.wait(timeout=30)  # all have looked before any ends
        return name

    fit = _threads.counted_as_running(counted_fit)
    workers = [threading.Thread(target=fit, args=(i,)) for i in range(n_fits)]
    for w in workers:
        w.start()
    meeting.wait(timeout=30)
    # a prediction made here, outside the fits, gets a share too
    outside = _threads.shared_core_threads()
    meeting.wait(timeout=30)
    for w in workers:
        w.join()
    cores = _max_threads_in_a_new_thread()
    for shared, explicit, own_limit in seen.values():
        assert own_limit == cores
        assert shared == max(1, cores // n_fits)
        assert explicit == 2  # an explicit n_threads is the user's choice: kept
    assert outside == max(1, _core.max_threads() // (n_fits + 1))
    assert _threads._fitting_threads == {}
    assert _threads.shared_core_threads() == 0


class _PairedMLP(fastnn.MLPClassifier):
    """Fits meet in pairs before they pick their threads (in ``_initialize``, which a first fit
    calls once it counts as running and before it builds its trainer) and again once both have
    picked (in the test's trainer), so that both are running while either picks."""

    meeting = None

    def _initialize(self, spec):
        _PairedMLP.meeting.wait(timeout=60)
        return super()._initialize(spec)


def test_grid_search_under_the_threading_backend_gives_each_fit_its_share(monkeypatch):
    X, y = _data(n_samples=600)
    threads_of_fits = []
    for dtype, Trainer in list(_engine._TRAINERS.items()):
        def recording(*args, _Trainer=Trainer):
            threads_of_fits.append(args[4])  # (network, n_features, batch, alpha, n_threads, ...)
            if _PairedMLP.meeting is not None:
                _PairedMLP.meeting.wait(timeout=60)
            return _Trainer(*args)

        monkeypatch.setitem(_engine._TRAINERS, dtype, recording)
    monkeypatch.setattr(_PairedMLP, "meeting", threading.Barrier(2))
    search = GridSearchCV(
        _PairedMLP(hidden_layer_sizes=(16,), max_iter=2, random_state=0),
        {"alpha": [1e-4, 1e-2]}, cv=2, n_jobs=2, refit=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend="threading"):
            search.fit(X, y)
    assert len(threads_of_fits) == 4
    cores = _max_threads_in_a_new_thread()
    assert threads_of_fits == [max(1, cores // 2)] * 4
    # alone again: the whole machine
    _PairedMLP.meeting = None
    fit_quiet(_model().set_params(max_iter=1), X, y)
    assert threads_of_fits[-1] == 0
