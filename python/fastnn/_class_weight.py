"""``class_weight`` (MLPClassifier): each sample's weight from its class, scikit-learn's meaning
(``sklearn.utils.class_weight``), multiplied into ``sample_weight`` before the fit.

The weights are a table, class -> weight, made once from the training target; the training set
and a validation set (``fit``'s ``X_val`` / ``y_val``) are weighed by the same table."""

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

__all__ = ["ClassWeights"]


class ClassWeights:
    """The class weights of one fit. ``ClassWeights.of(...)`` makes them (None without
    ``class_weight``); calling them on a binarized target gives each sample's weight."""

    def __init__(self, tables, multilabel):
        self._tables = tables  # per output (one for binary / multiclass): class index -> weight
        self._multilabel = multilabel

    @classmethod
    def of(cls, class_weight, y_type, classes, y, incremental):
        """``class_weight``'s table for the target ``y`` binarized by the model's LabelBinarizer
        (``y_type``: its ``y_type_``; ``classes``: the model's ``classes_``); ``incremental``: a
        ``partial_fit`` call. None when ``class_weight`` is None."""
        if class_weight is None:
            return None
        if incremental and isinstance(class_weight, str):
            # scikit-learn's SGDClassifier.partial_fit message
            raise ValueError(
                "class_weight '{0}' is not supported for "
                "partial_fit. In order to use 'balanced' weights,"
                " use compute_class_weight('{0}', "
                "classes=classes, y=y). "
                "In place of y you can use a large enough sample "
                "of the full training set target to properly "
                "estimate the class frequency distributions. "
                "Pass the resulting weights as the class_weight "
                "parameter.".format(class_weight)
            )
        if y_type == "multilabel-indicator":
            return cls(_multilabel_tables(class_weight, y.astype(np.intp)), True)
        if isinstance(class_weight, list):
            raise ValueError(
                "class_weight must be a dict or 'balanced' for a %s target; a list of dicts "
                "(one per output) is for multilabel targets." % y_type
            )
        index = _class_index(y)
        return cls([compute_class_weight(class_weight, classes=classes, y=classes[index])], False)

    def __call__(self, y, sample_weight=None):
        """Each sample's weight for ``y``, binarized as the training target, times its
        ``sample_weight`` (None: ones)."""
        if not self._multilabel:
            weights = self._tables[0][_class_index(y)]
        else:
            y = y.astype(np.intp)
            # scikit-learn's compute_sample_weight: the product of the outputs' weights
            weights = np.prod([t[y[:, k]] for k, t in enumerate(self._tables)], axis=0,
                              dtype=np.float64)
        return weights if sample_weight is None else sample_weight * weights


def _class_index(y):
    """Each sample's class index in a binarized binary / multiclass target."""
    return y[:, 0].astype(np.intp) if y.shape[1] == 1 else np.argmax(y, axis=1)


def _multilabel_tables(class_weight, y):
    """Per output, the weights of classes 0 and 1 (scikit-learn's compute_sample_weight, its
    errors included); 1 for a class absent from an output under 'balanced'."""
    n_outputs = y.shape[1]
    if isinstance(class_weight, dict):
        raise ValueError(
            "For multi-output, class_weight should be a list of dicts, or the string 'balanced'."
        )
    if isinstance(class_weight, list) and len(class_weight) != n_outputs:
        raise ValueError(
            "For multi-output, number of elements in class_weight should match number of outputs."
        )
    tables = []
    for k in range(n_outputs):
        present = np.unique(y[:, k])
        weight_k = class_weight if isinstance(class_weight, str) else class_weight[k]
        if isinstance(weight_k, dict):
            table = compute_class_weight(weight_k, classes=np.arange(2), y=y[:, k])
        else:
            table = np.ones(2)
            table[present] = compute_class_weight(weight_k, classes=present, y=y[:, k])
        tables.append(table)
    return tables
