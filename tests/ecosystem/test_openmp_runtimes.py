"""Several OpenMP runtimes in one process: scikit-learn's wheel vendors a libgomp, PyTorch's
another (and oneDNN/MKL threads), a fastnn wheel a third. In every import order, fastnn fits and
predicts in threads while PyTorch trains, numpy multiplies (OpenBLAS) and scikit-learn fits: no
crash, no deadlock, fastnn's results bitwise the serial ones, and threadpoolctl lists and limits
fastnn's runtime. Each order runs in its own process with a timeout.

PyTorch is not in the test extra (its CPU wheel is not on PyPI's default index); without it the
orders of scikit-learn and fastnn alone run, and the PyTorch ones skip saying so.
"""

import importlib.util
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]  # _util.py's folder, for the child
HAVE_TORCH = importlib.util.find_spec("torch") is not None
LIBRARIES = ("torch", "sklearn", "fastnn")

SCRIPT = textwrap.dedent(
    """
    import sys
    for name in sys.argv[1].split(","):
        __import__(name)
    import hashlib, threading, warnings
    import numpy as np
    import fastnn
    from fastnn import _core
    from sklearn.neural_network import MLPRegressor
    torch = sys.modules.get("torch")
    warnings.simplefilter("ignore")

    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 30)); y = rng.randint(0, 3, 3000)

    def fastnn_digests():
        model = fastnn.MLPClassifier((64, 32), batch_size=500, max_iter=3, random_state=0,
                                     n_threads=2).fit(X, y)
        proba = model.predict_proba(X)
        return [hashlib.sha256(a.tobytes()).hexdigest() for a in model.coefs_ + [proba]]

    expected = fastnn_digests()  # alone, before the others start

    def fastnn_work(out):
        out.append(all(fastnn_digests() == expected for _ in range(4)))

    def torch_work(out):
        torch.set_num_threads(2)
        net = torch.nn.Sequential(torch.nn.Linear(30, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 3))
        opt = torch.optim.Adam(net.parameters())
        Xt, yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y)
        for _ in range(30):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt), yt).backward()
            opt.step()
        out.append(True)

    def numpy_and_sklearn_work(out):
        A = rng.normal(size=(400, 400))
        for _ in range(20):
            A = np.tanh(A @ A / 400)
        MLPRegressor(hidden_layer_sizes=(32,), max_iter=5).fit(X, X[:, 0])
        out.append(True)

    works = [fastnn_work, fastnn_work, numpy_and_sklearn_work] + ([torch_work] if torch else [])
    results = [[] for _ in works]
    threads = [threading.Thread(target=w, args=(r,), daemon=True)
               for w, r in zip(works, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "deadlock: a thread did not finish"
    assert results[0] == [True] and results[1] == [True], "fastnn's bits changed under load"
    assert all(r == [True] for r in results), results

    # threadpoolctl lists fastnn's OpenMP runtime among the others and limits it
    assert _core.max_threads() >= 2, "OMP_NUM_THREADS=1 in the environment?"
    sys.path.insert(0, sys.argv[2])
    from _util import openmp_runtimes_limiting_fastnn
    openmp, limiting = openmp_runtimes_limiting_fastnn()
    assert len(limiting) == 1, (limiting, openmp)
    print(len(openmp), "OpenMP runtimes:", *sorted(openmp))
    """
)


def _orders():
    for order in itertools.permutations(LIBRARIES):
        marks = () if HAVE_TORCH else pytest.mark.skip(
            reason="PyTorch is not installed (pip install torch)")
        yield pytest.param(",".join(order), marks=marks, id="-".join(order))
    for order in itertools.permutations(LIBRARIES[1:]):
        yield pytest.param(",".join(order), id="-".join(order) + "-without-torch")


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("order", list(_orders()))
def test_every_import_order_with_other_runtimes_at_work(order):
    if _max_threads() < 2:
        pytest.skip("needs an OpenMP limit above 1")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, order, str(TESTS)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    n_runtimes = int(proc.stdout.split()[0])
    # fastnn's and scikit-learn's libgomp at least (PyTorch's joins them where it is imported)
    assert n_runtimes >= 2, proc.stdout


def _max_threads():
    from fastnn import _core

    return _core.max_threads()
