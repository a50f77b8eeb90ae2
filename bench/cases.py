"""The training workloads: the Case dataclass, the case list, their data and hyperparameters.

Every system trains a case with the same hyperparameters (``mlp_params``; fastnn and
scikit-learn through ``sklearn_api_model``) on the same deterministic float32 data
(``Case.data``). The FLOP count of a training epoch, from which
GFLOP/s and the fraction of the GEMM ceiling are computed, is ``training_flops_per_sample``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import fastnn

SEED = 0
ALPHA = 1e-4  # scikit-learn's default L2 penalty, used by all three systems


def training_flops_per_sample(layer_units):
    """Flops one training sample costs in the weight products, at 2 flops per multiply-add.

    With P = sum of fan_in * fan_out (the multiply-adds of a forward pass) and W0 the first
    layer's fan_in * fan_out: forward ``A @ W`` 2P, weight gradients ``A.T @ dZ`` 2P, and
    gradients of the hidden activations ``dZ @ W.T`` 2(P - W0): no system computes the gradient
    with respect to X. Biases, activations, the loss and the optimizer step are not counted,
    so a run can never honestly exceed the GEMM ceiling.
    """
    weights = [fan_in * fan_out for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:])]
    forward = 2 * sum(weights)
    weight_gradients = 2 * sum(weights)
    activation_gradients = 2 * sum(weights[1:])
    return forward + weight_gradients + activation_gradients


@dataclass(frozen=True)
class Case:
    """One training workload (its targets are in targets.py)."""

    name: str
    n_samples: int
    n_features: int
    hidden: tuple
    n_classes: int
    batch_size: int
    epochs: int  # fastnn's epochs (and the peers', unless peer_epochs is set)
    peer_epochs: int | None = None  # fewer epochs for slow peers; time is reported per epoch
    activation: str = "relu"  # hidden activation (scikit-learn runs only its own four)
    solver: str = "adam"  # "adam" (lr 1e-3) or "sgd" (lr sgd_lr, no momentum)
    sgd_lr: float = 0.05
    multilabel: bool = False  # y is an indicator matrix: logistic outputs, binary log-loss

    @property
    def layer_units(self):
        return [self.n_features, *self.hidden, self.n_classes]

    @property
    def n_weights(self):
        """Multiply-adds per sample of one forward pass: sum of fan_in * fan_out."""
        units = self.layer_units
        return sum(a * b for a, b in zip(units[:-1], units[1:]))

    @property
    def flops_per_epoch(self):
        return float(self.n_samples * training_flops_per_sample(self.layer_units))

    def runs_on(self, system):
        """Whether `system` has this case's activation (scikit-learn has not fastnn's)."""
        return system != "scikit-learn" or self.activation in ("identity", "logistic", "tanh",
                                                                "relu")

    def epochs_of(self, system):
        return self.epochs if system == "fastnn" or self.peer_epochs is None else self.peer_epochs

    def quick(self):
        """A smoke-test version: a tenth of the rows, one epoch (higham: few epochs)."""
        if self.name == "higham":
            return dataclasses.replace(self, epochs=200, peer_epochs=100)
        return dataclasses.replace(self, n_samples=max(self.n_samples // 10, 1000), epochs=1)

    def data(self):
        """Deterministic float32 data: (X, y) with y class labels, or the indicator matrix."""
        if self.name == "higham":
            return higham_data()
        return gaussian_blobs(self.n_samples, self.n_features, self.n_classes, seed=SEED)

    def summary(self):
        """The case as JSON-able data, with its weight and FLOP counts."""
        return dict(dataclasses.asdict(self), n_weights=self.n_weights,
                    flops_per_sample=training_flops_per_sample(self.layer_units))


CASES = {
    case.name: case
    for case in [
        Case("small", 20000, 64, (100,), 10, 200, epochs=10),
        Case("mnist", 60000, 784, (256, 128), 10, 128, epochs=3),
        Case("tiny_batch", 20000, 784, (256, 128), 10, 32, epochs=3),
        Case("wide", 16384, 1024, (2048, 2048), 10, 512, epochs=2),
        Case("higham", 10, 2, (2, 3), 2, 1, epochs=10_000, peer_epochs=1000,
             activation="logistic", solver="sgd", sgd_lr=0.05, multilabel=True),
        # a deep net of one shape per activation: the same products, so the GFLOP/s differ only
        # by what the activations (and their derivatives) cost
        *(Case(f"deep_{activation}", 20000, 64, (256, 256, 256), 10, 200, epochs=3,
               activation=activation)
          for activation in ("relu", "tanh", "logistic", "elu", "softplus", "silu", "gelu")),
    ]
}


def mlp_params(case, epochs):
    """scikit-learn / fastnn hyperparameters: exactly `epochs` epochs, no early stop."""
    params = dict(
        hidden_layer_sizes=case.hidden, activation=case.activation, solver=case.solver,
        alpha=ALPHA, batch_size=case.batch_size, max_iter=epochs, tol=0.0,
        n_iter_no_change=10**9, shuffle=True, early_stopping=False, random_state=SEED,
    )
    if case.solver == "sgd":
        params.update(learning_rate="constant", learning_rate_init=case.sgd_lr, momentum=0.0)
    else:
        params.update(learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    return params


def sklearn_api_model(system, case, epochs, threads):
    """fastnn's or scikit-learn's MLPClassifier for `case`, running exactly `epochs` epochs."""
    params = mlp_params(case, epochs)
    if system == "fastnn":
        return fastnn.MLPClassifier(**params, n_threads=threads)
    return SkMLPClassifier(**params)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached, by design
        model.fit(X, y)


def gaussian_blobs(n_samples, n_features, n_classes, seed, separation=4.0, chunk=8192):
    """Balanced Gaussian class blobs, float32, generated in chunks (no float64 copy of X).

    Class centres are drawn with norm ~ ``separation``, noise is unit-variance per feature, so
    two centres are ~ separation * sqrt(2) noise standard deviations apart: the Bayes accuracy
    is ~98%, enough for a short training run to show whether it learns.
    """
    rng = np.random.default_rng(seed)
    centres = (rng.standard_normal((n_classes, n_features)) * separation
               / np.sqrt(n_features)).astype(np.float32)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        X[start:stop] = rng.standard_normal((stop - start, n_features), dtype=np.float32)
        X[start:stop] += centres[y[start:stop]]
    return X, y


def higham_data():
    """Higham & Higham's 10-point toy problem: class A (first five) -> [1,0], B -> [0,1]."""
    x1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7]
    x2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]
    X = np.array([x1, x2], dtype=np.float32).T.copy()
    Y = np.zeros((10, 2), dtype=np.int64)
    Y[:5, 0] = 1
    Y[5:, 1] = 1
    return X, Y
