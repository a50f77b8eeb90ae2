"""Small shared helpers for the fastnn tests (not a test module)."""

import warnings

from sklearn.exceptions import ConvergenceWarning


# fastnn's keyword-only additions to scikit-learn's parameters, with their defaults (which keep
# scikit-learn's behaviour), in signature order.
EXTRA_PARAMS = {
    "n_threads": None,
    "leaky_relu_slope": 0.01,
    "dropout": 0.0,
    "weight_init": "sklearn",
    "residual": False,
}


def extra_params(Fast):
    """The extra parameters of fastnn estimator class ``Fast`` (the classifier also has loss)."""
    from sklearn.base import is_classifier

    if is_classifier(Fast()):
        return {**EXTRA_PARAMS, "loss": "log_loss"}
    return dict(EXTRA_PARAMS)


def fit_quiet(est, X, y, **fit_params):
    """Fit, ignoring only ConvergenceWarning (small max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def partial_fit_quiet(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.partial_fit(X, y, **fit_params)


def run_adam_epoch(trainer, params, m, v, t, *args):
    """``trainer.run_epoch_adam`` returning ``(accumulated_loss, t_after)``.

    The binding keeps the step counter ``t`` in an int64 array of shape (1,) that
    it updates in place (so Ctrl-C mid-epoch leaves it consistent) and returns only
    the loss; the first contract draft took an int and returned ``(loss, t)``.
    Both forms are accepted here; ``args`` are the remaining arguments
    (X, Y, sample_weight, order, learning_rate_init, beta_1, beta_2, epsilon).
    """
    import numpy as np

    t_arr = np.array([t], dtype=np.int64)
    try:
        out = trainer.run_epoch_adam(params, m, v, t_arr, *args)
    except TypeError:
        out = trainer.run_epoch_adam(params, m, v, int(t), *args)
    if isinstance(out, tuple):
        loss, t_after = out
        return loss, int(t_after)
    return out, int(t_arr[0])


def core_predict(net, params, X, n_threads=0):
    """``_core.predict`` for a ``_core.Network`` and a flat parameter vector in scikit-learn's
    ``_pack`` order: the per-layer arrays are views of ``params``."""
    from fastnn import _core

    units = net.layer_units
    coefs, intercepts, start = [], [], 0
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for fan_out in units[1:]:
        intercepts.append(params[start : start + fan_out])
        start += fan_out
    return _core.predict(
        coefs, intercepts, net.hidden_activation, net.output_activation, net.leaky_slope, X,
        n_threads,
    )
