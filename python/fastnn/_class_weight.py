"""``class_weight`` (MLPClassifier): each sample's weight from its class, scikit-learn's meaning
(``sklearn.utils.class_weight``), multiplied into ``sample_weight`` before the fit."""

import numpy as np
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

__all__ = ["sample_class_weights"]


def sample_class_weights(class_weight, y_type, classes, y, incremental):
    """Each sample's weight from ``class_weight``, or None when it is None. ``y`` is the target
    binarized by the model's LabelBinarizer (``y_type``: its ``y_type_``; ``classes``: the
    model's ``classes_``); ``incremental``: a ``partial_fit`` call."""
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
        # 'balanced' or one dict per output (scikit-learn's error for a single dict)
        return compute_sample_weight(class_weight, y.astype(np.intp))
    if isinstance(class_weight, list):
        raise ValueError(
            "class_weight must be a dict or 'balanced' for a %s target; a list of dicts "
            "(one per output) is for multilabel targets." % y_type
        )
    index = y[:, 0].astype(np.intp) if y.shape[1] == 1 else np.argmax(y, axis=1)
    weights = compute_class_weight(class_weight, classes=classes, y=classes[index])
    return weights[index]
