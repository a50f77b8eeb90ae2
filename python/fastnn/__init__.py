"""fastnn: fast multilayer-perceptron training behind scikit-learn's MLP estimators.

``fastnn.MLPClassifier`` and ``fastnn.MLPRegressor`` are drop-in replacements for
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: same parameters, defaults, fitted
attributes and methods, trained by an Eigen/OpenMP C++ core.
"""

import os as _os


def _load_core():
    """Import the C++ core, with a short OpenMP spin unless the user chose a wait policy.

    GNU OpenMP threads spin ~300k iterations at every barrier before sleeping: fastest on an
    idle machine, but when other processes share the cores a spinning thread burns the time
    slice the thread it waits for needs, and two threads end up 2-3x slower than one. A spin of
    1000 costs nothing measurable when idle and keeps two threads at least as fast as one under
    load. libgomp reads its environment once, when it loads (here, unless another extension
    linked to the same libgomp loaded it first), so the variable is set only around the import
    and then removed: other libraries never see it.
    """
    if "OMP_WAIT_POLICY" in _os.environ or "GOMP_SPINCOUNT" in _os.environ:
        from fastnn import _core
        return _core
    _os.environ["GOMP_SPINCOUNT"] = "1000"
    try:
        from fastnn import _core
    finally:
        del _os.environ["GOMP_SPINCOUNT"]
    return _core


_load_core()

from fastnn._core import __version__  # noqa: E402
from fastnn._interop import from_sklearn, to_sklearn  # noqa: E402
from fastnn._mlp import MLPClassifier, MLPRegressor  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn", "to_sklearn", "__version__"]
