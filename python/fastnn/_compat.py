"""The scikit-learn internals fastnn relies on, imported in one place.

fastnn's estimators are specified by scikit-learn's MLP; matching its parameter validation
messages, sample-weight checks and L-BFGS result handling exactly means using the same helpers.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_check_optimize_result",
    "_check_sample_weight",
    "_fit_context",
]
