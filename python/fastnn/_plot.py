"""``fastnn.plot_loss_curve``: a fitted model's training curve, with matplotlib (optional)."""

import numpy as np
from sklearn.base import is_classifier

__all__ = ["plot_loss_curve"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "fastnn.plot_loss_curve needs matplotlib: pip install matplotlib "
            "(or pip install fastnn[examples])"
        ) from exc
    return plt


def plot_loss_curve(model, ax=None):
    """Plot the training loss per epoch, and the validation loss and score when early stopping
    ran.

    Parameters
    ----------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor (or scikit-learn's)
        A model fitted with ``solver='sgd'`` or ``'adam'`` (``loss_curve_`` is per epoch;
        ``lbfgs`` keeps no curve).
    ax : matplotlib.axes.Axes, default=None
        Where to draw; None draws on the current Axes (``plt.gca()``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes with the loss curve (epochs on x, ``model.loss_`` on y) and, with early
        stopping, fastnn's ``validation_loss_curve_``; the validation scores are on a twin
        Axes with its own y axis (right), available as ``ax.right_ax`` (also in the figure's
        axes).
    """
    loss_curve = getattr(model, "loss_curve_", None)
    if loss_curve is None:
        raise ValueError(
            "plot_loss_curve needs a model fitted with solver='sgd' or 'adam' (it plots "
            "loss_curve_); got %s." % (
                "an unfitted model" if not hasattr(model, "coefs_")
                else "solver=%r" % getattr(model, "solver", None)
            )
        )
    plt = _pyplot()
    if ax is None:
        ax = plt.gca()
    epochs = range(1, len(loss_curve) + 1)
    (loss_line,) = ax.plot(epochs, loss_curve, color="C0", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    lines = [loss_line]
    validation_loss = getattr(model, "validation_loss_curve_", None)  # fastnn's, early stopping
    if validation_loss and not np.isnan(validation_loss).all():
        (val_line,) = ax.plot(range(1, len(validation_loss) + 1), validation_loss, color="C2",
                              label="validation loss")
        ax.set_ylabel("loss")
        lines.append(val_line)
    scores = getattr(model, "validation_scores_", None)
    if scores:
        right = ax.twinx()
        scoring = getattr(model, "scoring", None)  # fastnn's early-stopping score
        name = ("accuracy" if is_classifier(model) else "R²") if scoring is None else (
            "negative loss" if scoring == "loss" else scoring if isinstance(scoring, str)
            else "score")
        (score_line,) = right.plot(range(1, len(scores) + 1), scores, color="C1",
                                   label="validation %s" % name)
        right.set_ylabel("validation %s" % name)
        best = getattr(model, "best_validation_score_", None)
        if best is not None:
            right.axhline(best, color="C1", linestyle=":", linewidth=1)
        lines.append(score_line)
        ax.right_ax = right
        ax.figure.sca(ax)  # twinx made the twin current: pyplot calls go on to the loss Axes
    ax.set_title("%s loss curve" % type(model).__name__)
    ax.legend(lines, [line.get_label() for line in lines], loc="best")
    return ax
