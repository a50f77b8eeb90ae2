"""solver='adamw' (decoupled weight decay, alpha the decay) and solver='rmsprop': PyTorch's
torch.optim.AdamW / RMSprop from the same initial weights (the same trajectory to rounding), and
their effect on a regularised fit."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import MLPClassifier, MLPRegressor

from _util import fit_quiet


def _start(X, y, **params):
    """A regressor whose next fit (warm start, a fresh optimizer) starts from known weights."""
    model = fit_quiet(MLPRegressor(max_iter=1, **params), X, y)
    rng = np.random.default_rng(5)
    model.coefs_ = [rng.normal(scale=0.5, size=c.shape) for c in model.coefs_]
    model.intercepts_ = [rng.normal(scale=0.1, size=b.shape) for b in model.intercepts_]
    return model.set_params(warm_start=True)


def _torch_trajectory(model, X, y, solver, steps):
    torch = pytest.importorskip("torch")
    layers = [torch.nn.Linear(c.shape[0], c.shape[1]).double() for c in model.coefs_]
    with torch.no_grad():
        for layer, c, b in zip(layers, model.coefs_, model.intercepts_):
            layer.weight.copy_(torch.from_numpy(c.T.copy()))
            layer.bias.copy_(torch.from_numpy(b.copy()))
    weights = [layer.weight for layer in layers]
    biases = [layer.bias for layer in layers]
    if solver == "adamw":
        optimizer = torch.optim.AdamW(
            [{"params": weights, "weight_decay": model.alpha},
             {"params": biases, "weight_decay": 0.0}],
            lr=model.learning_rate_init, betas=(model.beta_1, model.beta_2), eps=model.epsilon)
    elif solver == "rprop":
        optimizer = torch.optim.Rprop(weights + biases, lr=model.learning_rate_init)
    else:
        optimizer = torch.optim.RMSprop(weights + biases, lr=model.learning_rate_init,
                                        alpha=model.beta_2, eps=model.epsilon)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.reshape(-1, 1))
    for _ in range(steps):
        optimizer.zero_grad()
        a = Xt
        for i, layer in enumerate(layers):
            a = layer(a)
            if i < len(layers) - 1:
                a = torch.tanh(a)
        loss = 0.5 * ((a - yt) ** 2).mean()  # squared_error: ½ the mean squared error
        loss.backward()
        optimizer.step()
    return [w.detach().numpy().T for w in weights], [b.detach().numpy() for b in biases]


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "rprop"])
def test_the_trajectory_is_pytorchs(solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = np.sin(X[:, 0]) + X[:, 1]
    params = dict(hidden_layer_sizes=(8, 6), activation="tanh", solver=solver,
                  batch_size=64, shuffle=False, learning_rate_init=0.01, random_state=0,
                  alpha=0.05 if solver == "adamw" else 0.0, beta_2=0.99,
                  n_iter_no_change=np.inf)
    model = _start(X, y, **params)
    coefs, intercepts = _torch_trajectory(model, X, y, solver, steps=25)
    fit_quiet(model.set_params(max_iter=25), X, y)  # full batch: one step an epoch
    for ours, theirs in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_adamw_decay_is_decoupled_from_the_loss():
    # alpha is adamw's decay, not an L2 term of the loss: the recorded loss is the data loss,
    # and the weights shrink by (1 - lr * alpha) a step besides Adam's update
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0, shuffle=False)
    plain = fit_quiet(MLPClassifier(solver="adamw", alpha=0.0, **params), X, y[:300])
    decayed = fit_quiet(MLPClassifier(solver="adamw", alpha=1.0, **params), X, y[:300])
    assert np.linalg.norm(decayed.coefs_[0]) < np.linalg.norm(plain.coefs_[0])
    # intercepts are not decayed: with alpha the only difference, they stay close
    assert not np.array_equal(decayed.intercepts_[0], plain.intercepts_[0])


def test_adamw_decay_regularises_a_small_noisy_fit():
    # 300 digits, 20% of the labels replaced at random: without decay the wide network fits the
    # noise; AdamW's decay (alpha) keeps the weights small and the test accuracy much higher
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(300) < 0.2, rng.integers(0, 10, 300), y[:300])
    fits = {alpha: fit_quiet(MLPClassifier((128,), solver="adamw", alpha=alpha, max_iter=150,
                                           learning_rate_init=0.01, random_state=0),
                             X[:300], noisy) for alpha in (0.0, 3.0)}
    assert np.linalg.norm(fits[3.0].coefs_[0]) < np.linalg.norm(fits[0.0].coefs_[0]) / 2
    assert fits[3.0].score(X[300:], y[300:]) > fits[0.0].score(X[300:], y[300:]) + 0.1


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "rprop"])
def test_saved_resumed_and_bad_uses(solver, tmp_path):
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    model = fit_quiet(MLPClassifier((8,), solver=solver, max_iter=3, random_state=0,
                                    lr_schedule=None if solver == "rprop" else "cosine"), X, y)
    fastnn.save(model, tmp_path / "m.fastnn")
    loaded = fastnn.load(tmp_path / "m.fastnn")
    for m in (model, loaded):
        m.partial_fit(X, y, epochs=2)
    for a, b in zip(model.coefs_, loaded.coefs_):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=f"scikit-learn's MLPs have no solver='{solver}'"):
        model.to_sklearn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="The 'solver' parameter of MLPClassifier"):
            MLPClassifier(solver="irprop").fit(X, y)


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "rprop"])
def test_each_step_is_the_numpy_reference_step(solver):
    # full batch, no shuffle: epoch k is step k, from the core's gradient at the weights before
    from fastnn import _core

    from _reference import pack

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    y = X[:, 0] * X[:, 1]
    params = dict(hidden_layer_sizes=(6,), activation="tanh", solver=solver, batch_size=40,
                  shuffle=False, learning_rate_init=0.02, alpha=0.1, beta_2=0.9,
                  random_state=0, n_iter_no_change=np.inf)
    model = _start(X, y, **params)
    p = pack(model.coefs_, model.intercepts_)
    n_coefs = sum(c.size for c in model.coefs_)
    net = _core.Network([4, 6, 1], "tanh", "identity", "squared_error")
    m, v = np.zeros_like(p), np.zeros_like(p)
    previous, step = np.zeros_like(p), np.full_like(p, 0.02)
    lr, b1, b2, eps, decay = 0.02, 0.9, 0.9, 1e-8, 0.1
    for t in range(1, 4):
        g = np.empty_like(p)
        # rmsprop and rprop keep scikit-learn's L2 term in the gradient; adamw decays instead
        _core.loss_and_gradient(net, p, X, y.reshape(-1, 1), None,
                                0.0 if solver == "adamw" else decay, g)
        if solver == "rprop":  # iRprop-
            sign = g * previous
            step = np.clip(step * np.where(sign > 0, 1.2, np.where(sign < 0, 0.5, 1.0)),
                           1e-6, 50)
            g = np.where(sign < 0, 0.0, g)
            p = p - np.sign(g) * step
            previous = g
            continue
        v = b2 * v + (1 - b2) * g * g
        if solver == "rmsprop":
            p = p - lr * g / (np.sqrt(v) + eps)
            continue
        m = b1 * m + (1 - b1) * g
        p[:n_coefs] *= 1 - lr * decay
        p = p - lr / (1 - b1**t) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
    fit_quiet(model.set_params(max_iter=3), X, y)
    np.testing.assert_allclose(pack(model.coefs_, model.intercepts_), p, rtol=1e-12, atol=1e-15)


def test_rprop_trains_full_batch_faster_than_full_batch_adam():
    # FANN's default training: on a small problem, full-batch iRprop- reaches a far lower
    # training loss in the same number of epochs than full-batch Adam or SGD
    X, y = load_digits(return_X_y=True)
    X, y = X[:500] / 16, y[:500]
    losses = {}
    for solver in ("rprop", "adam", "sgd"):
        model = fit_quiet(MLPClassifier((32,), solver=solver, batch_size=500, max_iter=100,
                                        learning_rate_init=0.01, n_iter_no_change=np.inf,
                                        random_state=0), X, y)
        losses[solver] = model.loss_
    assert losses["rprop"] < losses["adam"] / 3 and losses["rprop"] < losses["sgd"] / 3, losses
    with pytest.raises(ValueError, match="do not apply to solver='rprop'"):
        MLPClassifier(solver="rprop", lr_schedule="cosine").fit(X, y)
