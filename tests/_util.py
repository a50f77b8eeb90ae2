"""Small shared helpers for the fastnn tests (not a test module)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning


def openmp_runtimes_limiting_fastnn():
    """(every OpenMP runtime threadpoolctl lists, the ones whose limit of 1 thread also limits
    fastnn's core): which of the process's runtimes is fastnn's."""
    from threadpoolctl import ThreadpoolController

    from fastnn import _core

    controller = ThreadpoolController()
    openmp = [lib.filepath for lib in controller.select(user_api="openmp").lib_controllers]
    limiting = []
    for path in openmp:
        with controller.select(filepath=path).limit(limits=1):
            if _core.max_threads() == 1:
                limiting.append(path)
    return openmp, limiting


# fastnn's keyword-only additions to scikit-learn's parameters, with their defaults (which keep
# scikit-learn's behaviour), in signature order.
EXTRA_PARAMS = {
    "n_threads": None,
    "leaky_relu_slope": 0.01,
    "dropout": 0.0,
    "weight_init": "sklearn",
    "residual": False,
}


# The training-control keywords both estimators end with.
_TRAINING_CONTROL = {"scoring": None, "lr_schedule": None, "warmup_epochs": 0}


def extra_params(Fast):
    """The extra parameters of fastnn estimator class ``Fast`` (the classifier also has loss and
    class_weight; both end with the training-control keywords)."""
    from sklearn.base import is_classifier

    if is_classifier(Fast()):
        return {**EXTRA_PARAMS, "loss": "log_loss", "class_weight": None, **_TRAINING_CONTROL}
    return {**EXTRA_PARAMS, **_TRAINING_CONTROL, "huber_delta": 1.0, "quantile": 0.5}


def fit_quiet(est, X, y, **fit_params):
    """Fit, ignoring only ConvergenceWarning (small max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def partial_fit_quiet(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.partial_fit(X, y, **fit_params)


def one_epoch_rule(learning_rate, epoch=0):
    """The ``_core.EpochRule`` of an epoch run with ``apply_rule=False`` (which leaves it
    untouched): the core reads SGD's learning rate and the dropout counter (``epoch``, its
    samples_seen) from it; the stopping rule's fields play no part."""
    from fastnn import _core

    return _core.EpochRule(
        tol=1e-4, n_iter_no_change=10, schedule="constant", criterion="training_loss",
        learning_rate_init=learning_rate, power_t=0.5, learning_rate=learning_rate,
        best=np.inf, no_improvement_count=0, samples_seen=epoch,
    )


def run_epoch(trainer, solver, params, state, X, Y, sample_weight, order, *,
              learning_rate=1e-3, momentum=0.9, nesterov=True, beta_1=0.9, beta_2=0.999,
              epsilon=1e-8, epoch=0):
    """One epoch of ``trainer`` (``solver``: "sgd" or "adam") over the rows in ``order`` (None:
    in order), through ``run_epochs_*(..., apply_rule=False)``; returns the epoch's mean loss.

    ``state`` is the optimizer state the core updates in place: SGD's velocity, or Adam's
    ``(m, v, t)`` with the step count ``t`` an int64 array of shape (1,). ``learning_rate`` is
    SGD's rate or Adam's learning_rate_init; ``epoch`` is the dropout counter (the rule's
    samples_seen at the epoch's start). Ctrl-C raises KeyboardInterrupt.
    """
    rule = one_epoch_rule(learning_rate, epoch)
    losses = np.empty(1)
    if solver == "sgd":
        epochs, interrupted = trainer.run_epochs_sgd(
            params, state, X, Y, sample_weight, order, None, None, rule, losses, momentum,
            nesterov, apply_rule=False,
        )
    else:
        m, v, t = state
        epochs, interrupted = trainer.run_epochs_adam(
            params, m, v, t, X, Y, sample_weight, order, None, None, rule, losses,
            learning_rate, beta_1, beta_2, epsilon, apply_rule=False,
        )
    if interrupted:
        raise KeyboardInterrupt
    assert epochs == 1
    return losses[0]


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


def assert_sparse_gradient_equals_dense(net, params, X, Y, w):
    """``_core.loss_and_gradient`` of float64 X as a dense array and as a CSR holder agree
    (loss to 1e-12, gradient to 1e-9 relative)."""
    import numpy as np
    import scipy.sparse as sp

    from fastnn import _core

    dense_grad, sparse_grad = np.empty_like(params), np.empty_like(params)
    dense = _core.loss_and_gradient(net, params, X, Y, w, 0.0, dense_grad)
    csr = sp.csr_matrix(X)
    holder = _core.CsrMatrix64(csr.data, csr.indices.astype(np.int32),
                               csr.indptr.astype(np.int64), X.shape[1])
    sparse = _core.loss_and_gradient(net, params, holder, Y, w, 0.0, sparse_grad)
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)
    np.testing.assert_allclose(sparse_grad, dense_grad, rtol=1e-9, atol=1e-14)


# The training state a continued fit carries (bitwise equal in two models trained alike).
TRAINING_STATE = ("loss_curve_", "validation_scores_", "validation_loss_curve_", "t_",
                  "best_loss_", "best_validation_score_", "_no_improvement_count")


def assert_same_training(a, b):
    """Two models trained to the same bits: weights (and their dtypes), the training state
    each has (TRAINING_STATE) and the optimizer's learning rate."""
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)
    for name in TRAINING_STATE:
        assert getattr(a, name, "absent") == getattr(b, name, "absent"), name
    if hasattr(a, "_optimizer") and hasattr(b, "_optimizer"):
        assert a._optimizer.learning_rate == b._optimizer.learning_rate
