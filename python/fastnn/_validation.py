"""Early stopping's validation set: the one ``fit`` is given (``X_val``, ``y_val``,
``sample_weight_val``: scikit-learn's gradient boosting's keywords) or scikit-learn's random
split of the training data, and what is measured on it after each epoch.

After each epoch the network's output for the validation set is computed once; from it come the
validation loss (the core's loss of the fit, without the L2 penalty: ``validation_loss_curve_``)
and the score early stopping compares (``validation_scores_``):

- ``scoring=None``: scikit-learn's, accuracy (classifier) or R² (regressor), from that output;
- ``scoring='loss'``: the validation loss, negated (gradient boosting's convention: higher is
  better);
- a scorer name or callable (``sklearn.metrics.check_scoring``): called on the model, which
  predicts with the weights of the epoch.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_array, check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import validate_data

from fastnn import _core
from fastnn._compat import _check_sample_weight

__all__ = ["ValidationSet", "check_scoring_param", "checked_validation_set", "validation_split"]

def check_scoring_param(model):
    """``model.scoring`` as a scorer: None for scikit-learn's score and for 'loss' (measured
    directly); scikit-learn's error for an unknown scorer name."""
    if model.scoring is None or model.scoring == "loss":
        return None
    return check_scoring(model, model.scoring)


def checked_validation_set(model, X_val, y_val, sample_weight_val, n_outputs, stochastic):
    """``fit``'s validation set, validated as X, y and sample_weight are: (X_val, Y_val,
    sample_weight_val) with Y_val encoded as the training target is (a classifier's binarized
    labels, a regressor's 2-D values); None when none was given."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is provided, but X_val and y_val were not.")
        return None
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    if not model.early_stopping or not stochastic:
        raise ValueError(
            "X_val and y_val are passed to fit, but no early stopping uses them: they need "
            "early_stopping=True and a stochastic solver (got early_stopping=%r, solver=%r)."
            % (model.early_stopping, model.solver)
        )
    X_val = validate_data(model, X_val, reset=False, accept_sparse=["csr", "csc"],
                          dtype=(np.float64, np.float32))
    if is_classifier(model):
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        binarizer = model._label_binarizer
        if binarizer.y_type_ != "multilabel-indicator":
            unseen = np.setdiff1d(unique_labels(y_val), model.classes_)
            if len(unseen):
                raise ValueError(
                    "`y_val` has classes not in `self.classes_`."
                    f" `self.classes_` has {model.classes_}. 'y_val' has {unseen}."
                )
        Y_val = binarizer.transform(y_val).astype(bool)
    else:
        Y_val = check_array(y_val, ensure_2d=False, dtype="numeric", input_name="y_val")
        Y_val = Y_val.reshape((Y_val.shape[0], -1))
        if Y_val.shape[1] != n_outputs:
            raise ValueError(
                f"y_val has {Y_val.shape[1]} outputs; the training target has {n_outputs}."
            )
    check_consistent_length(X_val, Y_val)
    if sample_weight_val is not None:
        sample_weight_val = _check_sample_weight(sample_weight_val, X_val)
        if not sample_weight_val.sum() > 0:
            raise ValueError("sample_weight_val must sum to a positive number.")
    return X_val, Y_val, sample_weight_val


def validation_split(model, X, y, sample_weight, split=None):
    """scikit-learn's early-stopping split: (train, validation, rows), train and validation
    each (X, y, sample_weight), rows their (train, validation) row indices. ``split``: the rows
    of the split a resumed fit made before."""
    if split is None:
        # don't stratify in multilabel classification
        stratify = y if is_classifier(model) and model.n_outputs_ == 1 else None
        # the rows' split, as train_test_split splits X, y and sample_weight: the same draws
        split = train_test_split(
            np.arange(X.shape[0]), random_state=model._random_state,
            test_size=model.validation_fraction, stratify=stratify,
        )
    train, val = split
    if val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    parts = [tuple(None if a is None else _safe_indexing(a, rows)
                   for a in (X, y, sample_weight)) for rows in (train, val)]
    return parts[0], parts[1], (train, val)


class ValidationSet:
    """A validation set, held as the fit measures it after each epoch."""

    def __init__(self, model, spec, X, Y, sample_weight):
        self.X = X.astype(spec.dtype, copy=False)  # predicted in the fit's dtype
        self.Y = np.ascontiguousarray(Y, dtype=spec.dtype)
        self.sample_weight = (None if sample_weight is None
                              else np.ascontiguousarray(sample_weight, dtype=spec.dtype))
        self.score_weight = sample_weight  # as scikit-learn scores, in the weights' own dtype
        if is_classifier(model):
            self.y = model._label_binarizer.inverse_transform(Y)
        else:
            self.y = Y.ravel() if Y.shape[1] == 1 else Y
        self.loss, self.loss_param = spec.loss, spec.loss_param
        self.by_loss = model.scoring == "loss"
        self.scorer = check_scoring_param(model)

    def evaluate(self, model):
        """(score, loss) of ``model`` as it is now: the score early stopping compares (higher
        is better) and the validation loss."""
        output = model._forward_pass_fast(self.X, check_input=False)
        loss = _core.mean_loss(
            output, self.Y.astype(output.dtype, copy=False),
            None if self.sample_weight is None
            else self.sample_weight.astype(output.dtype, copy=False),
            self.loss, self.loss_param,
        )
        if self.by_loss:
            return -loss, loss
        if self.scorer is None:
            return model._score_output(output, self.y, self.score_weight), loss
        if self.score_weight is None:
            return self.scorer(model, self.X, self.y), loss
        return self.scorer(model, self.X, self.y, sample_weight=self.score_weight), loss
