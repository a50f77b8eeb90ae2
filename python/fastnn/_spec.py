"""The network a model trains and predicts with: one frozen description, built once.

A :class:`NetworkSpec` is made from the estimator's parameters and the data (the number of
features and outputs, the kind of target, the dtype training runs in); the engine builds the
core's network from it, and persistence and interop check models against it. The rules that
decide a network's form live here only: which loss the core trains with and therefore which
output activation a model has (the pairing itself, each loss with its canonical link, is the
core's: ``cpp/fastnn/losses.hpp``), which hidden layers are residual, and the dropout rates.
"""

import functools
from dataclasses import dataclass

import numpy as np

from fastnn import _core

__all__ = [
    "OUTPUT_ACTIVATIONS",
    "WEIGHT_INITS",
    "NetworkSpec",
    "core_loss",
    "dropout_rates",
    "hidden_layer_sizes",
    "network_params",
    "output_activation",
    "residual_layers",
]


def core_loss(is_classifier, loss, y_type):
    """The core's loss for an estimator: a regressor's own ``loss``; a classifier's log-loss
    over a softmax (multiclass) or independent sigmoids (binary, multilabel), or the lecture
    notes' quadratic cost on sigmoid outputs (``loss='squared_error'``)."""
    if not is_classifier:
        return loss
    if loss == "squared_error":
        return "quadratic"
    return "log_loss" if y_type == "multiclass" else "binary_log_loss"


# The core losses and hidden activations scikit-learn's MLPs train with.
SKLEARN_LOSSES = frozenset({"squared_error", "poisson", "log_loss", "binary_log_loss"})
SKLEARN_ACTIVATIONS = frozenset({"identity", "logistic", "tanh", "relu"})


def loss_param(est):
    """The parameter of a regressor's loss: ``huber_delta`` for 'huber', ``quantile`` for
    'quantile', else 0."""
    return {"huber": getattr(est, "huber_delta", 0.0),
            "quantile": getattr(est, "quantile", 0.0)}.get(est.loss, 0.0)


def output_activation(is_classifier, loss, y_type):
    """``out_activation_``: the output activation paired with the core's loss."""
    return _core.output_activation_for(core_loss(is_classifier, loss, y_type))


