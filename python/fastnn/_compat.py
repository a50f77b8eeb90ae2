"""The scikit-learn internals fastnn relies on, imported in one place.

fastnn's estimators are specified by scikit-learn's MLP; matching its parameter validation
messages, sample-weight checks and L-BFGS result handling exactly means using the same helpers.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

try:  # scikit-learn >= 1.9: the callback API (set_callbacks, ProgressBar, ScoringMonitor)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older scikit-learn has none: fits run without callback tasks

    class _NoCallbackContext:
        def subcontext(self, **kwargs):
            return self

        def call_on_fit_task_begin(self, **kwargs):
            return self

        def call_on_fit_task_end(self, **kwargs):
            return False

    class CallbackSupportMixin:
        def _init_callback_context(self, **kwargs):
            return _NoCallbackContext()


__all__ = [
    "CallbackSupportMixin",
    "Interval",
    "Options",
    "StrOptions",
    "_check_optimize_result",
    "_check_sample_weight",
    "_fit_context",
]
