"""Docstring text shared by both estimators: fastnn's extra parameters, documented once."""

__all__ = ["documents_extras"]

# fastnn's additions to scikit-learn's parameters, documented once for both estimators.
EXTRAS_DOC = """
    n_threads : int, default=None
        Threads used for training and prediction. None uses every core the process may use
        (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``). Results are bitwise
        identical whatever the number of threads.

    leaky_relu_slope : float, default=0.01
        The slope ``a`` of ``activation='leaky_relu'`` for z < 0: g(z) = z for z >= 0, a·z
        otherwise (the lecture notes use a = 0.1). Ignored by the other activations.

    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden layers' outputs (one rate for all, or one per hidden layer),
        in [0, 1). Training samples a thinned network per example and mini-batch (kept units
        scaled by 1 / (1 - rate)); prediction uses the whole network, so every unit's expected
        output is the same in both. Masks come from a counter-based generator keyed by
        ``random_state``, the epoch and the row: results stay bitwise identical whatever the
        number of threads. Stochastic solvers only.

    weight_init : {'sklearn', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'} \\
            or float, default='sklearn'
        Initial weights. 'sklearn' draws exactly as scikit-learn does; Glorot/Xavier
        (variance 2 / (fan_in + fan_out)) and He (variance 2 / fan_in) draw the weights and
        start the intercepts at zero; a float sigma draws weights and intercepts from
        N(0, sigma^2).

    residual : bool, default=False
        Residual hidden layers: every hidden layer as wide as the hidden layer before it
        computes y[l+1] = y[l] + g(W y[l] + b) (the lecture notes' form). Needs two consecutive
        hidden layers of the same width.
"""


def documents_extras(cls):
    """Class decorator: the shared description of fastnn's extra parameters, appended to the
    class docstring (which ends with the estimator's own additions)."""
    cls.__doc__ = cls.__doc__.rstrip() + "\n" + EXTRAS_DOC
    return cls
