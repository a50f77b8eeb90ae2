"""Conversion between fastnn's estimators and scikit-learn's ``sklearn.neural_network`` ones.

A fitted fastnn model and a fitted scikit-learn MLP hold the same state in the same layout
(``coefs_`` / ``intercepts_`` lists of arrays, ``classes_``, ``out_activation_``, ...), so a
conversion copies the hyperparameters and the fitted attributes; nothing is recomputed or
cast. The converted estimator predicts what the original predicts (up to the rounding of the
two implementations' matrix products; a round trip back to the original library is exact).

The optimizer state (``_optimizer``: Adam moments, SGD velocity, the current learning rate) is
not carried over: the two libraries keep it in different layouts. A ``partial_fit`` on a
converted estimator therefore starts a fresh optimizer from the converted weights, as does a
``fit`` with ``warm_start=True`` in either library.
"""

import copy

import numpy as np
from sklearn.base import is_classifier
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils.validation import check_is_fitted

__all__ = ["from_sklearn", "to_sklearn"]

# Fitted state shared by fastnn and scikit-learn, copied when present on the source. The
# private entries are what a later warm-start ``fit`` or ``partial_fit`` reads (early-stopping
# bookkeeping); ``classes_`` comes before ``_label_binarizer`` so that the copies stay aliased.
_FITTED_ATTRIBUTES = (
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


def _copy_fitted_state(src, dst):
    """Set on ``dst`` copies of the fitted attributes of ``src``.

    Arrays become plain, writable, owned ``numpy.ndarray`` copies of the same dtype, shape and
    values (a read-only ``numpy.memmap`` from ``joblib.load(..., mmap_mode="r")`` included).
    Aliasing inside the state is kept: an array or list that ``src`` holds under two names (for
    instance ``coefs_`` and ``_best_coefs`` after early stopping, or ``classes_`` and
    ``_label_binarizer.classes_``) is one copy held under both names in ``dst``.
    """
    state = {name: getattr(src, name) for name in _FITTED_ATTRIBUTES if hasattr(src, name)}
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


def _estimator_params(est):
    """``est``'s constructor parameters, as ``sklearn.base.clone`` would copy them."""
    return {name: copy.deepcopy(value) for name, value in est.get_params(deep=False).items()}


def to_sklearn(model):
    """Convert a fitted fastnn estimator into the equivalent scikit-learn estimator.

    Parameters
    ----------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        A fitted fastnn estimator.

    Returns
    -------
    estimator : sklearn.neural_network.MLPClassifier or sklearn.neural_network.MLPRegressor
        A fitted scikit-learn estimator with the same hyperparameters (``model.get_params()``
        without ``n_threads``) and copies of ``model``'s fitted state: ``coefs_``,
        ``intercepts_`` (same values and dtypes), ``classes_``, ``out_activation_``,
        ``n_layers_``, ``n_outputs_``, ``n_features_in_``, ``feature_names_in_``, ``n_iter_``,
        ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_`` and
        ``best_validation_score_``, each where ``model`` has it. It predicts as ``model``
        does, up to the rounding of scikit-learn's (numpy/BLAS) matrix products.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    TypeError
        If ``model`` is not a fastnn MLP estimator.
    ValueError
        If ``model`` computes something scikit-learn's MLPs cannot: ``activation='leaky_relu'``,
        residual layers, or a classifier with ``loss='squared_error'``. (``dropout`` and
        ``weight_init`` only change training, and are dropped.)

    Notes
    -----
    The optimizer state is not converted: ``partial_fit`` on the returned estimator starts a
    fresh optimizer from the converted weights (as scikit-learn's own ``fit`` with
    ``warm_start=True`` does). The returned estimator shares no array with ``model``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn import MLPClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> y = np.array([0, 1, 1, 0])
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(X, y)
    >>> sk_clf = clf.to_sklearn()
    >>> type(sk_clf).__module__
    'sklearn.neural_network._multilayer_perceptron'
    >>> bool((sk_clf.predict(X) == clf.predict(X)).all())
    True
    """
    from fastnn._mlp import BaseMultilayerPerceptron

    if not isinstance(model, BaseMultilayerPerceptron):
        raise TypeError(
            "to_sklearn expects a fastnn MLPClassifier or MLPRegressor, got %s."
            % type(model).__name__
        )
    check_is_fitted(model)
    params = _estimator_params(model)
    # fastnn's additions. Those used only in training (threads, dropout, initialisation) are
    # dropped; those that change what the network computes have no scikit-learn equivalent.
    for name in ("n_threads", "dropout", "weight_init", "leaky_relu_slope"):
        params.pop(name, None)
    residual = params.pop("residual", False)
    loss = params.get("loss", "log_loss") if is_classifier(model) else None
    if is_classifier(model):
        params.pop("loss", None)
    if params["activation"] == "leaky_relu" or (residual and any(model._residual_layers())) or (
        loss == "squared_error"
    ):
        raise ValueError(
            "This model uses a fastnn extension scikit-learn does not have (activation="
            "'leaky_relu', residual layers or a classifier's loss='squared_error'): it cannot "
            "be converted."
        )
    estimator_class = SkMLPClassifier if is_classifier(model) else SkMLPRegressor
    return _copy_fitted_state(model, estimator_class(**params))


def from_sklearn(estimator, *, n_threads=None):
    """Convert a fitted scikit-learn MLP estimator into the equivalent fastnn estimator.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPClassifier or sklearn.neural_network.MLPRegressor
        A fitted scikit-learn estimator.
    n_threads : int, default=None
        The ``n_threads`` parameter of the returned estimator (None: every core available).

    Returns
    -------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        A fitted fastnn estimator with ``estimator``'s hyperparameters and copies of its fitted
        state (the attributes listed in :func:`fastnn.to_sklearn`). It predicts as
        ``estimator`` does, up to the rounding of fastnn's matrix products, and
        ``fastnn.to_sklearn(from_sklearn(estimator))`` predicts exactly as ``estimator``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is not a scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Notes
    -----
    The optimizer state (``estimator._optimizer``) is not converted: ``partial_fit`` on the
    returned model starts a fresh optimizer from the converted weights, as scikit-learn's own
    ``fit`` with ``warm_start=True`` does. Training goes on from the same weights, but not on
    the trajectory ``estimator.partial_fit`` would have followed. The returned model shares no
    array with ``estimator``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> import fastnn
    >>> X = np.linspace(0.0, 1.0, 20).reshape(-1, 1)
    >>> sk_reg = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    >>> sk_reg = sk_reg.fit(X, X.ravel())
    >>> reg = fastnn.from_sklearn(sk_reg)
    >>> type(reg).__name__, reg.n_threads
    ('MLPRegressor', None)
    >>> bool(np.allclose(reg.predict(X), sk_reg.predict(X)))
    True
    """
    from fastnn._mlp import MLPClassifier, MLPRegressor

    if isinstance(estimator, SkMLPClassifier):
        model_class = MLPClassifier
    elif isinstance(estimator, SkMLPRegressor):
        model_class = MLPRegressor
    else:
        raise TypeError(
            "from_sklearn expects a fitted sklearn.neural_network.MLPClassifier or "
            "MLPRegressor, got %s." % type(estimator).__name__
        )
    check_is_fitted(estimator)
    params = _estimator_params(estimator)
    if model_class is MLPClassifier:
        params.pop("loss", None)  # fixed to "log_loss", not a constructor parameter
    model = model_class(**params, n_threads=n_threads)
    return _copy_fitted_state(estimator, model)
