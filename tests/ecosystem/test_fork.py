"""fork() after fastnn's threads ran: the child fits and predicts, with all its threads, the same
bits as the parent (cpp/src/parallel.cpp releases the OpenMP pool before a fork).

Each scenario runs in its own Python process with a timeout, so a regression to the hang that
GNU OpenMP's pool causes in a fork() child fails in seconds instead of stalling the suite.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.subprocess,
              pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")]

PRELUDE = textwrap.dedent(
    """
    import hashlib, multiprocessing, os, sys, threading, warnings
    import numpy as np
    import fastnn
    from fastnn import _core

    warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning: max_iter
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 30))
    y = rng.randint(0, 3, 3000)
    X_big = rng.normal(size=(200_000, 30))

    def fit(seed):
        model = fastnn.MLPClassifier((64, 32), max_iter=3, random_state=seed, n_threads=2)
        return model.fit(X, y)

    def digest(model):
        return hashlib.sha256(b"".join(c.tobytes() for c in model.coefs_)).hexdigest()

    def fit_digest(seed):
        return digest(fit(seed))

    def threads_now():
        return len(os.listdir("/proc/self/task"))

    def in_child(work):
        # os.fork(); the child runs work() and reports through a pipe; the parent returns it
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                out = repr(work()).encode()
                code = 0
            except BaseException as e:
                out, code = repr(e).encode(), 1
            os.write(w, out)
            os._exit(code)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            out = f.read().decode()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, out
        return eval(out)
    """
)


def run(script, timeout=90):
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_a_fork_pool_after_a_threaded_fit_fits_what_the_parent_fits():
    run("""
        expected = [fit_digest(seed) for seed in (1, 2, 3, 4)]  # the parent's threads ran
        with multiprocessing.get_context("fork").Pool(2) as pool:
            got = pool.map_async(fit_digest, (1, 2, 3, 4)).get(timeout=60)
        assert got == expected, (got, expected)
        """)


def test_a_child_forked_after_a_threaded_predict_predicts_the_same_bits_on_all_its_threads():
    out = run("""
        model = fit(0)
        proba = model.predict_proba(X_big)  # a 2-thread team in the parent
        def child():
            p = model.predict_proba(X_big)
            return p.tobytes() == proba.tobytes(), _core.max_threads(), threads_now()
        same, max_threads, threads = in_child(child)
        assert same
        assert max_threads == _core.max_threads()
        print(threads)
        """)
    # the child started its own team (n_threads=2): its main thread and an OpenMP thread
    assert int(out.split()[-1]) >= 2


def test_a_child_forked_after_a_fit_fits_and_predicts_like_the_parent():
    run("""
        model = fit(0)
        expected = fit_digest(1), model.predict_proba(X).tobytes()
        got = in_child(lambda: (fit_digest(1), model.predict_proba(X).tobytes()))
        assert got == expected
        # and the parent's own next team still works, bitwise the same
        assert fit_digest(1) == expected[0]
        """)


def test_a_child_forked_after_a_fit_in_another_thread_fits_like_the_parent():
    run("""
        results = {}
        t = threading.Thread(target=lambda: results.update(d=fit_digest(5)))
        t.start(); t.join()
        assert in_child(lambda: fit_digest(5)) == results["d"]
        """)


def test_when_the_pool_cannot_be_released_the_child_runs_on_one_thread_and_says_so_once():
    run("""
        model = fit(0)
        expected = fit_digest(1), model.predict_proba(X_big).tobytes()
        _core._simulate_pool_kept_over_fork()
        def child():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                got = fit_digest(1), model.predict_proba(X_big).tobytes()
                model.predict(X[:5])
            said = [str(w.message) for w in caught if w.category is RuntimeWarning]
            return got, said, _core.serial_after_fork(), _core.max_threads()
        got, said, serial, max_threads = in_child(child)
        assert got == expected
        assert serial and max_threads == 1
        assert len(said) == 1 and "one thread" in said[0] and "'spawn'" in said[0], said
        assert not _core.serial_after_fork()  # the parent keeps its threads
        """)
