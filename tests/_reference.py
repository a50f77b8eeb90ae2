"""Independent NumPy reference for the fastnn core (test helper, not a test module).

Follows scikit-learn 1.9 ``sklearn/neural_network/_base.py`` and
``_multilayer_perceptron.py`` formulas:

* forward pass: ``a[i+1] = act(a[i] @ W[i] + b[i])`` with the hidden activation on
  hidden layers and the output activation on the last layer;
* losses: ``squared_loss`` (half squared error averaged over samples *and* outputs),
  ``log_loss`` / ``binary_log_loss`` (probabilities clipped to ``[eps, 1-eps]`` with
  ``eps = finfo(dtype).eps``), ``poisson_loss`` (``xlogy(y, y/ŷ) - y + ŷ`` averaged
  over samples, summed over outputs);
* L2 term ``0.5 * alpha * sum(W**2) / sw_sum`` with ``sw_sum = n`` or
  ``sample_weight.sum()``.

Parameters use scikit-learn's ``_pack`` order: all coefs (row-major ``(fan_in,
fan_out)``) first, then all intercepts.
"""

import numpy as np
from scipy.special import expit, xlogy

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu"]
SKLEARN_HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# (output activation, loss) pairs used by scikit-learn
OUTPUT_LOSS_PAIRS = [
    ("identity", "squared_error"),
    ("logistic", "binary_log_loss"),
    ("softmax", "log_loss"),
    ("exp", "poisson"),
]

LEAKY_SLOPE = 0.01


def n_params(layer_units):
    return sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))


def pack(coefs, intercepts):
    return np.hstack([c.ravel() for c in coefs] + [b.ravel() for b in intercepts])


def unpack(params, layer_units):
    """Views of the packed vector as lists (coefs, intercepts)."""
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        end = start + fan_in * fan_out
        coefs.append(params[start:end].reshape(fan_in, fan_out))
        start = end
    for fan_out in layer_units[1:]:
        end = start + fan_out
        intercepts.append(params[start:end])
        start = end
    assert start == params.shape[0]
    return coefs, intercepts


def activate(name, Z, leaky_slope=LEAKY_SLOPE):
    if name == "identity":
        return Z.copy()
    if name == "logistic":
        return expit(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, leaky_slope * Z)
    if name == "exp":
        return np.exp(Z)
    if name == "softmax":
        tmp = np.exp(Z - Z.max(axis=1)[:, np.newaxis])
        return tmp / tmp.sum(axis=1)[:, np.newaxis]
    raise ValueError(name)


def forward(params, layer_units, X, hidden, output, leaky_slope=LEAKY_SLOPE):
    """Output-layer activations (like sklearn's ``_forward_pass_fast``)."""
    coefs, intercepts = unpack(params, layer_units)
    a = X
    n_layers = len(layer_units)
    for i in range(n_layers - 1):
        z = a @ coefs[i] + intercepts[i]
        if i != n_layers - 2:
            a = activate(hidden, z, leaky_slope)
        else:
            a = activate(output, z, leaky_slope)
    return a


def data_loss(loss, Y, P, sample_weight=None):
    """scikit-learn's LOSS_FUNCTIONS[loss](Y, P, sample_weight)."""
    if loss == "squared_error":
        return 0.5 * np.average((Y - P) ** 2, weights=sample_weight, axis=0).mean()
    if loss == "poisson":
        return np.average(
            xlogy(Y, Y / P) - Y + P, weights=sample_weight, axis=0
        ).sum()
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    if loss == "binary_log_loss":
        return -np.average(
            xlogy(Y, P) + xlogy(1 - Y, 1 - P), weights=sample_weight, axis=0
        ).sum()
    if loss == "log_loss":
        if P.shape[1] == 1:
            P = np.append(1 - P, P, axis=1)
        if Y.shape[1] == 1:
            Y = np.append(1 - Y, Y, axis=1)
        return -np.average(xlogy(Y, P), weights=sample_weight, axis=0).sum()
    raise ValueError(loss)


def total_loss(
    params,
    layer_units,
    X,
    Y,
    hidden,
    output,
    loss,
    alpha,
    sample_weight=None,
    leaky_slope=LEAKY_SLOPE,
):
    """Loss exactly as sklearn's ``_backprop`` returns it (data term + L2 term)."""
    P = forward(params, layer_units, X, hidden, output, leaky_slope)
    value = data_loss(loss, Y, P, sample_weight)
    coefs, _ = unpack(params, layer_units)
    sq = 0.0
    for c in coefs:
        s = c.ravel()
        sq += np.dot(s, s)
    sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
    return value + (0.5 * alpha) * sq / sw_sum


def make_targets(rng, loss, n_samples, n_outputs, dtype=np.float64):
    """Targets of the right kind for a loss, as an (n, n_outputs) array."""
    if loss == "squared_error":
        Y = rng.normal(size=(n_samples, n_outputs))
    elif loss == "poisson":
        Y = rng.poisson(lam=1.5, size=(n_samples, n_outputs)).astype(float)
    elif loss == "binary_log_loss":
        Y = (rng.uniform(size=(n_samples, n_outputs)) < 0.5).astype(float)
        # make sure both labels are present in every column
        Y[0, :] = 0.0
        Y[1, :] = 1.0
    elif loss == "log_loss":
        labels = np.arange(n_samples) % n_outputs
        rng.shuffle(labels)
        Y = np.eye(n_outputs)[labels]
    else:
        raise ValueError(loss)
    return np.ascontiguousarray(Y, dtype=dtype)


def sklearn_backprop(est, params, layer_units, X, Y, sample_weight=None):
    """Loss and packed gradient from scikit-learn's private ``_backprop``.

    ``est`` is an (unfitted) sklearn MLPClassifier/MLPRegressor with the right
    ``activation``, ``alpha`` and ``loss``; ``est.out_activation_`` must be set.
    The work lists are built the way ``BaseMultilayerPerceptron._fit`` builds them.
    """
    coefs, intercepts = unpack(params.copy(), layer_units)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    est.n_layers_ = len(layer_units)
    activations = [X] + [None] * (len(layer_units) - 1)
    deltas = [None] * (len(activations) - 1)
    coef_grads = [
        np.empty((a, b), dtype=X.dtype) for a, b in zip(layer_units[:-1], layer_units[1:])
    ]
    intercept_grads = [np.empty(b, dtype=X.dtype) for b in layer_units[1:]]
    loss, coef_grads, intercept_grads = est._backprop(
        X, Y, sample_weight, activations, deltas, coef_grads, intercept_grads
    )
    return loss, pack(coef_grads, intercept_grads)
