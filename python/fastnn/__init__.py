"""fastnn: fast multilayer-perceptron training behind scikit-learn's MLP estimators.

``fastnn.MLPClassifier`` and ``fastnn.MLPRegressor`` are drop-in replacements for
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: same parameters, defaults, fitted
attributes and methods, trained by an Eigen/OpenMP C++ core.
"""

from fastnn._core import __version__
from fastnn._interop import from_sklearn, to_sklearn
from fastnn._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn", "to_sklearn", "__version__"]
