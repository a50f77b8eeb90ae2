"""The estimators' constructor parameters: scikit-learn's constraints, then fastnn's additions
(``MLPClassifier`` adds ``loss`` and ``class_weight``, ``MLPRegressor`` its ``loss``)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_scalar

from fastnn._compat import Interval, Options, StrOptions
from fastnn._spec import WEIGHT_INITS

__all__ = ["PARAMETER_CONSTRAINTS", "STOCHASTIC_SOLVERS", "check_epochs", "store_params"]


# The solvers that train in epochs of mini-batches (scikit-learn's sgd and adam, fastnn's adamw
# and rmsprop); lbfgs is the other one.
STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "rprop")

PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions({"identity", "logistic", "tanh", "relu", "leaky_relu", "elu",
                               "softplus", "silu", "gelu"})],
    "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "n_threads": [None, Interval(Integral, 1, None, closed="left")],
    "leaky_relu_slope": [Interval(Real, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
    "weight_init": [StrOptions(WEIGHT_INITS), Interval(Real, 0, None, closed="neither")],
    "residual": ["boolean"],
    "scoring": [None, str, callable],
    "lr_schedule": [None, StrOptions({"cosine", "step", "plateau"}), callable],
    "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
}

def store_params(estimator, arguments):
    """``__init__``'s only work, as scikit-learn requires: every argument stored unchanged."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


def check_epochs(estimator, epochs):
    """``partial_fit``'s ``epochs``: an int >= 1; 1 for ``lbfgs`` (no epochs)."""
    check_scalar(epochs, "epochs", Integral, min_val=1)
    if epochs != 1 and estimator.solver not in STOCHASTIC_SOLVERS:
        raise ValueError("partial_fit's epochs needs a stochastic solver (%s), got 'lbfgs'."
                         % ", ".join(map(repr, STOCHASTIC_SOLVERS)))
