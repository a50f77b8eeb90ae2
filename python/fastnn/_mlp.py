"""MLPClassifier and MLPRegressor: scikit-learn's estimators, trained by fastnn's C++ core.

The specification is scikit-learn 1.9's ``sklearn/neural_network/_multilayer_perceptron.py``.
This module holds scikit-learn's semantics: parameters and their validation, input checks,
label encoding, the random initial weights, the fitted attributes and the methods. It describes
the network (``fastnn._spec``) and hands the fit to the engine (``fastnn._engine``), which runs
it in the core.
"""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, check_scalar, column_or_1d, metadata_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from fastnn import _engine
from fastnn._callbacks import FitTasks
from fastnn._class_weight import ClassWeights
from fastnn._compat import (
    CallbackSupportMixin,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from fastnn._docs import CLASSIFIER_EXTRAS, REGRESSOR_EXTRAS, documents_extras
from fastnn._interop import sklearn_counterpart, to_sklearn
from fastnn._params import (
    PARAMETER_CONSTRAINTS,
    STOCHASTIC_SOLVERS,
    check_epochs,
    store_params,
)
from fastnn._spec import NetworkSpec, network_params, residual_layers
from fastnn._threads import counted_as_running
from fastnn._validation import check_scoring_param, checked_validation_set

__all__ = ["BaseMultilayerPerceptron", "MLPClassifier", "MLPRegressor"]


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator):
    """Base class for MLP classification and regression. Use the derived classes."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS
    # partial_fit's epochs is an option, not data: metadata routing leaves it out
    __metadata_request__partial_fit = {"epochs": metadata_routing.UNUSED}  # noqa: RUF012

    # -- prediction ---------------------------------------------------------------------------

    def _check_fitted(self):
        if "coefs_" not in self.__dict__:  # fitted models skip check_is_fitted's scan
            check_is_fitted(self)

    def _plain_input(self, X):
        """Whether X is an array the core reads as is and ``validate_data`` would return
        unchanged if it is finite (a C-contiguous float ndarray of the fitted width with rows,
        no feature names to check; the core checks finiteness)."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and _engine.is_core_dtype(X.dtype)
            and X.flags.c_contiguous
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and "feature_names_in_" not in self.__dict__
        )

    def _residual_layers(self):
        """Per weight layer, whether it is residual (empty without ``residual``)."""
        if not self.residual:
            return []
        return residual_layers(True, [c.shape[0] for c in self.coefs_] + [self.n_outputs_])

    def _forward_pass_fast(self, X, check_input=True):
        """The network's output for X (output activation applied). The core reads every
        ``coefs_[i]`` / ``intercepts_[i]`` where it lies (memmaps included): nothing is packed."""
        if check_input:
            if type(X) is np.ndarray and "feature_names_in_" not in self.__dict__:
                # an array validate_data would return unchanged (if finite; the core checks)
                out = _engine.predict_plain(self, X, self._residual_layers)
                if out is not None:
                    return out
                if self._plain_input(X):  # another float dtype than the model's
                    out = _engine.predict(self, X, self._residual_layers(), check_finite=True)
                    if out is not None:
                        return out
            # anything else, and a NaN or inf (for scikit-learn's message)
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return _engine.predict(self, X, self._residual_layers())

    def hidden_activations(self, X, layer=-1):
        """fastnn only: hidden layer ``layer``'s activations for X (0 is the first hidden layer,
        -1 the last), of shape (n_samples, its width), in the model's dtype."""
        self._check_fitted()
        n_hidden = self.n_layers_ - 2
        if n_hidden < 1:
            raise ValueError("This model has no hidden layer.")
        check_scalar(layer, "layer", Integral, min_val=-n_hidden, max_val=n_hidden - 1)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return _engine.hidden_activations(self, X, layer % n_hidden + 1, self._residual_layers())

    # -- fitting ------------------------------------------------------------------------------

    def _initialize(self, spec):
        """The fitted state a first fit starts from (scikit-learn's ``_initialize``)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = spec.layer_units[-1]
        self.n_layers_ = len(spec.layer_units)
        self.out_activation_ = spec.out_activation
        self.coefs_, self.intercepts_ = spec.initial_weights(self.weight_init, self._random_state)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _y_type(self):
        """The kind of target the network's output encodes (classifiers), else None."""
        return self._label_binarizer.y_type_ if is_classifier(self) else None

    @counted_as_running
    def _fit(self, X, y, sample_weight=None, incremental=False, validation=(None, None, None),
             epochs=1, resume=None):
        network_params(self)  # the parameters describe a network: checked before anything
        keep = incremental or resume is not None  # the label encoding and weights stay
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not keep)
        # A warm-started fit or partial_fit that diverges leaves the model it started from
        # (scikit-learn's keeps the non-finite weights: a model that predicts NaN).
        before = None if first_pass else self._fitted_state()

        tasks = FitTasks(self, X, y, sample_weight, incremental)
        X, y = self._validate_input(X, y, keep, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        stochastic = self.solver in STOCHASTIC_SOLVERS
        check_scoring_param(self)
        validation = checked_validation_set(self, *validation, y.shape[1], stochastic)
        class_weights = self._class_weights(y, incremental)
        if class_weights is not None:  # multiplies sample_weight, as in scikit-learn
            sample_weight = class_weights(y, sample_weight)
            if validation is not None:
                X_val, Y_val, sw_val = validation
                validation = X_val, Y_val, class_weights(Y_val, sw_val)

        self._random_state = (check_random_state(self.random_state) if resume is None
                              else resume.generator)
        model_dtype = X.dtype if first_pass else self.coefs_[0].dtype
        model_dtype = model_dtype if resume is None else resume.model_dtype
        spec = NetworkSpec.build(
            self, X.shape[1], y.shape[1], is_classifier(self), self._y_type(),
            _engine.compute_dtype(X.dtype, model_dtype),
        )
        self.n_outputs_ = y.shape[1]
        if first_pass:
            self._initialize(spec)

        if stochastic:
            _engine.fit_stochastic(self, spec, X, y, sample_weight, incremental, tasks, validation,
                                   epochs, resume)
        else:
            _engine.fit_lbfgs(self, spec, X, y, sample_weight, tasks)

        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            if before is not None:
                self.__dict__.update(before)
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        tasks.end()
        return self

    def _class_weights(self, y, incremental):
        """``class_weight``'s ClassWeights for the binarized target y (classifiers), else None."""
        return None

    @_fit_context(prefer_skip_nested_validation=True)
    def _resume(self, progress, X, y, sample_weight, validation):
        """Continue the fit a checkpoint holds (``fastnn.callbacks.resume``)."""
        return self._fit(X, y, sample_weight, False, validation, resume=progress)

    def _fitted_state(self):
        """A deep copy of everything a fit changes: all but the constructor parameters and the
        callbacks (``set_callbacks``' objects, which the fit does not own)."""
        kept = set(self._get_param_names())
        return copy.deepcopy(
            {k: v for k, v in self.__dict__.items()
             if k not in kept and not k.startswith("_skl_callbacks")}
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val, y_val, sample_weight_val : validation set, default=None
            fastnn only: the set early stopping scores (needs ``early_stopping=True`` and a
            stochastic solver), in place of a random ``validation_fraction`` of X. Routed by
            metadata routing (``set_fit_request``); in a Pipeline, ``transform_input=["X_val"]``.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        return self._fit(X, y, sample_weight, False, (X_val, y_val, sample_weight_val))

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _score_output(self, output, y, sample_weight):
        """scikit-learn's early-stopping score (accuracy / R²) of the network's output."""
        y_pred = self._decode(output)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    def to_sklearn(self):
        """The equivalent fitted scikit-learn estimator: see :func:`fastnn.to_sklearn`."""
        return to_sklearn(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # A copy: on Python >= 3.11 BaseEstimator's state is the instance's own __dict__, and
        # replacing coefs_ in it would detach a model being trained (copy.copy of it, as the
        # callbacks' fitted_estimator is made, pickles through here) from its parameter vector.
        state = dict(super().__getstate__())
        # coefs_ / intercepts_ are views of one vector: pickle them as plain arrays.
        for key in ("coefs_", "intercepts_"):
            if key in state:
                state[key] = [np.array(a) for a in state[key]]
        return state


@documents_extras(CLASSIFIER_EXTRAS)
@sklearn_counterpart(SkMLPClassifier)
class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron classifier (scikit-learn's, trained by fastnn's C++ core).

    Parameters, attributes and methods are those of
    :class:`sklearn.neural_network.MLPClassifier` (scikit-learn 1.9); see its documentation.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
        leaky_relu_slope=0.01,
        dropout=0.0,
        weight_init="sklearn",
        residual=False,
        loss="log_loss",
        class_weight=None,
        scoring=None,
        lr_schedule=None,
        warmup_epochs=0,
    ):
        store_params(self, locals())

    def _class_weights(self, y, incremental):
        return ClassWeights.of(
            self.class_weight, self._label_binarizer.y_type_, self.classes_, y, incremental
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # Matching scikit-learn: the binarizer is refit on a first fit, kept for warm_start and
        # partial_fit (where unseen labels are an error).
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`."
                    f" `self.classes_` has {self.classes_}. 'y' has {classes}."
                )

        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        self._check_fitted()
        return self._predict(X)

    _score_function = staticmethod(accuracy_score)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward_pass_fast(X, check_input=check_input))

    def _decode(self, y_pred):
        """The labels the network's output stands for."""
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        # LabelBinarizer.inverse_transform's decoding, without its overhead, for the two common
        # cases (argmax for multiclass; p > 0.5 for binary); every other case goes through it.
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multiclass" and y_pred.ndim == 2:
            return binarizer.classes_[y_pred.argmax(axis=1)]
        if binarizer.y_type_ == "binary" and y_pred.ndim == 1 and len(binarizer.classes_) == 2:
            return binarizer.classes_[(y_pred > 0.5).astype(np.intp)]
        return binarizer.inverse_transform(y_pred)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None, *, epochs=1):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first call.
        epochs : int, default=1
            fastnn only: epochs over the data, in one core call (the same model as as many
            calls of one epoch).

        Returns
        -------
        self : object
            Trained MLP model.
        """
        check_epochs(self, epochs)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, True, epochs=epochs)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the model.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class in the model, where classes
            are ordered as they are in `self.classes_`.
        """
        self._check_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        if self.loss == "squared_error" and self._label_binarizer.y_type_ == "multiclass":
            # Independent sigmoid outputs: normalised into a distribution over the classes.
            y_pred /= np.maximum(y_pred.sum(axis=1, keepdims=True), np.finfo(y_pred.dtype).tiny)
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@documents_extras(REGRESSOR_EXTRAS)
@sklearn_counterpart(SkMLPRegressor)
class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron regressor (scikit-learn's, trained by fastnn's C++ core).

    Parameters, attributes and methods are those of
    :class:`sklearn.neural_network.MLPRegressor` (scikit-learn 1.9); see its documentation.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error", "huber", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
        leaky_relu_slope=0.01,
        dropout=0.0,
        weight_init="sklearn",
        residual=False,
        scoring=None,
        lr_schedule=None,
        warmup_epochs=0,
        huber_delta=1.0,
        quantile=0.5,
    ):
        store_params(self, locals())

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        self._check_fitted()
        return self._predict(X)

    _score_function = staticmethod(r2_score)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward_pass_fast(X, check_input=check_input))

    def _decode(self, y_pred):
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    # As in scikit-learn 1.9, the regressor's check is the (always truthy) bound method, not
    # its result: partial_fit exists for every solver, and with 'lbfgs' it runs a full L-BFGS
    # fit, continued from the current weights on later calls.
    @available_if(lambda est: est._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, *, epochs=1):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        epochs : int, default=1
            fastnn only: epochs over the data, in one core call (sgd / adam only).

        Returns
        -------
        self : object
            Trained MLP model.
        """
        check_epochs(self, epochs)
        return self._fit(X, y, sample_weight, True, epochs=epochs)
