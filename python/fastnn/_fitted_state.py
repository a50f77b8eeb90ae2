"""The fitted state of an MLP estimator: what a fit sets, listed once.

fastnn and scikit-learn hold the same fitted attributes in the same layout, so this one list
serves conversion (``to_sklearn`` / ``from_sklearn``), safe persistence (``save`` / ``load``) and
the callbacks' per-epoch snapshots. This module imports nothing of fastnn.
"""

import copy

import numpy as np

__all__ = [
    "COUNTERS",
    "EPOCH_ATTRIBUTES",
    "FITTED_ATTRIBUTES",
    "MAY_BE_NONE",
    "OPTIONAL_LISTS",
    "OPTIONAL_SCALARS",
    "copy_fitted_state",
    "epoch_state",
    "layer_views",
]

# Integer attributes every fitted model has.
COUNTERS = ("n_features_in_", "n_outputs_", "n_layers_", "n_iter_", "t_")
# Float attributes present or not (and possibly None) depending on the solver / early stopping.
OPTIONAL_SCALARS = ("loss_", "best_loss_", "best_validation_score_")
# Per-epoch float lists (stochastic solvers; validation_scores_ with early stopping).
OPTIONAL_LISTS = ("loss_curve_", "validation_scores_")
# Attributes whose value may be None (early stopping on or off).
MAY_BE_NONE = frozenset({"best_loss_", "validation_scores_", "best_validation_score_"})

# Everything a fit sets, in copy order. The private entries are what a later warm-start ``fit``
# or ``partial_fit`` reads (early-stopping bookkeeping); ``classes_`` comes before
# ``_label_binarizer`` so that copies stay aliased. Not listed: ``_optimizer`` (the optimizer
# state, kept in each library's own layout) and ``_random_state``.
FITTED_ATTRIBUTES = (
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "_label_binarizer",
    "n_outputs_",
    "n_layers_",
    "out_activation_",
    "coefs_",
    "intercepts_",
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "_no_improvement_count",
    "_best_coefs",
    "_best_intercepts",
)

# What a callback sees of the model after each epoch.
EPOCH_ATTRIBUTES = ("coefs_", "intercepts_", "n_iter_", "loss_", "loss_curve_")


def copy_fitted_state(src, dst):
    """Set on ``dst`` copies of the fitted attributes of ``src``; returns ``dst``.

    Arrays become plain, writable, owned ``numpy.ndarray`` copies of the same dtype, shape and
    values (a read-only ``numpy.memmap`` from ``joblib.load(..., mmap_mode="r")`` included).
    Aliasing inside the state is kept: an array or list that ``src`` holds under two names (for
    instance ``coefs_`` and ``_best_coefs`` after early stopping, or ``classes_`` and
    ``_label_binarizer.classes_``) is one copy held under both names in ``dst``.
    """
    state = {name: getattr(src, name) for name in FITTED_ATTRIBUTES if hasattr(src, name)}
    memo = {}

    def register_arrays(value):
        if isinstance(value, np.ndarray):
            if id(value) not in memo:
                memo[id(value)] = np.array(value, copy=True, subok=False)
        elif isinstance(value, (list, tuple)):
            for item in value:
                register_arrays(item)

    for value in state.values():
        register_arrays(value)
    # Pre-registered arrays are reused by deepcopy (keyed by id; ``src`` keeps them alive).
    for name, value in copy.deepcopy(state, memo).items():
        setattr(dst, name, value)
    return dst


def epoch_state(model):
    """Copies of ``EPOCH_ATTRIBUTES`` of ``model`` (training goes on in place)."""

    def copied(value):
        if isinstance(value, list):
            return [np.array(v) if isinstance(v, np.ndarray) else v for v in value]
        return value

    return {name: copied(getattr(model, name)) for name in EPOCH_ATTRIBUTES}


def layer_views(params, coefs, intercepts):
    """Views of the flat vector ``params`` (scikit-learn's ``_pack`` order: every coefficient
    matrix, then every intercept) shaped as the arrays in ``coefs`` / ``intercepts``."""
    views, start = ([], []), 0
    for arrays, out in zip((coefs, intercepts), views):
        for a in arrays:
            out.append(params[start:start + a.size].reshape(a.shape))
            start += a.size
    return views