WEIGHT_INITS = frozenset({"sklearn", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"})

# Every output activation a model can have.
OUTPUT_ACTIVATIONS = frozenset(
    output_activation(classifier, loss, y_type)
    for classifier, loss, y_type in (
        (False, "squared_error", None), (False, "poisson", None),
        (True, "log_loss", "multiclass"), (True, "log_loss", "binary"),
    )
)


def hidden_layer_sizes(param):
    """``hidden_layer_sizes`` as a list of widths (scikit-learn's check: all > 0)."""
    sizes = list(param) if hasattr(param, "__iter__") else [param]
    if np.any(np.array(sizes) <= 0):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return sizes


def dropout_rates(dropout, n_hidden):
    """The dropout rate of every weight layer's output (the output layer's is 0)."""
    rates = np.asarray(dropout, dtype=np.float64)
    if rates.ndim == 0:
        rates = np.full(n_hidden, float(rates))
    if rates.ndim != 1 or rates.shape[0] != n_hidden:
        raise ValueError(
            "dropout must be a float or have one rate per hidden layer (%d), got %r."
            % (n_hidden, dropout)
        )
    if not np.all((rates >= 0) & (rates < 1)):
        raise ValueError("dropout rates must be in [0, 1), got %r." % (dropout,))
    return [float(r) for r in rates] + [0.0]


def residual_layers(residual, layer_units):
    """Per weight layer, whether it is residual: with ``residual=True``, every hidden layer
    after the first that is as wide as the layer before it (``y + g(W y + b)``)."""
    n = len(layer_units) - 1
    return [
        bool(residual) and 1 <= i < n - 1 and layer_units[i] == layer_units[i + 1]
        for i in range(n)
    ]


def network_params(est):
    """(hidden layer widths, dropout rates) of estimator ``est``'s parameters; ValueError
    where they describe no network this solver can train."""
    hidden = hidden_layer_sizes(est.hidden_layer_sizes)
    rates = dropout_rates(est.dropout, len(hidden))
    if any(rates) and est.solver == "lbfgs":
        raise ValueError(
            "dropout needs a stochastic solver ('sgd' or 'adam'), got solver=%r." % est.solver
        )
    if est.residual and not any(a == b for a, b in zip(hidden[:-1], hidden[1:])):
        raise ValueError(
            "residual=True needs two consecutive hidden layers of the same width, got "
            "hidden_layer_sizes=%s." % (hidden,)
        )
    return hidden, rates


@dataclass(frozen=True)
class NetworkSpec:
    """What the core computes: layer sizes, activations, loss, residual layers, dropout, dtype."""

    layer_units: tuple  # (n_features, hidden..., n_outputs)
    activation: str  # of the hidden layers
    out_activation: str
    loss: str  # the core's loss (see core_loss)
    leaky_relu_slope: float
    residual_layers: tuple  # per weight layer
    dropout_rates: tuple  # per weight layer, the output layer's 0; () without dropout
    dtype: np.dtype  # training's dtype
    loss_param: float = 0.0  # huber's delta, quantile's q (0 for the other losses)

    @classmethod
    def build(cls, est, n_features, n_outputs, is_classifier, y_type, dtype):
        """The spec of estimator ``est``'s parameters for data of this shape and kind."""
        hidden, rates = network_params(est)
        units = (n_features, *hidden, n_outputs)
        loss = core_loss(is_classifier, est.loss, y_type)
        return cls(
            layer_units=units,
            activation=est.activation,
            out_activation=_core.output_activation_for(loss),
            loss=loss,
            loss_param=float(loss_param(est)),
            leaky_relu_slope=float(est.leaky_relu_slope),
            residual_layers=tuple(residual_layers(est.residual, units)),
            dropout_rates=tuple(rates) if any(rates) else (),
            dtype=np.dtype(dtype),
        )

    @property
    def residual(self):
        return any(self.residual_layers)

    def network(self):
        """The core's network (shape, activations, loss, residual layers)."""
        return _core.Network(
            list(self.layer_units), self.activation, self.out_activation, self.loss,
            self.leaky_relu_slope, list(self.residual_layers) if self.residual else [],
            self.loss_param,
        )

    def initial_weights(self, weight_init, rng):
        """Random initial ``(coefs, intercepts)`` in the spec's dtype, drawn from the
        RandomState ``rng`` layer by layer (weights, then intercepts) as scikit-learn draws."""
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(self.layer_units[:-1], self.layer_units[1:]):
            coef, intercept = _initial_layer(weight_init, self.activation, fan_in, fan_out, rng)
            coefs.append(coef.astype(self.dtype, copy=False))
            intercepts.append(intercept.astype(self.dtype, copy=False))
        return coefs, intercepts

    def loss_type(self, y_dtype, weighted):
        """The numpy scalar type of the loss values a model records (``loss_``, the items of
        ``loss_curve_``, ``best_loss_``): the type scikit-learn's own loss function returns for
        targets of ``y_dtype``, outputs in the spec's dtype and (``weighted``) float64 sample
        weights. It follows the installed scipy, whose xlogy loops decide it: an unweighted
        float32 multiclass log-loss is float64 under scipy 1.17, float32 under 1.13 and 1.18.
        np.float64 for a loss scikit-learn does not have, or non-numeric targets."""
        return _loss_type(self.loss, np.dtype(y_dtype), self.dtype, bool(weighted))

    def computable_by_sklearn(self):
        """Whether scikit-learn's MLPs compute this network (no fastnn-only form)."""
        return not (self.activation not in SKLEARN_ACTIVATIONS or self.residual
                    or self.loss not in SKLEARN_LOSSES)


@functools.lru_cache(maxsize=None)
def _loss_type(loss, y_dtype, dtype, weighted):
    from sklearn.neural_network._base import LOSS_FUNCTIONS

    if loss not in LOSS_FUNCTIONS or y_dtype.kind not in "biuf":
        return np.float64
    value = LOSS_FUNCTIONS[loss](np.eye(2, dtype=y_dtype)[:1], np.full((1, 2), 0.5, dtype),
                                 np.ones(1) if weighted else None)
    return np.asarray(value).dtype.type


def _initial_layer(init, activation, fan_in, fan_out, rng):
    """One layer's initial (W, b) in float64 (see the estimators' ``weight_init``)."""
    if init == "sklearn":
        # Glorot et al.'s uniform initialisation, drawn exactly as scikit-learn draws it
        # (intercepts too; the bound's factor is 2 for logistic units).
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        return rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)
    if isinstance(init, str):
        # Glorot/Xavier (variance 2 / (fan_in + fan_out)) or He (variance 2 / fan_in),
        # normal or uniform with that variance; intercepts start at zero.
        variance = 2.0 / (fan_in + fan_out) if init.startswith("glorot") else 2.0 / fan_in
        if init.endswith("uniform"):
            bound = np.sqrt(3.0 * variance)
            return rng.uniform(-bound, bound, (fan_in, fan_out)), np.zeros(fan_out)
        return rng.normal(0.0, np.sqrt(variance), (fan_in, fan_out)), np.zeros(fan_out)
    # A number sigma: weights and intercepts from N(0, sigma^2), as in the lecture notes'
    # worked example (sigma = 0.5).
    sigma = float(init)
    return rng.normal(0.0, sigma, (fan_in, fan_out)), rng.normal(0.0, sigma, fan_out)
