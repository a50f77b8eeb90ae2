"""fastnn: fast multilayer-perceptron training behind scikit-learn's MLP estimators.

``fastnn.MLPClassifier`` and ``fastnn.MLPRegressor`` are drop-in replacements for
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: same parameters, defaults, fitted
attributes and methods, trained by an Eigen/OpenMP C++ core.
"""

from fastnn._core import __version__
from fastnn._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
