"""The lecture notes' segmentation by pixel classification, on a synthetic noisy RGB image.

The notes pose semantic segmentation as learning a map c = f(y, θ) from an image y to a label
per pixel, and reduce it to "extract features, then classify in the feature space" (possible
features: colour, neighbours, edges). This script builds a 128x128 RGB image of a background
and three coloured shapes (disc, rectangle, triangle) with similar colours, adds Gaussian noise,
labels a random 3% of the pixels, and trains an MLP on per-pixel features:

- the pixel's own RGB values (3 features);
- the RGB values plus the means of its 3x3 neighbourhood (6 features): averaging 9 pixels cuts
  the noise's standard deviation by 3, so the colours separate much better.

It prints the pixel accuracy on the pixels not used for training and shows the noisy input, the
truth and both segmentations side by side.

Run from the repository root::

    python examples/pixel_classification.py
    python examples/pixel_classification.py --quick
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from scipy.ndimage import uniform_filter
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    plt.switch_backend("Agg")  # no display: render to files only

SIZE = 128
NOISE = 0.2  # standard deviation of the Gaussian noise on each channel (colours in [0, 1])
TRAIN_FRACTION = 0.03
CLASS_NAMES = ["background", "disc", "rectangle", "triangle"]
CLASS_COLOURS = np.array([  # the clean RGB colour of each class: close enough to confuse
    [0.45, 0.50, 0.55],
    [0.75, 0.40, 0.40],
    [0.40, 0.70, 0.45],
    [0.70, 0.65, 0.35],
])


def synthetic_image(rng):
    """(labels (SIZE, SIZE) int, noisy image (SIZE, SIZE, 3) float in [0, 1])."""
    r, c = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1.0)
    labels = np.zeros((SIZE, SIZE), dtype=np.int64)
    labels[(r - 0.30) ** 2 + (c - 0.30) ** 2 < 0.18 ** 2] = 1  # disc
    labels[(r > 0.55) & (r < 0.90) & (c > 0.15) & (c < 0.55)] = 2  # rectangle
    labels[(r > 0.15) & (r < 0.85) & (c > 0.60) & (c - 0.60 < 0.35 * (r - 0.15) / 0.70)
           & (c < 0.95)] = 3  # triangle
    image = CLASS_COLOURS[labels] + rng.normal(0.0, NOISE, (SIZE, SIZE, 3))
    return labels, np.clip(image, 0.0, 1.0)


def pixel_features(image, neighbourhood):
    """One row per pixel: its RGB, and optionally the 3x3 neighbourhood's mean RGB."""
    features = [image.reshape(-1, 3)]
    if neighbourhood:
        means = uniform_filter(image, size=(3, 3, 1), mode="reflect")
        features.append(means.reshape(-1, 3))
    return np.hstack(features)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few epochs (smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "figures",
                        help="directory for the PNG (default: examples/figures/)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    labels, image = synthetic_image(rng)
    y = labels.ravel()
    train = np.zeros(y.size, dtype=bool)
    train[rng.choice(y.size, int(TRAIN_FRACTION * y.size), replace=False)] = True
    print(f"{SIZE}x{SIZE} image, {len(CLASS_NAMES)} classes, noise σ={NOISE}; "
          f"{train.sum()} labelled training pixels ({TRAIN_FRACTION:.0%})")

    segmentations = {}
    for neighbourhood in (False, True):
        X = pixel_features(image, neighbourhood)
        model = MLPClassifier(hidden_layer_sizes=(32, 32), max_iter=10 if args.quick else 300,
                              random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            t0 = time.perf_counter()
            model.fit(X[train], y[train])
            seconds = time.perf_counter() - t0
        predicted = model.predict(X)
        accuracy = np.mean(predicted[~train] == y[~train])
        name = "RGB + 3x3 means" if neighbourhood else "RGB only"
        segmentations[name] = (predicted.reshape(labels.shape), accuracy)
        print(f"features {name:<16} ({X.shape[1]}): pixel accuracy {accuracy:.1%} on the "
              f"{(~train).sum()} other pixels; fit {seconds:.2f} s, {model.n_iter_} epochs")

    cmap = ListedColormap(CLASS_COLOURS)
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.9))
    axes[0].imshow(image)
    axes[0].set_title(f"noisy input (σ = {NOISE})")
    axes[1].imshow(labels, cmap=cmap, vmin=0, vmax=len(CLASS_NAMES) - 1)
    axes[1].set_title("truth")
    for ax, (name, (segmentation, accuracy)) in zip(axes[2:], segmentations.items()):
        ax.imshow(segmentation, cmap=cmap, vmin=0, vmax=len(CLASS_NAMES) - 1)
        ax.set_title(f"MLP on {name}: {accuracy:.1%}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Segmentation by pixel classification "
                 f"(MLP 32-32, trained on {TRAIN_FRACTION:.0%} of the pixels)")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "pixel_classification.png"
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
