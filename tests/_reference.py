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

fastnn's extras beyond scikit-learn: ``leaky_relu`` (slope for z < 0), ``elu``, ``softplus``,
``silu`` and ``gelu`` (their textbook formulas, through scipy.special), residual hidden layers
(``a[i+1] = a[i] + act(a[i] @ W[i] + b[i])`` for a square hidden layer after the first), and the
``quadratic`` loss on logistic outputs (``0.5 * sum over outputs of (y - ŷ)**2``, averaged over
samples). ``loss_and_gradient`` is an independent backpropagation of all of it.

Parameters use scikit-learn's ``_pack`` order: all coefs (row-major ``(fan_in,
fan_out)``) first, then all intercepts.
"""

import numpy as np
from scipy.special import expit, ndtr, xlogy

HIDDEN_ACTIVATIONS = [
    "identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "gelu",
]
SKLEARN_HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# (output activation, loss) pairs used by scikit-learn
OUTPUT_LOSS_PAIRS = [
    ("identity", "squared_error"),
    ("logistic", "binary_log_loss"),
    ("softmax", "log_loss"),
    ("exp", "poisson"),
]
# ... and every pair the core supports: the classifier's loss="squared_error" is the quadratic
# cost on logistic outputs
ALL_OUTPUT_LOSS_PAIRS = OUTPUT_LOSS_PAIRS + [("logistic", "quadratic")]

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
    if name == "elu":  # α = 1
        return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0)))
    if name == "softplus":
        return np.logaddexp(0, Z)
    if name == "silu":
        return Z * expit(Z)
    if name == "gelu":  # exact: Φ, the standard normal distribution function
        return Z * ndtr(Z)
    if name == "exp":
        return np.exp(Z)
    if name == "softmax":
        tmp = np.exp(Z - Z.max(axis=1)[:, np.newaxis])
        return tmp / tmp.sum(axis=1)[:, np.newaxis]
    raise ValueError(name)


def residual_layers(layer_units, residual=True):
    """Per weight layer, whether it is residual: a hidden layer after the first whose fan_in
    equals its fan_out (the core's rule; all False when ``residual`` is False)."""
    n = len(layer_units) - 1
    return [
        bool(residual) and 1 <= i < n - 1 and layer_units[i] == layer_units[i + 1]
        for i in range(n)
    ]


def activation_derivative(name, A, Z, leaky_slope=LEAKY_SLOPE):
    """g'(z) in terms of the activation's output A = g(z) (scikit-learn's convention: relu's
    derivative is 0 where z <= 0; leaky_relu's is its slope there), or of Z itself for the
    activations whose derivative is no function of their output."""
    if name == "elu":
        return np.where(Z > 0, 1, np.exp(np.minimum(Z, 0))).astype(A.dtype)
    if name == "softplus":
        return expit(Z)
    if name == "silu":
        return expit(Z) * (1 + Z * (1 - expit(Z)))
    if name == "gelu":
        return ndtr(Z) + Z * np.exp(-Z * Z / 2) / np.sqrt(2 * np.pi)
    if name == "identity":
        return np.ones_like(A)
    if name == "logistic":
        return A * (1 - A)
    if name == "tanh":
        return 1 - A**2
    if name == "relu":
        return (A > 0).astype(A.dtype)
    if name == "leaky_relu":
        return np.where(A > 0, 1, leaky_slope).astype(A.dtype)
    raise ValueError(name)


def forward(params, layer_units, X, hidden, output, leaky_slope=LEAKY_SLOPE, residual=None):
    """Output-layer activations (like sklearn's ``_forward_pass_fast``). residual: per weight
    layer, whether it is residual (see ``residual_layers``), or None for none."""
    coefs, intercepts = unpack(params, layer_units)
    a = X
    n_layers = len(layer_units)
    for i in range(n_layers - 1):
        z = a @ coefs[i] + intercepts[i]
        if i != n_layers - 2:
            a = activate(hidden, z, leaky_slope) + (a if residual and residual[i] else 0)
        else:
            a = activate(output, z, leaky_slope)
    return a


def data_loss(loss, Y, P, sample_weight=None, eps=None):
    """scikit-learn's LOSS_FUNCTIONS[loss](Y, P, sample_weight) (and fastnn's quadratic).
    eps: the log losses' clipping bound, ``finfo(P.dtype).eps`` unless given (a float32 model's
    loss evaluated in float64 clips at float32's eps)."""
    if loss == "squared_error":
        return 0.5 * np.average((Y - P) ** 2, weights=sample_weight, axis=0).mean()
    if loss == "quadratic":
        return 0.5 * np.average(((Y - P) ** 2).sum(axis=1), weights=sample_weight)
    if loss == "poisson":
        return np.average(
            xlogy(Y, Y / P) - Y + P, weights=sample_weight, axis=0
        ).sum()
    if eps is None:
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
    elif loss in ("binary_log_loss", "quadratic"):
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


def loss_and_gradient(
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
    residual=None,
    eps=None,
):
    """Loss and packed gradient by plain backpropagation, with scikit-learn's conventions: the
    output delta is ``(ŷ - y) * w`` for every canonical loss (so squared_error's gradient is that
    of the loss *summed* over outputs), ``(ŷ - y) ŷ (1 - ŷ) w`` for quadratic; coefficient
    gradients ``(a.T @ delta + alpha * W) / sw_sum``, intercepts ``delta.sum(0) / sw_sum``.
    residual: per weight layer (see ``residual_layers``) or None. Computed in X's dtype."""
    coefs, intercepts = unpack(params, layer_units)
    n_layers = len(coefs)
    residual = residual or [False] * n_layers
    # inputs[i]: layer i's input a[i];  gz[i], zs[i]: g(z) and z of hidden layer i (g(z) is its
    # output minus the residual input)
    inputs, gz, zs = [X], [], []
    for i in range(n_layers):
        z = inputs[-1] @ coefs[i] + intercepts[i]
        if i + 1 < n_layers:
            zs.append(z)
            gz.append(activate(hidden, z, leaky_slope))
            inputs.append(gz[-1] + (inputs[-1] if residual[i] else 0))
        else:
            P = activate(output, z, leaky_slope)
    value = data_loss(loss, Y, P, sample_weight, eps=eps)
    sw = np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else sample_weight
    sw_sum = sw.sum()
    value += 0.5 * alpha * sum(np.dot(c.ravel(), c.ravel()) for c in coefs) / sw_sum
    delta = (P - Y) * sw[:, np.newaxis]
    if loss == "quadratic":
        delta = delta * P * (1 - P)
    coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
    d_output = None  # dL/da[i + 1], the output of layer i (the skip path of a residual layer)
    for i in range(n_layers - 1, -1, -1):
        coef_grads[i] = (inputs[i].T @ delta + alpha * coefs[i]) / sw_sum
        intercept_grads[i] = delta.sum(axis=0) / sw_sum
        if i == 0:
            break
        d_input = delta @ coefs[i].T  # dL/da[i] through layer i's product
        if residual[i]:
            d_input = d_input + d_output  # ... and through its skip connection
        d_output = d_input
        delta = d_input * activation_derivative(hidden, gz[i - 1], zs[i - 1], leaky_slope)
    return value, pack(coef_grads, intercept_grads)


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


def relu_softmax_loss_and_gradient(units, params, X, Y, w, alpha):
    """Independent reference for a relu network with a softmax output (layer units `units`):
    weighted log-loss plus L2, and its gradient as the core lays out parameters."""
    shapes = list(zip(units[:-1], units[1:]))
    coefs, intercepts, start = [], [], 0
    for fan_in, fan_out in shapes:
        coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for _, fan_out in shapes:
        intercepts.append(params[start : start + fan_out])
        start += fan_out
    acts = [X]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = acts[-1] @ W + b
        if i + 1 < len(coefs):
            acts.append(np.maximum(z, 0))
        else:
            z = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(z / z.sum(axis=1, keepdims=True))
    sw = w.sum()
    p = np.clip(acts[-1], np.finfo(X.dtype).eps, 1 - np.finfo(X.dtype).eps)
    loss = -(w[:, None] * Y * np.log(p)).sum() / sw
    loss += 0.5 * alpha * sum((W**2).sum() for W in coefs) / sw
    delta = (acts[-1] - Y) * w[:, None]
    grads_W, grads_b = [None] * len(coefs), [None] * len(coefs)
    for i in range(len(coefs) - 1, -1, -1):
        grads_W[i] = (acts[i].T @ delta + alpha * coefs[i]) / sw
        grads_b[i] = delta.sum(axis=0) / sw
        if i > 0:
            delta = (delta @ coefs[i].T) * (acts[i] > 0)
    return loss, np.concatenate([g.ravel() for g in grads_W] + grads_b)
