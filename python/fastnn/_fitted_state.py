"""The fitted state of an MLP estimator: what a fit sets, listed once.

fastnn and scikit-learn hold the same fitted attributes in the same layout, so this one list
serves conversion (``to_sklearn`` / ``from_sklearn``), safe persistence (``save`` / ``load``) and
the callbacks' per-epoch snapshots. This module imports nothing of fastnn.
"""

import copy
import hashlib

import numpy as np
import scipy.sparse as sp

__all__ = [
    "COUNTERS",
    "EPOCH_ATTRIBUTES",
    "FitProgress",
    "FASTNN_ATTRIBUTES",
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
# Per-epoch float lists (stochastic solvers; the validation ones with early stopping).
OPTIONAL_LISTS = ("loss_curve_", "validation_scores_", "validation_loss_curve_")
# Attributes whose value may be None (early stopping on or off).
MAY_BE_NONE = frozenset(
    {"best_loss_", "validation_scores_", "validation_loss_curve_", "best_validation_score_"}
)
# The fitted attributes scikit-learn's estimators do not have (dropped by ``to_sklearn``).
FASTNN_ATTRIBUTES = frozenset({"validation_loss_curve_"})

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
    "validation_loss_curve_",
    "best_validation_score_",
    "_no_improvement_count",
    "_best_coefs",
    "_best_intercepts",
)

# What a callback sees of the model after each epoch.
EPOCH_ATTRIBUTES = ("coefs_", "intercepts_", "n_iter_", "loss_", "loss_curve_")


def copy_fitted_state(src, dst, skip=frozenset()):
    """Set on ``dst`` copies of the fitted attributes of ``src`` (but those in ``skip``);
    returns ``dst``.

    Arrays become plain, writable, owned ``numpy.ndarray`` copies of the same dtype, shape and
    values (a read-only ``numpy.memmap`` from ``joblib.load(..., mmap_mode="r")`` included).
    Aliasing inside the state is kept: an array or list that ``src`` holds under two names (for
    instance ``coefs_`` and ``_best_coefs`` after early stopping, or ``classes_`` and
    ``_label_binarizer.classes_``) is one copy held under both names in ``dst``.
    """
    state = {name: getattr(src, name) for name in FITTED_ATTRIBUTES
             if name not in skip and hasattr(src, name)}
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


class FitProgress:
    """A stochastic fit in progress: what it holds besides the model's fitted state, for a
    checkpoint to save (``fastnn.callbacks.Checkpoint``) and a resumed fit to start from.

    ``order``: the epochs' row order (each epoch shuffles the previous one); ``generator``: the
    fit's RandomState, in sync after each epoch; ``dropout_seed``: the dropout masks' key;
    ``split``: early stopping's random split as (train rows, validation rows); ``model_dtype``:
    the dtype the weights return to at the end of the fit; ``stopped``: the rule ended the fit.
    ``digest`` identifies the data (X, y, sample_weight as the fit trains on them, before the
    split), so that a fit is resumed on the data it began with.
    """

    def __init__(self, model_dtype, data=None, digest=None):
        self.model_dtype = np.dtype(model_dtype)
        self.data = data
        self._digest = digest
        self.order = None
        self.generator = None
        self.dropout_seed = None
        self.split = None
        self.stopped = False

    @property
    def digest(self):
        if self._digest is None:
            self._digest = data_digest(*self.data)
        return self._digest


def data_digest(*arrays):
    """A BLAKE2b digest of arrays (dense or sparse, None for absent): their kinds, dtypes,
    shapes and values."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        parts = [] if a is None else ([a.data, a.indices, a.indptr] if sp.issparse(a) else [a])
        h.update(repr((type(a).__name__, [(p.dtype.str, p.shape) for p in parts])).encode())
        for p in parts:
            h.update(np.ascontiguousarray(p).view(np.uint8).reshape(-1))
    return h.hexdigest()
