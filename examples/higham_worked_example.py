"""The lecture notes' worked example: a 2-2-3-2 sigmoid network trained by single-sample SGD.

Higham & Higham, "Deep Learning: An Introduction for Applied Mathematicians" (SIAM Review
2019), section 2: ten points in the unit square, the first five in category A (target [1, 0]),
the last five in category B (target [0, 1]). The network F: R^2 -> R^2 has two hidden layers
of 2 and 3 sigmoid units and 2 sigmoid outputs (23 parameters), weights and biases drawn from
N(0, 0.5^2). It minimises the quadratic cost

    Cost = 1/10 sum_i ½ ||y(x_i) - F(x_i)||²

by stochastic gradient descent, one point per step, learning rate 0.05, for 10^6 steps. A
point x is classified A where F1(x) > F2(x). Then the same with an eleventh point (0.3, 0.7)
in category B, which forces a more complicated boundary.

In fastnn this is ``MLPClassifier(hidden_layer_sizes=(2, 3), activation='logistic',
loss='squared_error', weight_init=0.5, solver='sgd', batch_size=1, momentum=0, alpha=0,
learning_rate_init=0.05, learning_rate='constant')`` with 10^5 epochs of 10 points.

Two outputs, not one: for two classes scikit-learn's label binarizer gives a single output unit
(a 2-2-3-1 network). To get the notes' two sigmoid outputs the targets are passed as the one-hot
(n, 2) indicator matrix [[1, 0], ..., [0, 1]]: the classifier is then multilabel with 2 logistic
outputs, and ``loss='squared_error'`` is exactly the notes' ½||y - F(x)||² per point.
``predict`` would threshold each output at 0.5 on its own; the notes' rule F1 > F2 is applied to
``predict_proba`` (for a multilabel model: the raw sigmoid outputs F(x)).

Run from the repository root::

    python examples/higham_worked_example.py            # 10^6 steps per data set
    python examples/higham_worked_example.py --quick    # 2,000 steps (smoke test)
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    plt.switch_backend("Agg")  # no display: render to files only

X1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7]
X2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]
EXTRA_POINT = (0.3, 0.7)  # category B
RANDOM_STATE = 0


def notes_data(extra_point=False):
    """The ten points (eleven with the extra one) and their one-hot targets, (n, 2) each."""
    X = np.column_stack([X1, X2])
    Y = np.zeros((10, 2), dtype=np.int64)
    Y[:5, 0] = 1  # category A: y = [1, 0]
    Y[5:, 1] = 1  # category B: y = [0, 1]
    if extra_point:
        X = np.vstack([X, EXTRA_POINT])
        Y = np.vstack([Y, [0, 1]])
    return X, Y


def notes_network(epochs):
    # The notes' SGD draws a random point (with replacement) at every step; scikit-learn's and
    # fastnn's shuffle=True instead visit every point once per epoch in a fresh random order
    # (sampling without replacement). Same step count, same cost, same learning rate.
    return MLPClassifier(
        hidden_layer_sizes=(2, 3),
        activation="logistic",
        loss="squared_error",  # ½||y - F(x)||² on sigmoid outputs
        weight_init=0.5,  # weights and biases from N(0, 0.5²)
        solver="sgd",
        batch_size=1,  # one point per step
        momentum=0.0,  # plain SGD
        alpha=0.0,  # no L2 penalty
        learning_rate="constant",
        learning_rate_init=0.05,
        max_iter=epochs,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=np.inf,  # never stop early: run every step
        random_state=RANDOM_STATE,
    )


def notes_cost(model, X, Y):
    """The notes' cost 1/N sum ½||y(x_i) - F(x_i)||² at the current weights."""
    F = model.predict_proba(X)  # multilabel model: the raw sigmoid outputs F(x)
    return 0.5 * np.mean(np.sum((Y - F) ** 2, axis=1))


def train(X, Y, epochs):
    model = notes_network(epochs)
    with warnings.catch_warnings():
        # max_iter is the step budget, not a convergence failure.
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X, Y)
        seconds = time.perf_counter() - t0
    return model, seconds


def plot_run(ax_cost, ax_region, model, X, Y, title):
    steps_per_epoch = X.shape[0]
    steps = np.arange(1, len(model.loss_curve_) + 1) * steps_per_epoch
    ax_cost.semilogy(steps, model.loss_curve_, lw=1)
    ax_cost.set_xlabel("SGD steps")
    ax_cost.set_ylabel("cost (mean over each epoch)")
    ax_cost.set_title(title + ": cost history")
    ax_cost.grid(True, which="both", alpha=0.3)

    g = np.linspace(0.0, 1.0, 301)
    G1, G2 = np.meshgrid(g, g)
    F = model.predict_proba(np.column_stack([G1.ravel(), G2.ravel()]))
    region_a = (F[:, 0] > F[:, 1]).reshape(G1.shape)
    ax_region.contourf(G1, G2, region_a, levels=[-0.5, 0.5, 1.5], colors=["#f4cccc", "#cfe2f3"])
    a = Y[:, 0] == 1
    ax_region.scatter(X[a, 0], X[a, 1], marker="o", s=60, facecolors="none", edgecolors="tab:blue",
                      linewidths=2, label="A")
    ax_region.scatter(X[~a, 0], X[~a, 1], marker="x", s=60, color="tab:red", linewidths=2,
                      label="B")
    ax_region.set_xlim(0, 1)
    ax_region.set_ylim(0, 1)
    ax_region.set_aspect("equal")
    ax_region.set_xlabel("$x_1$")
    ax_region.set_ylabel("$x_2$")
    ax_region.set_title(title + ": $F_1(x) > F_2(x)$ (blue)")
    ax_region.legend(loc="upper left", fontsize=8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 steps, for a smoke test")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "figures",
                        help="directory for the PNG (default: examples/figures/)")
    args = parser.parse_args(argv)
    epochs = 200 if args.quick else 100_000  # 10 points per epoch: 10^6 steps in full

    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    for row, extra in enumerate([False, True]):
        X, Y = notes_data(extra)
        model, seconds = train(X, Y, epochs)
        steps = epochs * X.shape[0]
        F = model.predict_proba(X)
        correct = np.mean((F[:, 0] > F[:, 1]) == (Y[:, 0] == 1))
        label = "11 points (extra B at (0.3, 0.7))" if extra else "10 points"
        print(f"{label}: {steps:,} SGD steps in {seconds:.3f} s "
              f"({1e6 * seconds / steps:.2f} us/step); "
              f"final cost {notes_cost(model, X, Y):.3e} "
              f"(last epoch's mean {model.loss_curve_[-1]:.3e}); "
              f"training points classified correctly: {correct:.0%}")
        plot_run(axes[row, 0], axes[row, 1], model, X, Y, "11 points" if extra else "10 points")

    fig.suptitle(f"2-2-3-2 sigmoid network, quadratic cost, SGD (lr 0.05, {epochs * 10:,} steps)")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "higham_worked_example.png"
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
