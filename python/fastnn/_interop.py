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

from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from fastnn._fitted_state import FASTNN_ATTRIBUTES, copy_fitted_state
from fastnn._spec import NetworkSpec

__all__ = ["from_sklearn", "sklearn_counterpart", "to_sklearn"]

# scikit-learn's estimator class -> fastnn's, filled by fastnn's estimator module.
_FASTNN_CLASS_OF = {}


def sklearn_counterpart(sklearn_class):
    """Class decorator of a fastnn estimator: ``sklearn_class`` is the scikit-learn estimator
    it converts to and from."""

    def register(fastnn_class):
        fastnn_class._sklearn_class = sklearn_class
        _FASTNN_CLASS_OF[sklearn_class] = fastnn_class
        return fastnn_class

    return register


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
        If ``model`` computes something scikit-learn's MLPs cannot: an activation of
        fastnn's ('leaky_relu', 'elu', 'softplus', 'silu', 'gelu'), residual layers, a
        classifier with ``loss='squared_error'``, a regressor's robust loss or a solver of
        fastnn's. (``dropout`` and
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
    if not isinstance(model, tuple(_FASTNN_CLASS_OF.values())):
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
    params.pop("residual", None)
    if is_classifier(model):
        params.pop("loss", None)
        params.pop("class_weight", None)  # training only
    for name in ("scoring", "lr_schedule", "warmup_epochs", "huber_delta", "quantile"):
        params.pop(name, None)
    if model.solver not in ("lbfgs", "sgd", "adam"):
        raise ValueError(
            f"scikit-learn's MLPs have no solver={model.solver!r}: this model cannot be "
            "converted. fastnn.to_onnx(model) exports it to ONNX."
        )
    spec = NetworkSpec.build(
        model, model.n_features_in_, model.n_outputs_, is_classifier(model),
        model._y_type(), model.coefs_[0].dtype,
    )
    if not spec.computable_by_sklearn():
        raise ValueError(
            "This model uses a fastnn extension scikit-learn does not have (activation "
            "'leaky_relu', 'elu', 'softplus', 'silu' or 'gelu', residual layers, a classifier's "
            "loss='squared_error', a regressor's loss 'absolute_error', 'huber' or 'quantile'): "
            "it cannot be converted. "
            "fastnn.to_onnx(model) exports it to ONNX."
        )
    return copy_fitted_state(model, model._sklearn_class(**params), skip=FASTNN_ATTRIBUTES)


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
    model_class = next(
        (f for s, f in _FASTNN_CLASS_OF.items() if isinstance(estimator, s)), None
    )
    if model_class is None:
        raise TypeError(
            "from_sklearn expects a fitted sklearn.neural_network.MLPClassifier or "
            "MLPRegressor, got %s." % type(estimator).__name__
        )
    check_is_fitted(estimator)
    params = _estimator_params(estimator)
    if is_classifier(estimator):
        params.pop("loss", None)  # fixed to "log_loss", not a constructor parameter
    return copy_fitted_state(estimator, model_class(**params, n_threads=n_threads))
