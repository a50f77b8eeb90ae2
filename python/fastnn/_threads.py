"""How many threads the core runs: the ``n_threads`` parameter, and fits in threads sharing cores.

Fits running side by side in threads of one process (joblib's threading backend,
``GridSearchCV(n_jobs=...)`` under it) share the cores instead of each taking them all.
Processes need no such count: joblib's loky workers and dask's nannies start with
``OMP_NUM_THREADS`` set to their share. Results never depend on the thread count.
"""

import functools
import os
import threading
import warnings

import numpy as np

from fastnn import _core

__all__ = ["blas_on_one_thread", "core_threads", "counted_as_running"]

# Threads running a fastnn fit in this process: thread id -> fits it is in.
_fitting_threads = {}
_fitting_threads_lock = threading.Lock()
_INT32_MAX = int(np.iinfo(np.int32).max)  # (np.iinfo costs ~1 µs a call: once here)
# In a fork() child the core may have to run on one thread (fastnn/parallel.hpp): warn once.
_serial_warning_due = False
# threadpoolctl's view of the BLAS libraries loaded (made at the first L-BFGS fit: finding them
# takes ~1 ms, limiting them through it ~30 us).
_blas_controller = None


def _after_fork_in_child():
    """A fork() child: the parent's other threads (and their fits) are not in it; the core's
    thread pool was released before the fork, or the core runs serially here."""
    global _fitting_threads_lock, _serial_warning_due
    _fitting_threads.clear()
    _fitting_threads_lock = threading.Lock()
    _serial_warning_due = _core.serial_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _warn_serial_after_fork():
    global _serial_warning_due
    _serial_warning_due = False
    warnings.warn(
        "fastnn runs on one thread in this process: it was forked while its parent's OpenMP "
        "thread pool was in use, and a fork() child cannot use that pool (results are the same "
        "on one thread). Fork before fastnn runs in the parent, or start processes with the "
        "'spawn' or 'forkserver' method.",
        RuntimeWarning,
    )


def counted_as_running(fit):
    """Decorator: the calling thread counts as running a fastnn fit while ``fit`` runs."""

    @functools.wraps(fit)
    def counted_fit(*args, **kwargs):
        me = threading.get_ident()
        with _fitting_threads_lock:
            _fitting_threads[me] = _fitting_threads.get(me, 0) + 1
        try:
            return fit(*args, **kwargs)
        finally:
            with _fitting_threads_lock:
                _fitting_threads[me] -= 1
                if not _fitting_threads[me]:
                    del _fitting_threads[me]

    return counted_fit


def shared_core_threads():
    """The core's thread count for ``n_threads=None``: 0 (all the calling thread may use) when
    no other thread of this process is running a fastnn fit; otherwise an even share of that,
    ``max(1, max_threads // busy threads)``, this thread included. A fit keeps the count it
    started with (trainer workspaces are sized once)."""
    if not _fitting_threads:  # the common case, without the lock (predict's microseconds)
        return 0
    me = threading.get_ident()
    with _fitting_threads_lock:
        busy = len(_fitting_threads) + (me not in _fitting_threads)
    if busy <= 1:
        return 0
    return max(1, _core.max_threads() // busy)


def core_threads(n_threads):
    """The core's thread count for the ``n_threads`` parameter (0: all it may use)."""
    if _serial_warning_due:
        _warn_serial_after_fork()
    if n_threads is None:
        return shared_core_threads()
    # The core takes a C int, and never runs more threads than it has work blocks for:
    # a larger request (>= 2**31 was a TypeError from the binding) means "as many as useful".
    return min(int(n_threads), _INT32_MAX)


def blas_on_one_thread():
    """Context manager: the BLAS libraries of numpy and scipy (OpenBLAS, MKL, ...) run on one
    thread inside it, through threadpoolctl.

    For scipy's L-BFGS-B between the core's loss-and-gradient evaluations: its vector
    operations on the parameters gain nothing from BLAS threads, and a woken OpenBLAS thread
    keeps spinning for ~0.1 s after each call, on the cores the core's team needs -- its threads
    then wait for one another at every barrier (measured: digits, 2 threads, 290 ms a fit with
    OpenBLAS threads woken vs 98 ms without). The parameters' values do not depend on it:
    OpenBLAS's level-1 routines thread only vectors of over 10,000 entries, and where they do,
    one thread sums in one fixed order.
    """
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")
