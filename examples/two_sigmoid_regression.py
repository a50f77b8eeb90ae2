"""The lecture notes' two-sigmoid regression: a 1-2-1 sigmoid network recovers its construction.

The notes build the function

    y(x) = b + (a - b) / (1 + exp(-k1 (x - m1))) + (c - b) / (1 + exp(-k2 (x - m2)))

(a plateau at b, a step up to a around m1, a second step around m2) and observe that a network
with one hidden layer of two sigmoid units and an identity output,

    y_hat(x) = v1 σ(w1 x + β1) + v2 σ(w2 x + β2) + v0,

equals it exactly for w1 = k1, β1 = -k1 m1, w2 = k2, β2 = -k2 m2, v1 = a - b, v2 = c - b,
v0 = b. This script samples noisy data from y(x), fits ``fastnn.MLPRegressor(hidden_layer_sizes=
(2,), activation='logistic', solver='lbfgs')`` and checks that the learned weights are the
constructed ones, up to the network's symmetries:

- the two hidden units may come out in either order (permutation);
- σ(-z) = 1 - σ(z), so a unit (w, β, v) computes the same as (-w, -β, -v) with v added to the
  output bias. Learned units with w < 0 are flipped to w > 0 before comparing.

The quadratic cost has poor local minima here (e.g. one unit fitting both steps), so the script
fits from several random starts and keeps the one with the lowest training cost.

Run from the repository root::

    python examples/two_sigmoid_regression.py
    python examples/two_sigmoid_regression.py --quick
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from fastnn import MLPRegressor

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    plt.switch_backend("Agg")  # no display: render to files only

# The construction: plateau b, steps of a - b at m1 (steepness k1) and c - b at m2 (k2).
A, B, C = 2.0, 0.5, 1.5
K1, M1, K2, M2 = 20.0, 0.3, 30.0, 0.7
N_SAMPLES, NOISE = 200, 0.02


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def two_sigmoids(x):
    return B + (A - B) * sigmoid(K1 * (x - M1)) + (C - B) * sigmoid(K2 * (x - M2))


def constructed_weights():
    """Per hidden unit (w, β, v), and the output bias v0, of the network that equals y(x)."""
    units = np.array([[K1, -K1 * M1, A - B], [K2, -K2 * M2, C - B]])
    return units, B


def learned_weights(model):
    """The fitted (w, β, v) per hidden unit and v0, in the construction's canonical form:
    every unit flipped to w > 0 (σ(-z) = 1 - σ(z)), units ordered by their step's position."""
    w = model.coefs_[0][0].copy()
    beta = model.intercepts_[0].copy()
    v = model.coefs_[1][:, 0].copy()
    v0 = float(model.intercepts_[1][0])
    for j in np.flatnonzero(w < 0):
        v0 += v[j]  # v σ(-z) = v - v σ(z)
        w[j], beta[j], v[j] = -w[j], -beta[j], -v[j]
    order = np.argsort(-beta / w)  # the step position m = -β / w
    return np.column_stack([w, beta, v])[order], v0


def fit_best_of(x, y, n_starts):
    """lbfgs from ``n_starts`` random initial weights; the fit with the lowest cost."""
    best = None
    for seed in range(n_starts):
        model = MLPRegressor(
            hidden_layer_sizes=(2,),
            activation="logistic",
            solver="lbfgs",
            alpha=0.0,  # no L2 penalty: it would shrink the steep weights k1, k2
            max_iter=5000,
            max_fun=50000,
            tol=1e-12,
            random_state=seed,
        ).fit(x[:, None], y)
        if best is None or model.loss_ < best.loss_:
            best = model
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer random starts (smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "figures",
                        help="directory for the PNG (default: examples/figures/)")
    args = parser.parse_args(argv)
    n_starts = 4 if args.quick else 10

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.0, 1.0, N_SAMPLES))
    y = two_sigmoids(x) + rng.normal(0.0, NOISE, N_SAMPLES)

    t0 = time.perf_counter()
    model = fit_best_of(x, y, n_starts)
    seconds = time.perf_counter() - t0

    units, v0 = learned_weights(model)
    true_units, true_v0 = constructed_weights()
    rows = [
        ("w1 = k1", units[0, 0], true_units[0, 0]),
        ("β1 = -k1 m1", units[0, 1], true_units[0, 1]),
        ("w2 = k2", units[1, 0], true_units[1, 0]),
        ("β2 = -k2 m2", units[1, 1], true_units[1, 1]),
        ("v1 = a - b", units[0, 2], true_units[0, 2]),
        ("v2 = c - b", units[1, 2], true_units[1, 2]),
        ("v0 = b", v0, true_v0),
    ]
    mse = np.mean((model.predict(x[:, None]) - y) ** 2)
    print(f"best of {n_starts} lbfgs fits in {seconds:.2f} s (random_state={model.random_state}, "
          f"{model.n_iter_} iterations), training MSE {mse:.2e} (noise variance {NOISE ** 2:.1e})")
    print(f"{'parameter':<14}{'learned':>10}{'constructed':>13}")
    for name, got, want in rows:
        print(f"{name:<14}{got:>10.3f}{want:>13.3f}")

    # Loose: the data are noisy and finite, so the minimiser is near, not at, the construction.
    np.testing.assert_allclose(units[:, :2], true_units[:, :2], rtol=0.2)
    np.testing.assert_allclose(units[:, 2], true_units[:, 2], atol=0.1)
    assert abs(v0 - true_v0) < 0.1, v0
    print("learned weights match the construction (up to permutation and sign symmetry)")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    grid = np.linspace(0.0, 1.0, 400)
    ax.scatter(x, y, s=8, color="0.6", label="data (noisy samples of y(x))")
    ax.plot(grid, two_sigmoids(grid), color="k", lw=1, ls="--", label="construction y(x)")
    ax.plot(grid, model.predict(grid[:, None]), color="tab:red", lw=2, label="1-2-1 network fit")
    for j, (w, beta, v) in enumerate(units):
        sign = "-" if beta < 0 else "+"
        label = f"hidden unit {j + 1}: {v:.2f} σ({w:.1f} x {sign} {abs(beta):.1f})"
        ax.plot(grid, v0 * (j == 0) + v * sigmoid(w * grid + beta), lw=1, alpha=0.7,
                label=label + (" + v0" if j == 0 else ""))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Two-sigmoid regression with a 1-2-1 sigmoid network")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "two_sigmoid_regression.png"
    fig.savefig(path, dpi=90)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
