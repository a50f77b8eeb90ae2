"""fastnn: fast multilayer-perceptron training behind scikit-learn's MLP estimators.

``fastnn.MLPClassifier`` and ``fastnn.MLPRegressor`` are drop-in replacements for
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: same parameters, defaults, fitted
attributes and methods, trained by an Eigen/OpenMP C++ core.
"""

import os as _os
import sys as _sys


def _load_core():
    """Import the C++ core -- the instruction-set variant this machine runs best, see
    ``fastnn._variants`` -- as ``fastnn._core``, with a shorter OpenMP spin unless the user chose
    a wait policy.

    GNU OpenMP threads spin 300k iterations at a barrier before sleeping. When other processes
    share the cores, a spinning thread burns the time slice the thread it waits for needs, and
    training with several threads can run slower than with one. Too short a spin (1000) has the
    opposite problem on an idle machine: small networks, whose barriers come every few
    microseconds, put threads to sleep, the scheduler wakes them on the waker's core, and epoch
    times become erratic. 30000 balances the two (see the README's "Threads" section). libgomp
    reads its environment once, when it loads (here, unless another extension linked to the same
    libgomp loaded it first), so the variable is set only around the import and then removed:
    other libraries never see it.
    """
    from fastnn import _variants

    spin = not ("OMP_WAIT_POLICY" in _os.environ or "GOMP_SPINCOUNT" in _os.environ)
    if spin:
        _os.environ["GOMP_SPINCOUNT"] = "30000"
    try:
        core = _variants.load(__name__)
    finally:
        if spin:
            del _os.environ["GOMP_SPINCOUNT"]
    _sys.modules[__name__ + "._core"] = core  # every `from fastnn import _core` gets this one
    return core


_core = _load_core()

from fastnn import callbacks  # noqa: E402
from fastnn._onnx import install_hook as _install_onnx_hook  # noqa: E402
from fastnn._onnx import to_onnx  # noqa: E402

_install_onnx_hook()  # skl2onnx.to_onnx knows fastnn's models, whenever skl2onnx is imported
from fastnn._config import show_config  # noqa: E402
from fastnn._core import __version__  # noqa: E402
from fastnn._interop import from_sklearn, to_sklearn  # noqa: E402
from fastnn._mlp import MLPClassifier, MLPRegressor  # noqa: E402
from fastnn._persist import load, save  # noqa: E402
from fastnn._plot import plot_loss_curve  # noqa: E402

__all__ = [
    "MLPClassifier", "MLPRegressor", "from_sklearn", "to_sklearn", "save", "load", "__version__",
    "plot_loss_curve", "show_config", "callbacks", "to_onnx",
]
